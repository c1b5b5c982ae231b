//! Storm tracks: best-track CSV files and synthetic straight-line tracks, the local map
//! projection that puts a track on the city grid, and interpolation in time.
//!
//! Internally every track point carries the 1-min maximum sustained surface wind (m/s),
//! the central pressure (Pa) and the radius of maximum wind (m), whatever the file's
//! units; gaps are filled by the cited relations below with a warning.

use std::path::Path;

use crate::files::{InputPolicy, MAX_TABLE_BYTES, read_input};

/// Mean Earth radius, m (IUGG, Moritz 2000).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Knots to m/s (1 kn = 1852 m / 3600 s, exact).
pub const KNOT_M_S: f64 = 1852.0 / 3600.0;
/// Nautical mile, m (exact).
pub const NMI_M: f64 = 1852.0;

/// A local equirectangular (plate carrée) projection about the grid's south-west corner:
/// x east = R cos φ0 (λ − λ0), y north = R (φ − φ0), offset by the grid origin. Over a
/// city and the few hundred km where a typhoon matters the distortion stays below 1–2 %.
#[derive(Debug, Clone, Copy)]
pub struct LocalProjection {
    pub lat0: f64,
    pub lon0: f64,
    /// Map x, y of (lat0, lon0): the grid's south-west corner.
    pub x0: f64,
    pub y0: f64,
    cos_lat0: f64,
}

impl LocalProjection {
    pub fn new(lat0: f64, lon0: f64, x0: f64, y0: f64) -> Self {
        Self {
            lat0,
            lon0,
            x0,
            y0,
            cos_lat0: lat0.to_radians().cos(),
        }
    }
    /// Map coordinates (m) of a geographic point (degrees).
    pub fn to_map(&self, lat: f64, lon: f64) -> (f64, f64) {
        (
            self.x0 + EARTH_RADIUS_M * self.cos_lat0 * (lon - self.lon0).to_radians(),
            self.y0 + EARTH_RADIUS_M * (lat - self.lat0).to_radians(),
        )
    }
    /// Geographic point (degrees) of map coordinates (m).
    pub fn to_geo(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.lat0 + ((y - self.y0) / EARTH_RADIUS_M).to_degrees(),
            self.lon0 + ((x - self.x0) / (EARTH_RADIUS_M * self.cos_lat0)).to_degrees(),
        )
    }
}

/// Great-circle distance (haversine), m.
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Atkinson & Holliday (1977, Mon. Wea. Rev. 105:421) western North Pacific
/// wind–pressure relation: V (kt, 1-min) = 6.7 (1010 − p_c)^0.644. Returns p_c in hPa.
pub fn pressure_from_wind_ah77(v_kt: f64) -> f64 {
    1010.0 - (v_kt.max(0.0) / 6.7).powf(1.0 / 0.644)
}

/// The inverse of [`pressure_from_wind_ah77`]: V (kt, 1-min) from p_c (hPa).
pub fn wind_from_pressure_ah77(p_hpa: f64) -> f64 {
    6.7 * (1010.0 - p_hpa).max(0.0).powf(0.644)
}

/// Willoughby, Darling & Rahn (2006, Mon. Wea. Rev. 134:1102) radius of maximum wind:
/// R_max = 46.4 exp(−0.0155 V_max + 0.0169 |φ|) km, V_max in m/s. Returns metres.
pub fn rmw_willoughby_2006(vmax_m_s: f64, lat: f64) -> f64 {
    1000.0 * 46.4 * (-0.0155 * vmax_m_s + 0.0169 * lat.abs()).exp()
}

/// One track point in internal units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// Seconds since 1970-01-01T00:00Z.
    pub time: f64,
    pub lat: f64,
    pub lon: f64,
    /// Maximum sustained 1-min surface wind, m/s.
    pub vmax: f64,
    /// Central pressure, Pa.
    pub pc: f64,
    /// Radius of maximum wind, m.
    pub rmw: f64,
}

/// A track problem at a line of its file.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackIssue {
    pub line: u64,
    pub message: String,
}

/// A best track read from CSV, with the warnings raised while filling gaps.
#[derive(Debug, Clone)]
pub struct BestTrack {
    pub points: Vec<TrackPoint>,
    pub warnings: Vec<String>,
}

