//! Raster maps: a grid layer coloured by a ramp or by classes, with a title, a colour bar
//! or legend, a scale bar, north arrow and optional point markers (assets).

use std::path::Path;

use plotters::element::BitMapElement;
use plotters::prelude::*;

use crate::color::Ramp;
use crate::{VizError, ensure_font};

/// How values become colours.
#[derive(Debug, Clone)]
pub enum MapStyle<'a> {
    /// A continuous quantity. `range` defaults to the data's finite min and max.
    Continuous {
        ramp: Ramp,
        range: Option<(f32, f32)>,
    },
    /// Integer classes: value k is drawn with `classes[k]`'s colour.
    Categorical { classes: &'a [(String, [u8; 3])] },
}

/// A labelled point on the map, in cell coordinates (column, row from the north).
#[derive(Debug, Clone)]
pub struct Marker {
    pub col: f64,
    pub row: f64,
    pub label: String,
    pub color: [u8; 3],
}

/// A grid layer to draw.
#[derive(Debug, Clone)]
pub struct MapView<'a> {
    pub title: &'a str,
    pub unit: &'a str,
    pub nx: usize,
    pub ny: usize,
    pub cell_m: f64,
    /// Row-major values, row 0 north; NaN is "no data".
    pub data: &'a [f32],
    pub style: MapStyle<'a>,
    /// Colours drawn where data is NaN (e.g. a muted land-use base map); grey if None.
    pub background: Option<&'a [[u8; 3]]>,
    /// Points drawn on top, with a legend of their labels.
    pub markers: &'a [Marker],
}

const MARGIN_TOP: u32 = 44;
const MARGIN_LEFT: u32 = 16;
const MARGIN_RIGHT: u32 = 190;
const MARGIN_BOTTOM: u32 = 44;
/// Longest side of the map area, px.
const MAX_SIDE: usize = 1400;

/// How values map to the colour ramp: a plain linear range, or terrain with sea level
/// pinned to the end of the blues.
#[derive(Clone, Copy)]
struct Scale {
    range: (f32, f32),
    sea_split: bool,
}

impl Scale {
    fn of(view: &MapView) -> Self {
        let range = match view.style {
            MapStyle::Continuous { range: Some(r), .. } => r,
            _ => finite_range(view.data),
        };
        // Terrain keeps sea level at a fixed point of the ramp (the end of the blues), so
        // land is never drawn as water whatever the range.
        let sea_split = matches!(
            view.style,
            MapStyle::Continuous {
                ramp: Ramp::Terrain,
                ..
            }
        ) && range.0 < 0.0
            && range.1 > 0.0;
        Self { range, sea_split }
    }

    /// Position of a value on the ramp, 0..1.
    fn norm(&self, v: f32) -> f32 {
        let range = self.range;
        if self.sea_split {
            if v < 0.0 {
                0.19 * (v - range.0) / -range.0
            } else {
                0.2 + 0.8 * v / range.1
            }
        } else {
            (v - range.0) / (range.1 - range.0).max(f32::EPSILON)
        }
    }
}

/// Size of the map image: cells per pixel (`down`) for large grids, pixels per cell
/// (`up`) for small ones.
#[derive(Clone, Copy)]
struct Layout {
    w: usize,
    h: usize,
    up: usize,
    down: usize,
}

impl Layout {
    fn of(nx: usize, ny: usize) -> Self {
        let down = nx.max(ny).div_ceil(MAX_SIDE).max(1);
        let up = (700 / nx.max(ny)).max(1);
        Self {
            w: (nx / down).max(1) * up,
            h: (ny / down).max(1) * up,
            up,
            down,
        }
    }
    fn px_per_cell(&self) -> f64 {
        self.up as f64 / self.down as f64
    }
}