impl BestTrack {
    /// The points with times in seconds after `t0` (the run's start), as the plugin uses.
    pub fn relative_to(&self, t0: f64) -> Vec<TrackPoint> {
        self.points
            .iter()
            .map(|p| TrackPoint {
                time: p.time - t0,
                ..*p
            })
            .collect()
    }
}

/// What the file's wind column holds, and the conversion to 1-min sustained wind.
#[derive(Debug, Clone, Copy)]
pub struct WindColumnUnits {
    /// Multiply the wind column by this to get 1-min sustained m/s.
    pub to_1min_m_s: f64,
}

/// The columns recognised (case-insensitive) and their units.
const TIME_COLS: [&str; 3] = ["iso_time_utc", "iso_time", "time"];
const WIND_KT_COLS: [&str; 3] = ["max_wind_kt_1min", "vmax_kt_1min", "vmax_kt"];
const WIND_MS_COLS: [&str; 2] = ["max_wind_ms_1min", "vmax_m_s"];
const PRES_COLS: [&str; 3] = ["central_pressure_hpa", "pres_hpa", "mslp_hpa"];
const RMW_NMI_COLS: [&str; 1] = ["rmw_nmi"];
const RMW_KM_COLS: [&str; 1] = ["rmw_km"];

/// Every column name the reader recognises, for error messages about the header.
pub fn accepted_columns() -> String {
    format!(
        "accepted columns (case-insensitive): time {}; `lat`; `lon`; wind in kt {} or in m/s \
         {}; central pressure {}; radius of maximum wind {} or {} (wind or pressure required, \
         radius optional)",
        TIME_COLS.join("/"),
        WIND_KT_COLS.join("/"),
        WIND_MS_COLS.join("/"),
        PRES_COLS.join("/"),
        RMW_NMI_COLS.join("/"),
        RMW_KM_COLS.join("/"),
    )
}

/// Read a best-track CSV (comment lines start with `#`). Columns, by header name:
/// time (`iso_time_utc`), `lat`, `lon`, wind (`max_wind_kt_1min` / `vmax_kt_1min` in kt
/// or `max_wind_ms_1min` in m/s), `central_pressure_hpa`, `rmw_nmi` or `rmw_km`.
/// `wind_scale` converts the file's wind to 1-min sustained (1 for JTWC/IBTrACS-USA).
/// `max_gap_h` is the longest accepted gap between consecutive points.
///
/// Reads a regular file of at most [`MAX_TABLE_BYTES`] anywhere; a scenario's track
/// should be read with [`read_best_track_with`] and the scenario's input policy.
pub fn read_best_track(
    path: &Path,
    wind_scale: f64,
    max_gap_h: f64,
) -> Result<BestTrack, TrackIssue> {
    read_best_track_with(path, &InputPolicy::anywhere(), wind_scale, max_gap_h)
}

/// [`read_best_track`] of a file that `inputs` allows (see [`crate::files`]).
pub fn read_best_track_with(
    path: &Path,
    inputs: &InputPolicy,
    wind_scale: f64,
    max_gap_h: f64,
) -> Result<BestTrack, TrackIssue> {
    let text = read_input(path, inputs, MAX_TABLE_BYTES).map_err(|e| TrackIssue {
        line: 0,
        message: e.to_string(),
    })?;
    parse_best_track(&text, wind_scale, max_gap_h)
}

/// A parsed row before gap filling: the optional fields may be blank in the file.
struct Row {
    line: u64,
    time: f64,
    lat: f64,
    lon: f64,
    vmax: Option<f64>,
    pc: Option<f64>,
    rmw: Option<f64>,
}

/// [`read_best_track`] on text.
pub fn parse_best_track(
    text: &str,
    wind_scale: f64,
    max_gap_h: f64,
) -> Result<BestTrack, TrackIssue> {
    let mut rd = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rd
        .headers()
        .map_err(|e| TrackIssue {
            line: e.position().map_or(0, |p| p.line()),
            message: format!("cannot read the header: {e}"),
        })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let header_line = text
        .lines()
        .position(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map_or(1, |k| k as u64 + 1);
    let col = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h == n))
    };
    // What the header holds, escaped and cut short: the file may not be a track at all
    // (a file named by mistake), and its content is not echoed beyond a glimpse.
    let header_seen = crate::files::excerpt(&headers.join(","), 80);
    let need = |names: &[&str], what: &str| {
        col(names).ok_or_else(|| TrackIssue {
            line: header_line,
            message: format!(
                "no {what} column (expected one of: {}); the header starts {header_seen}; \
                 {}",
                names.join(", "),
                accepted_columns()
            ),
        })
    };
    let c_time = need(&TIME_COLS, "time")?;
    let c_lat = need(&["lat"], "latitude")?;
    let c_lon = need(&["lon"], "longitude")?;
    let c_wind_kt = col(&WIND_KT_COLS);
    let c_wind_ms = col(&WIND_MS_COLS);
    let c_pres = col(&PRES_COLS);
    let c_rmw_nmi = col(&RMW_NMI_COLS);
    let c_rmw_km = col(&RMW_KM_COLS);
    if c_wind_kt.is_none() && c_wind_ms.is_none() && c_pres.is_none() {
        return Err(TrackIssue {
            line: header_line,
            message: format!(
                "the track has neither a wind nor a central-pressure column; {}",
                accepted_columns()
            ),
        });
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut warnings = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| TrackIssue {
            line: e.position().map_or(0, |p| p.line()),
            message: format!("bad CSV record: {e}"),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let field = |c: usize| rec.get(c).unwrap_or("").trim();
        let number = |c: Option<usize>, what: &str| -> Result<Option<f64>, TrackIssue> {
            let Some(c) = c else { return Ok(None) };
            let s = field(c);
            if s.is_empty() {
                return Ok(None);
            }
            let v: f64 = s.parse().map_err(|_| TrackIssue {
                line,
                message: format!("{what} `{s}` is not a number"),
            })?;
            if !v.is_finite() {
                return Err(TrackIssue {
                    line,
                    message: format!("{what} is {s}: give a finite number or leave it blank"),
                });
            }
            Ok(Some(v))
        };
        let time =
            crate::time::parse_utc(field(c_time)).map_err(|m| TrackIssue { line, message: m })?;
        let lat = number(Some(c_lat), "latitude")?.ok_or_else(|| TrackIssue {
            line,
            message: "the latitude is missing".into(),
        })?;
        let lon = number(Some(c_lon), "longitude")?.ok_or_else(|| TrackIssue {
            line,
            message: "the longitude is missing".into(),
        })?;
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=360.0).contains(&lon) {
            return Err(TrackIssue {
                line,
                message: format!("position {lat}, {lon} is not a latitude/longitude in degrees"),
            });
        }
        let vmax = match (number(c_wind_kt, "wind")?, number(c_wind_ms, "wind")?) {
            (Some(kt), _) => Some(kt * KNOT_M_S * wind_scale),
            (None, Some(ms)) => Some(ms * wind_scale),
            _ => None,
        };
        let pc = number(c_pres, "central pressure")?;
        if let Some(p) = pc
            && !(850.0..=1050.0).contains(&p)
        {
            return Err(TrackIssue {
                line,
                message: format!("central pressure {p} hPa is outside 850–1050 hPa"),
            });
        }
        if let Some(v) = vmax
            && !(0.0..=120.0).contains(&v)
        {
            return Err(TrackIssue {
                line,
                message: format!("wind {v:.1} m/s is outside 0–120 m/s"),
            });
        }
        let rmw = match (number(c_rmw_nmi, "RMW")?, number(c_rmw_km, "RMW")?) {
            (Some(n), _) => Some(n * NMI_M),
            (None, Some(k)) => Some(k * 1000.0),
            _ => None,
        };
        if let Some(r) = rmw
            && !(1000.0..=500_000.0).contains(&r)
        {
            return Err(TrackIssue {
                line,
                message: format!(
                    "radius of maximum wind {:.1} km is outside 1–500 km",
                    r / 1e3
                ),
            });
        }
        if let Some(prev) = rows.last() {
            if time <= prev.time {
                return Err(TrackIssue {
                    line,
                    message: format!(
                        "time {} is not after the previous point's (line {}): sort the track \
                         and remove duplicates",
                        field(c_time),
                        prev.line
                    ),
                });
            }
            let gap_h = (time - prev.time) / 3600.0;
            if gap_h > max_gap_h {
                return Err(TrackIssue {
                    line,
                    message: format!(
                        "a {gap_h:.1} h gap after line {} (at most {max_gap_h} h accepted)",
                        prev.line
                    ),
                });
            }
        }
        rows.push(Row {
            line,
            time,
            lat,
            lon,
            vmax,
            pc,
            rmw,
        });
    }

    // Rows with neither wind nor pressure carry only a position: drop them at the ends
    // (IBTrACS pads tracks so), refuse them inside the track.
    let has_intensity = |r: &Row| r.vmax.is_some() || r.pc.is_some();
    let first = rows.iter().position(has_intensity);
    let last = rows.iter().rposition(has_intensity);
    let (Some(first), Some(last)) = (first, last) else {
        return Err(TrackIssue {
            line: header_line,
            message: "no point of the track has a wind or a pressure".into(),
        });
    };
    if first > 0 || last + 1 < rows.len() {
        warnings.push(format!(
            "{} track point(s) without wind or pressure at the ends of the track were dropped",
            first + rows.len() - 1 - last
        ));
    }
    let rows: Vec<Row> = rows.drain(first..=last).collect();
    if let Some(r) = rows.iter().find(|r| !has_intensity(r)) {
        return Err(TrackIssue {
            line: r.line,
            message: "this point has neither wind nor central pressure".into(),
        });
    }
    if rows.len() < 2 {
        return Err(TrackIssue {
            line: rows[0].line,
            message: "a track needs at least two points with an intensity".into(),
        });
    }

    // Pressure: interpolate in time between points that have one (best tracks often give
    // it only at synoptic times); otherwise from the wind by Atkinson & Holliday (1977).
    let pcs = fill_by_time(&rows, |r| r.pc);
    let mut ah_p = Vec::new();
    let mut ah_v = Vec::new();
    let mut points = Vec::with_capacity(rows.len());
    for (k, r) in rows.iter().enumerate() {
        let pc = match pcs[k] {
            Some(p) => p,
            None => {
                let v = r.vmax.expect("a point has wind or pressure");
                ah_p.push(r.line);
                pressure_from_wind_ah77(v / KNOT_M_S)
            }
        };
        let vmax = match r.vmax {
            Some(v) => v,
            None => {
                ah_v.push(r.line);
                wind_from_pressure_ah77(pc) * KNOT_M_S
            }
        };
        points.push(TrackPoint {
            time: r.time,
            lat: r.lat,
            lon: r.lon,
            vmax,
            pc: pc * 100.0,
            rmw: 0.0,
        });
    }
    if !ah_p.is_empty() {
        warnings.push(format!(
            "central pressure missing at line(s) {}: estimated from the wind by Atkinson & \
             Holliday (1977)",
            list_lines(&ah_p)
        ));
    }
    if !ah_v.is_empty() {
        warnings.push(format!(
            "wind missing at line(s) {}: estimated from the pressure by Atkinson & Holliday (1977)",
            list_lines(&ah_v)
        ));
    }
    // RMW: interpolate between given values; outside them (or with no RMW column) use
    // Willoughby et al. (2006).
    let rmws = fill_by_time(&rows, |r| r.rmw);
    let mut wdr = Vec::new();
    for (k, p) in points.iter_mut().enumerate() {
        p.rmw = match rmws[k] {
            Some(r) => r,
            None => {
                wdr.push(rows[k].line);
                rmw_willoughby_2006(p.vmax, p.lat)
            }
        };
    }
    if !wdr.is_empty() {
        warnings.push(format!(
            "radius of maximum wind missing at line(s) {}: estimated by Willoughby, Darling & \
             Rahn (2006) from wind and latitude",
            list_lines(&wdr)
        ));
    }
    Ok(BestTrack { points, warnings })
}