/// The map's pixels (RGB, row-major).
fn pixels(view: &MapView, scale: Scale, l: Layout) -> Vec<u8> {
    let nx = view.nx;
    let ny = view.ny;
    let color_of = |v: f32, k: usize| -> [u8; 3] {
        if v.is_finite() {
            match &view.style {
                MapStyle::Continuous { ramp, .. } => ramp.at(scale.norm(v)),
                MapStyle::Categorical { classes } => {
                    classes.get(v.max(0.0) as usize).map_or([0, 0, 0], |c| c.1)
                }
            }
        } else {
            view.background.map_or([215, 215, 215], |b| b[k])
        }
    };
    let (up, down) = (l.up, l.down);
    let mut rgb = vec![0u8; l.w * l.h * 3];
    for py in 0..l.h {
        let j = (py / up) * down;
        for px in 0..l.w {
            let i = (px / up) * down;
            // Downsampled maps show the block's largest value (peaks must stay visible),
            // or its first cell for classes.
            let (mut best, mut best_k) = (f32::NAN, j * nx + i);
            if down > 1 && matches!(view.style, MapStyle::Continuous { .. }) {
                for jj in j..(j + down).min(ny) {
                    for ii in i..(i + down).min(nx) {
                        let v = view.data[jj * nx + ii];
                        if v.is_finite() && (best.is_nan() || v > best) {
                            best = v;
                            best_k = jj * nx + ii;
                        }
                    }
                }
            } else {
                best = view.data[best_k];
            }
            let c = color_of(best, best_k);
            rgb[(py * l.w + px) * 3..][..3].copy_from_slice(&c);
        }
    }
    rgb
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn font(size: u32) -> FontDesc<'static> {
    ("sans-serif", size).into_font()
}

/// Render a map to a PNG file.
pub fn render_map(view: &MapView, path: &Path) -> Result<(), VizError> {
    ensure_font();
    let (nx, ny) = (view.nx, view.ny);
    if nx == 0 || ny == 0 || view.data.len() != nx * ny {
        return Err(VizError::draw(
            path,
            format!("{} values for a {nx} × {ny} grid", view.data.len()),
        ));
    }
    let l = Layout::of(nx, ny);
    let scale = Scale::of(view);
    let rgb = pixels(view, scale, l);
    let kinds = {
        let mut labels: Vec<&str> = view.markers.iter().map(|m| m.label.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        labels.len()
    };
    let legend_h = match &view.style {
        MapStyle::Continuous { .. } => 360,
        MapStyle::Categorical { classes } => 20 * classes.len() + 8,
    } + 20 * kinds;
    let (cw, ch) = (
        l.w as u32 + MARGIN_LEFT + MARGIN_RIGHT,
        (l.h.max(legend_h) as u32) + MARGIN_TOP + MARGIN_BOTTOM,
    );
    let root = BitMapBackend::new(path, (cw, ch)).into_drawing_area();
    let e = |x: DrawingAreaErrorKind<_>| VizError::draw(path, x);
    root.fill(&WHITE).map_err(e)?;
    let image = BitMapElement::with_owned_buffer(
        (MARGIN_LEFT as i32, MARGIN_TOP as i32),
        (l.w as u32, l.h as u32),
        rgb,
    )
    .ok_or_else(|| VizError::draw(path, "bitmap size"))?;
    root.draw(&image).map_err(e)?;
    root.draw_text(
        view.title,
        &font(20).color(&BLACK),
        (MARGIN_LEFT as i32, 12),
    )
    .map_err(e)?;
    draw_markers(&root, view, l).map_err(e)?;
    draw_legend(&root, view, scale, l).map_err(e)?;
    draw_scale_bar(&root, view, l).map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>>;

fn draw_markers<'a>(root: &Area<'a>, view: &MapView, l: Layout) -> DrawResult<'a> {
    let px_per_cell = l.px_per_cell();
    for m in view.markers {
        let x = MARGIN_LEFT as i32 + (m.col * px_per_cell) as i32;
        let y = MARGIN_TOP as i32 + (m.row * px_per_cell) as i32;
        let c = RGBColor(m.color[0], m.color[1], m.color[2]);
        root.draw(&Circle::new((x, y), 5, c.filled()))?;
        root.draw(&Circle::new((x, y), 5, BLACK.stroke_width(1)))?;
    }
    Ok(())
}