/// Values of an optional field at every row: given ones, linear in time between given
/// ones, `None` before the first and after the last.
fn fill_by_time(rows: &[Row], f: impl Fn(&Row) -> Option<f64>) -> Vec<Option<f64>> {
    let known: Vec<usize> = (0..rows.len()).filter(|&k| f(&rows[k]).is_some()).collect();
    let mut out = vec![None; rows.len()];
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (va, vb) = (f(&rows[a]).unwrap_or(0.0), f(&rows[b]).unwrap_or(0.0));
        for (k, o) in out.iter_mut().enumerate().take(b + 1).skip(a) {
            let s = (rows[k].time - rows[a].time) / (rows[b].time - rows[a].time);
            *o = Some(va + s * (vb - va));
        }
    }
    if let [only] = known[..] {
        out[only] = f(&rows[only]);
    }
    out
}

fn list_lines(lines: &[u64]) -> String {
    if lines.len() <= 6 {
        lines
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        format!(
            "{}, … ({} points)",
            lines[..5]
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            lines.len()
        )
    }
}

/// The storm at one instant, on the city's map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StormState {
    pub lat: f64,
    pub lon: f64,
    /// Storm centre on the map, m.
    pub x: f64,
    pub y: f64,
    /// 1-min maximum sustained surface wind, m/s.
    pub vmax: f64,
    /// Central pressure, Pa.
    pub pc: f64,
    /// Radius of maximum wind, m.
    pub rmw: f64,
    /// Translation velocity (east, north), m/s.
    pub vt: (f64, f64),
    /// Pressure tendency, hPa/h (for Holland 2008).
    pub dpdt_hpa_h: f64,
    /// Whether `t` is within the track's time span (outside it the storm is absent).
    pub active: bool,
}

/// A straight-line synthetic storm for what-if studies and Monte Carlo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Synthetic {
    /// Landfall (or closest) point, degrees.
    pub lat: f64,
    pub lon: f64,
    /// Time the centre is at that point, s since the scenario start.
    pub t_landfall: f64,
    /// Direction of motion, degrees clockwise from north.
    pub heading_deg: f64,
    pub speed_m_s: f64,
    /// 1-min maximum sustained surface wind at landfall, m/s.
    pub vmax: f64,
    /// Central pressure, Pa.
    pub pc: f64,
    pub rmw: f64,
    /// Apply Kaplan & DeMaria (1995) inland decay after landfall.
    pub inland_decay: bool,
    /// Environmental pressure, Pa (for keeping Δp consistent with the decayed wind).
    pub penv: f64,
}

/// Kaplan & DeMaria (1995, J. Appl. Meteor. 34:2499) inland decay: V(t) = V_b + (R V_0
/// − V_b) e^{−α t}, V_b = 26.7 kt, R = 0.9, α = 0.095 h⁻¹ (t in h since landfall).
pub fn kaplan_demaria_1995(v0_m_s: f64, hours: f64) -> f64 {
    let vb = 26.7 * KNOT_M_S;
    if v0_m_s <= vb {
        return v0_m_s;
    }
    vb + (0.9 * v0_m_s - vb) * (-0.095 * hours).exp()
}

/// A storm track of either kind.
#[derive(Debug, Clone)]
pub enum Track {
    /// Best-track points; time in seconds since the scenario start.
    Points(Vec<TrackPoint>),
    Synthetic(Synthetic),
}

impl Track {
    /// The storm at `t` s since the scenario start.
    pub fn state(&self, t: f64, proj: &LocalProjection) -> StormState {
        match self {
            Track::Points(p) => interpolate(p, t, proj),
            Track::Synthetic(s) => synthetic_state(s, t, proj),
        }
    }