/// The legend column: the colour ramp or classes, then one entry per marker label.
fn draw_legend<'a>(root: &Area<'a>, view: &MapView, scale: Scale, l: Layout) -> DrawResult<'a> {
    let lx = (MARGIN_LEFT as usize + l.w + 16) as i32;
    let mut ly = MARGIN_TOP as i32;
    match &view.style {
        MapStyle::Continuous { ramp, .. } => {
            root.draw_text(view.unit, &font(14).color(&BLACK), (lx, ly))?;
            ly += 22;
            let bar_h = (l.h as i32 - 60).clamp(60, 300);
            for k in 0..bar_h {
                let c = ramp.at(1.0 - k as f32 / (bar_h - 1) as f32);
                root.draw(&Rectangle::new(
                    [(lx, ly + k), (lx + 18, ly + k + 1)],
                    RGBColor(c[0], c[1], c[2]).filled(),
                ))?;
            }
            let range = scale.range;
            let mid = if scale.sea_split {
                0.0
            } else {
                (range.0 + range.1) / 2.0
            };
            for v in [range.1, mid, range.0] {
                let frac = 1.0 - f64::from(scale.norm(v).clamp(0.0, 1.0));
                let y = ly + (frac * (bar_h - 1) as f64) as i32 - 6;
                root.draw_text(&format_value(v), &font(13).color(&BLACK), (lx + 24, y))?;
            }
            ly += bar_h + 16;
        }
        MapStyle::Categorical { classes } => {
            for (label, c) in classes.iter() {
                root.draw(&Rectangle::new(
                    [(lx, ly), (lx + 14, ly + 14)],
                    RGBColor(c[0], c[1], c[2]).filled(),
                ))?;
                root.draw_text(label, &font(13).color(&BLACK), (lx + 20, ly))?;
                ly += 20;
            }
            ly += 8;
        }
    }
    let mut seen: Vec<(&str, [u8; 3])> = Vec::new();
    for m in view.markers {
        if !seen.iter().any(|(l, _)| *l == m.label) {
            seen.push((&m.label, m.color));
        }
    }
    for (label, c) in seen {
        root.draw(&Circle::new(
            (lx + 7, ly + 7),
            5,
            RGBColor(c[0], c[1], c[2]).filled(),
        ))?;
        root.draw(&Circle::new((lx + 7, ly + 7), 5, BLACK.stroke_width(1)))?;
        root.draw_text(label, &font(13).color(&BLACK), (lx + 20, ly))?;
        ly += 20;
    }
    Ok(())
}

/// Scale bar (a round length near a quarter of the map width) and north arrow.
fn draw_scale_bar<'a>(root: &Area<'a>, view: &MapView, l: Layout) -> DrawResult<'a> {
    let width_m = view.nx as f64 * view.cell_m;
    let target = width_m / 4.0;
    let mag = 10f64.powf(target.log10().floor());
    let len_m = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|f| f * mag)
        .rfind(|l| *l <= target)
        .unwrap_or(mag);
    let len_px = (len_m / view.cell_m * l.px_per_cell()) as i32;
    let (sx, sy) = (MARGIN_LEFT as i32, (MARGIN_TOP as usize + l.h + 14) as i32);
    root.draw(&Rectangle::new(
        [(sx, sy), (sx + len_px, sy + 6)],
        BLACK.filled(),
    ))?;
    let label = if len_m >= 1000.0 {
        format!("{} km", len_m / 1000.0)
    } else {
        format!("{len_m} m")
    };
    root.draw_text(&label, &font(13).color(&BLACK), (sx + len_px + 8, sy - 4))?;
    root.draw_text(
        "N ↑",
        &font(14).color(&BLACK),
        ((MARGIN_LEFT as usize + l.w) as i32 - 30, sy - 4),
    )?;
    Ok(())
}

fn finite_range(data: &[f32]) -> (f32, f32) {
    let (lo, hi) = data
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() {
        (lo, if hi > lo { hi } else { lo + 1.0 })
    } else {
        (0.0, 1.0)
    }
}

/// Compact number for labels: 3 significant digits.
pub fn format_value(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && !(0.01..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_png_with_the_expected_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.png");
        let data: Vec<f32> = (0..50 * 30).map(|k| (k % 50) as f32).collect();
        let markers = [Marker {
            col: 10.0,
            row: 5.0,
            label: "station".into(),
            color: [200, 0, 0],
        }];
        let view = MapView {
            title: "test",
            unit: "m",
            nx: 50,
            ny: 30,
            cell_m: 10.0,
            data: &data,
            style: MapStyle::Continuous {
                ramp: Ramp::Terrain,
                range: None,
            },
            background: None,
            markers: &markers,
        };
        render_map(&view, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        // IHDR width and height: 14 px per cell (700 / 50).
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert_eq!(w, 50 * 14 + MARGIN_LEFT + MARGIN_RIGHT);
        let bad = MapView { nx: 49, ..view };
        assert!(render_map(&bad, &path).is_err());
    }
}