    /// Times (s since the scenario start) the track is defined over.
    pub fn span(&self) -> (f64, f64) {
        match self {
            Track::Points(p) => (p[0].time, p[p.len() - 1].time),
            Track::Synthetic(_) => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }
}

fn interpolate(p: &[TrackPoint], t: f64, proj: &LocalProjection) -> StormState {
    let n = p.len();
    let active = t >= p[0].time && t <= p[n - 1].time;
    let tc = t.clamp(p[0].time, p[n - 1].time);
    // Segment k: p[k] .. p[k+1] containing tc.
    let k = match p.binary_search_by(|q| q.time.total_cmp(&tc)) {
        Ok(k) => k.min(n - 2),
        Err(k) => k.saturating_sub(1).min(n - 2),
    };
    let (a, b) = (&p[k], &p[k + 1]);
    let dt = b.time - a.time;
    let s = ((tc - a.time) / dt).clamp(0.0, 1.0);
    let lerp = |x: f64, y: f64| x + s * (y - x);
    let lat = lerp(a.lat, b.lat);
    let lon = lerp(a.lon, b.lon);
    let (x, y) = proj.to_map(lat, lon);
    // Translation from the segment's end points, on the sphere's local tangent plane.
    let mid = ((a.lat + b.lat) / 2.0).to_radians().cos();
    let ve = EARTH_RADIUS_M * mid * (b.lon - a.lon).to_radians() / dt;
    let vn = EARTH_RADIUS_M * (b.lat - a.lat).to_radians() / dt;
    StormState {
        lat,
        lon,
        x,
        y,
        vmax: lerp(a.vmax, b.vmax),
        pc: lerp(a.pc, b.pc),
        rmw: lerp(a.rmw, b.rmw),
        vt: (ve, vn),
        dpdt_hpa_h: (b.pc - a.pc) / 100.0 / (dt / 3600.0),
        active,
    }
}

fn synthetic_state(s: &Synthetic, t: f64, proj: &LocalProjection) -> StormState {
    let h = s.heading_deg.to_radians();
    let (ve, vn) = (s.speed_m_s * h.sin(), s.speed_m_s * h.cos());
    let (lx, ly) = proj.to_map(s.lat, s.lon);
    let dt = t - s.t_landfall;
    let (x, y) = (lx + ve * dt, ly + vn * dt);
    let (lat, lon) = proj.to_geo(x, y);
    let (mut vmax, mut pc) = (s.vmax, s.pc);
    let mut dpdt = 0.0;
    if s.inland_decay && dt > 0.0 {
        let hours = dt / 3600.0;
        vmax = kaplan_demaria_1995(s.vmax, hours);
        // Keep the pressure deficit in proportion to V² (the Holland B is unchanged).
        let ratio = (vmax / s.vmax).powi(2);
        pc = s.penv - (s.penv - s.pc) * ratio;
        let v2 = kaplan_demaria_1995(s.vmax, hours + 1.0);
        let pc2 = s.penv - (s.penv - s.pc) * (v2 / s.vmax).powi(2);
        dpdt = (pc2 - pc) / 100.0;
    }
    StormState {
        lat,
        lon,
        x,
        y,
        vmax,
        pc,
        rmw: s.rmw,
        vt: (ve, vn),
        dpdt_hpa_h: dpdt,
        active: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_round_trips_and_scales() {
        let p = LocalProjection::new(22.52, 114.03, 0.0, 0.0);
        let (x, y) = p.to_map(22.62, 114.13);
        let (lat, lon) = p.to_geo(x, y);
        assert!((lat - 22.62).abs() < 1e-9 && (lon - 114.13).abs() < 1e-9);
        // 0.1° of latitude ≈ 11.12 km; the plane distance matches the great circle.
        assert!((y - 11_119.5).abs() < 1.0, "{y}");
        let d = haversine_m(22.52, 114.03, 22.62, 114.13);
        assert!(((x * x + y * y).sqrt() - d).abs() / d < 1e-3);
    }

    const GOOD: &str = "# comment\n\
        iso_time_utc,lat,lon,max_wind_kt_1min,central_pressure_hpa,rmw_nmi\n\
        2018-09-16 00:00,20.0,115.0,,,\n\
        2018-09-16 06:00,21.0,114.0,80,962,15\n\
        2018-09-16 09:00,21.5,113.0,77,,17\n\
        2018-09-16 12:00,22.0,112.0,75,965,\n";

    #[test]
    fn best_track_fills_gaps_with_warnings() {
        let t = parse_best_track(GOOD, 1.0, 12.0).unwrap();
        assert_eq!(
            t.points.len(),
            3,
            "the padding row without intensity is dropped"
        );
        let p = &t.points;
        assert!((p[0].vmax - 80.0 * KNOT_M_S).abs() < 1e-9);
        assert!(
            (p[1].pc - 96_350.0).abs() < 1e-6,
            "pressure interpolated in time"
        );
        assert!((p[0].rmw - 15.0 * NMI_M).abs() < 1e-9);
        let w = rmw_willoughby_2006(75.0 * KNOT_M_S, 22.0);
        assert!(
            (p[2].rmw - w).abs() < 1e-6,
            "RMW filled by Willoughby et al."
        );
        assert!(t.warnings.iter().any(|w| w.contains("Willoughby")));
        assert!(t.warnings.iter().any(|w| w.contains("dropped")));
    }

    #[test]
    fn bad_tracks_name_the_line() {
        let swap = GOOD.replace("2018-09-16 09:00", "2018-09-16 05:00");
        let e = parse_best_track(&swap, 1.0, 12.0).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("not after"), "{}", e.message);
        let gap = GOOD.replace("2018-09-16 12:00", "2018-09-17 12:00");
        let e = parse_best_track(&gap, 1.0, 12.0).unwrap_err();
        assert_eq!(e.line, 6);
        assert!(e.message.contains("gap"));
        let nan = GOOD.replace(",77,", ",NaN,");
        let e = parse_best_track(&nan, 1.0, 12.0).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("finite"));
        let hole = GOOD.replace(",77,,17", ",,,17");
        let e = parse_best_track(&hole, 1.0, 12.0).unwrap_err();
        assert_eq!(e.line, 5);
        let nopres = "iso_time_utc,lat,lon,vmax_kt\n2018-09-16 00:00,20,115,80\n2018-09-16 06:00,21,114,80\n";
        let t = parse_best_track(nopres, 1.0, 12.0).unwrap();
        assert!(t.warnings.iter().any(|w| w.contains("Atkinson")));
        assert!((t.points[0].pc / 100.0 - pressure_from_wind_ah77(80.0)).abs() < 1e-9);
        let e = parse_best_track("lat,lon\n1,2\n", 1.0, 12.0).unwrap_err();
        assert!(e.message.contains("time"));
    }

    #[test]
    fn header_errors_list_every_accepted_column_and_echo_little() {
        let no_time = parse_best_track("lat,lon,vmax_kt\n1,2,3\n", 1.0, 12.0).unwrap_err();
        let no_intensity =
            parse_best_track("time,lat,lon\n2018-09-16 00:00,1,2\n", 1.0, 12.0).unwrap_err();
        for e in [&no_time, &no_intensity] {
            assert_eq!(e.line, 1);
            for name in TIME_COLS
                .iter()
                .chain(&WIND_KT_COLS)
                .chain(&WIND_MS_COLS)
                .chain(&PRES_COLS)
                .chain(&RMW_NMI_COLS)
                .chain(&RMW_KM_COLS)
                .chain(&["lat", "lon"])
            {
                assert!(e.message.contains(name), "{name} missing: {}", e.message);
            }
        }
        // A file that is not a track (here shaped like /etc/passwd) is not echoed.
        let secret = format!("root:x:0:0:{}:/root:/bin/bash\n", "s".repeat(500));
        let e = parse_best_track(&secret, 1.0, 12.0).unwrap_err();
        assert!(!e.message.contains(&"s".repeat(100)), "{}", e.message);
    }

    #[test]
    fn impossible_track_dates_name_the_line() {
        let bad = GOOD.replace("2018-09-16 09:00", "2018-09-31 09:00");
        let e = parse_best_track(&bad, 1.0, 12.0).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("is not a date"), "{}", e.message);
    }

    #[test]
    fn wind_pressure_relation_inverts() {
        let p = pressure_from_wind_ah77(100.0);
        assert!((wind_from_pressure_ah77(p) - 100.0).abs() < 1e-9);
        // AH77: 100 kt ↔ ≈ 943 hPa.
        assert!((935.0..950.0).contains(&p), "{p}");
    }

    #[test]
    fn interpolation_hits_points_and_moves() {
        let t = parse_best_track(GOOD, 1.0, 12.0).unwrap();
        let t0 = t.points[0].time;
        let pts = t.relative_to(t0);
        let track = Track::Points(pts.clone());
        let proj = LocalProjection::new(22.52, 114.03, 0.0, 0.0);
        for p in &pts {
            let s = track.state(p.time, &proj);
            assert!((s.pc - p.pc).abs() < 1e-6 && (s.lat - p.lat).abs() < 1e-12);
        }
        let s = track.state(3.0 * 3600.0, &proj);
        assert!(
            s.active && s.vt.0 < 0.0 && s.vt.1 > 0.0,
            "moving north-west"
        );
        assert!(!track.state(-10.0, &proj).active);
    }

    #[test]
    fn synthetic_track_moves_and_decays() {
        let proj = LocalProjection::new(22.52, 114.03, 0.0, 0.0);
        let s = Synthetic {
            lat: 22.52,
            lon: 114.03,
            t_landfall: 3600.0,
            heading_deg: 0.0,
            speed_m_s: 5.0,
            vmax: 50.0,
            pc: 95_000.0,
            rmw: 30_000.0,
            inland_decay: true,
            penv: 101_000.0,
        };
        let tr = Track::Synthetic(s);
        let a = tr.state(3600.0, &proj);
        assert!(a.x.abs() < 1e-6 && a.y.abs() < 1e-6);
        let b = tr.state(3600.0 + 7200.0, &proj);
        assert!((b.y - 36_000.0).abs() < 1e-6 && b.x.abs() < 1e-6);
        assert!(b.vmax < a.vmax && b.pc > a.pc);
    }
}
