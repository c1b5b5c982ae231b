//! Chicago design storm (Keifer & Chu 1957): a synthetic hyetograph whose every
//! duration around the peak holds the intensity of the IDF curve
//! i = A (1 + C lg P) / (t + b)^n, uniform over the grid, written to `RainRate`.
//! Default IDF: Shenzhen's (older) storm-intensity formula; see `docs/models/typhoon.md`.

use bevy_ecs::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::City;
use crate::coupling::RainRate;
use crate::events::{EventLog, Place, Severity};
use crate::hazards::typhoon::rain::{CMA_RAINSTORM, RainWarnings};
use crate::metrics::{MetricId, Metrics};
use crate::sim::{BuildContext, BuildError, Phase, Plugin, SimClock, Simulation};
use crate::spec::{KeyPath, Problem, in_range, positive};

/// L/(s·ha) per mm/min: 1 mm/min over a hectare = 10 m³ per 60 s.
pub const LSHA_PER_MM_MIN: f64 = 10_000.0 / 60.0;

/// IDF parameters: i (mm/min) = a1 (1 + c lg P) / (t + b)^n, t in minutes. The one
/// storm-intensity formula of the engine: the design storm's hyetograph and the flood
/// plugin's pipe capacity (design return period → intensity) both use it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Idf {
    /// A1, mm/min.
    pub a1_mm_min: f64,
    pub c: f64,
    /// b, min.
    pub b_min: f64,
    pub n: f64,
}

impl Idf {
    /// Shenzhen storm-intensity formula q = 1450.239 (1 + 0.594 lg P) / (t + 11.13)^0.555
    /// L/(s·ha) (as quoted in the project brief; older Shenzhen formula, to be checked
    /// against the current local standard), converted to mm/min.
    pub fn shenzhen() -> Self {
        Self {
            a1_mm_min: 1450.239 / LSHA_PER_MM_MIN,
            c: 0.594,
            b_min: 11.13,
            n: 0.555,
        }
    }
    /// a = A1 (1 + C lg P), mm/min·min^n.
    pub fn a(&self, p_years: f64) -> f64 {
        self.a1_mm_min * (1.0 + self.c * p_years.log10())
    }
    /// Mean intensity over a duration t (min), mm/min.
    pub fn intensity(&self, p_years: f64, t_min: f64) -> f64 {
        self.a(p_years) / (t_min + self.b_min).powf(self.n)
    }
    /// Mean intensity over a duration t (min), m/s.
    pub fn intensity_m_s(&self, p_years: f64, t_min: f64) -> f64 {
        self.intensity(p_years, t_min) / 1000.0 / 60.0
    }
    /// Ranges of the parameters, errors naming the key under `at`.
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        positive(at.key("a1_mm_min"), self.a1_mm_min, "A1")?;
        in_range(at.key("c"), self.c, 0.0, 5.0, "C")?;
        in_range(at.key("b_min"), self.b_min, 0.0, 100.0, "b")?;
        in_range(at.key("n"), self.n, 0.0, 0.99, "n (below 1)")
    }
}

impl Default for Idf {
    fn default() -> Self {
        Self::shenzhen()
    }
}

/// `kind = "design_storm"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignStormSpec {
    /// Return period P, years.
    pub return_period_years: f64,
    /// Storm duration D, min.
    pub duration_min: f64,
    /// Peak position r (peak at r·D); 0.4 is the usual choice in Chinese practice.
    #[serde(default = "default_r")]
    pub peak_position: f64,
    /// Start of the storm, s since the scenario start.
    #[serde(default)]
    pub start_s: f64,
    /// IDF parameters (default: Shenzhen).
    #[serde(default = "Idf::shenzhen")]
    pub idf: Idf,
}

fn default_r() -> f64 {
    0.4
}

/// One f32 rain rate per cell.
pub const BYTES_PER_CELL: usize = 4;

impl DesignStormSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("return_period_years"),
            self.return_period_years,
            1.0,
            10_000.0,
            "the return period",
        )?;
        in_range(
            at.key("duration_min"),
            self.duration_min,
            5.0,
            7.0 * 1440.0,
            "the duration",
        )?;
        in_range(
            at.key("peak_position"),
            self.peak_position,
            0.01,
            0.99,
            "the peak position r",
        )?;
        in_range(at.key("start_s"), self.start_s, 0.0, 1e9, "the start time")?;
        self.idf.check(&at.key("idf"))
    }

    /// Depth of a storm of duration T (min) at the IDF intensity: H(T) = a T/(T + b)^n, mm.
    fn h(&self, t_min: f64) -> f64 {
        self.idf.a(self.return_period_years) * t_min / (t_min + self.idf.b_min).powf(self.idf.n)
    }

    /// Cumulative depth (mm) from the storm's start to `t_min` minutes into it. Before
    /// the peak t_p = rD: r·H(D) − r·H((t_p − t)/r); after: r·H(D) + (1 − r)·H((t − t_p)/
    /// (1 − r)). Its derivative is the Keifer–Chu intensity on each side of the peak.
    pub fn cumulative_mm(&self, t_min: f64) -> f64 {
        let d = self.duration_min;
        let r = self.peak_position;
        let t = t_min.clamp(0.0, d);
        let tp = r * d;
        if t <= tp {
            r * self.h(d) - r * self.h((tp - t) / r)
        } else {
            r * self.h(d) + (1.0 - r) * self.h((t - tp) / (1.0 - r))
        }
    }

    /// Instantaneous intensity (mm/min) at `t_min` into the storm (Keifer & Chu 1957).
    pub fn intensity_mm_min(&self, t_min: f64) -> f64 {
        let d = self.duration_min;
        if !(0.0..=d).contains(&t_min) {
            return 0.0;
        }
        let r = self.peak_position;
        let tp = r * d;
        // Time from the peak, stretched to the equivalent duration on its side.
        let tb = if t_min <= tp {
            (tp - t_min) / r
        } else {
            (t_min - tp) / (1.0 - r)
        };
        let a = self.idf.a(self.return_period_years);
        let (b, n) = (self.idf.b_min, self.idf.n);
        a * ((1.0 - n) * tb + b) / (tb + b).powf(1.0 + n)
    }

    /// Total depth over the storm, mm: the IDF's i(D)·D.
    pub fn total_mm(&self) -> f64 {
        self.h(self.duration_min)
    }
}

pub struct DesignStormPlugin<'a>(pub &'a DesignStormSpec);

#[derive(Resource)]
struct DesignStormState {
    spec: DesignStormSpec,
    rate: MetricId,
    depth: MetricId,
    warn: RainWarnings,
    total_mm: f64,
}

impl Plugin for DesignStormPlugin<'_> {
    fn name(&self) -> &'static str {
        "design_storm"
    }
    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // A uniform storm needs nothing of the city.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        if sim.world.contains_resource::<RainRate>() {
            return Err(BuildError::new(
                ctx.at.clone(),
                "another hazard already sets the rain: a scenario has one rain forcing",
            ));
        }
        let n = ctx.city.grid.len();
        sim.world.insert_resource(RainRate(vec![0.0; n]));
        let (rate, depth) = {
            let mut m = sim.world.resource_mut::<Metrics>();
            (
                m.declare(
                    "design_storm.rain_mm_h",
                    "mm/h",
                    "rain rate of the design storm (tick mean)",
                ),
                m.declare(
                    "design_storm.depth_mm",
                    "mm",
                    "rain fallen since the storm began",
                ),
            )
        };
        let spec = self.0.clone();
        sim.world.resource_mut::<Metrics>().set_kpi(
            "design_storm.total_mm",
            spec.total_mm(),
            "mm",
            "depth of the design storm (IDF intensity × duration)",
        );
        sim.world.insert_resource(DesignStormState {
            spec,
            rate,
            depth,
            warn: RainWarnings::default(),
            total_mm: 0.0,
        });
        sim.add_systems(Phase::Forcing, design_storm_forcing);
        Ok(())
    }
}

/// Phase::Forcing: the tick's mean rate is the exact cumulative-depth difference, so the
/// run's total equals the IDF depth whatever the tick.
fn design_storm_forcing(
    mut st: ResMut<DesignStormState>,
    clock: Res<SimClock>,
    city: Res<City>,
    mut rain: ResMut<RainRate>,
    mut metrics: ResMut<Metrics>,
    mut log: ResMut<EventLog>,
) {
    let st = &mut *st;
    let (t0, t1) = (clock.t(), clock.t_end());
    let m0 = (t0 - st.spec.start_s) / 60.0;
    let m1 = (t1 - st.spec.start_s) / 60.0;
    let depth = st.spec.cumulative_mm(m1) - st.spec.cumulative_mm(m0);
    let rate = depth / 1000.0 / clock.dt;
    rain.0.fill(rate as f32);
    st.total_mm += depth;
    metrics.set(st.rate, depth / clock.dt * 3600.0);
    metrics.set(st.depth, st.total_mm);
    let grid = city.grid;
    for (k, acc) in st.warn.update(t1, depth) {
        let (name, hours, mm) = CMA_RAINSTORM[k];
        let (x, y) = (
            grid.x0 + grid.width_m() / 2.0,
            grid.y0 + grid.height_m() / 2.0,
        );
        log.emit(
            t1,
            "design_storm",
            "rain.warning",
            [
                Severity::Minor,
                Severity::Moderate,
                Severity::Major,
                Severity::Critical,
            ][k],
        )
        .at(Place {
            x,
            y,
            cell: None,
            name: None,
        })
        .message(format!(
            "rainstorm {name} level: {acc:.0} mm in {hours} h (CMA threshold {mm} mm)"
        ))
        .with("level", name)
        .with("accumulation_mm", acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storm() -> DesignStormSpec {
        DesignStormSpec {
            return_period_years: 5.0,
            duration_min: 120.0,
            peak_position: 0.4,
            start_s: 0.0,
            idf: Idf::shenzhen(),
        }
    }

    #[test]
    fn cumulative_is_consistent_with_intensity() {
        let s = storm();
        assert!(s.cumulative_mm(0.0).abs() < 1e-9);
        assert!((s.cumulative_mm(120.0) - s.total_mm()).abs() < 1e-9);
        // Numerical derivative of the cumulative curve = the Keifer–Chu intensity.
        for t in [5.0, 30.0, 47.0, 49.0, 80.0, 115.0] {
            let h = 1e-4;
            let d = (s.cumulative_mm(t + h) - s.cumulative_mm(t - h)) / (2.0 * h);
            let i = s.intensity_mm_min(t);
            assert!((d - i).abs() / i < 1e-5, "t={t}: {d} vs {i}");
        }
    }

    #[test]
    fn shenzhen_idf_magnitude() {
        // q(P=1, t=60 min) = 1450.239 / 71.13^0.555 ≈ 134 L/(s·ha) ≈ 48 mm/h.
        let i = Idf::shenzhen().intensity(1.0, 60.0) * 60.0;
        assert!((45.0..52.0).contains(&i), "{i}");
    }

    fn scenario(extra: &str) -> String {
        format!(
            r#"
format = 1
name = "design storm"
[time]
duration_s = 10800
tick_s = 120
[city]
source = "generate"
width_m = 1000
height_m = 1000
cell_m = 100
[[hazards]]
kind = "design_storm"
return_period_years = 50
duration_min = 120
{extra}
"#
        )
    }

    #[test]
    fn plugin_run_emits_cma_warnings_in_order() {
        let loaded = crate::scenario::parse(&scenario(""), "ds.toml", std::path::Path::new("."))
            .expect("parses");
        let city = std::sync::Arc::new(crate::run::prepare_city(&loaded).expect("city"));
        let out = crate::run::run(&loaded, &city, 1, |_| {}).expect("runs");
        // P = 50 a, D = 2 h: ≈ 137 mm, over 100 mm in 3 h → every level up to red.
        let levels: Vec<String> = out
            .events
            .iter()
            .filter(|e| e.kind == "rain.warning")
            .map(|e| e.data["level"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(levels, ["blue", "yellow", "orange", "red"]);
        let total = out.summary.kpis["design_storm.total_mm"].value;
        let depth = out.summary.metrics["design_storm.depth_mm"].last;
        assert!((depth - total).abs() < 1e-9 * total, "{depth} vs {total}");
    }

    #[test]
    fn bad_design_storms_name_the_key() {
        let parse = |text: &str| match crate::scenario::parse(
            &scenario(text),
            "ds.toml",
            std::path::Path::new("."),
        ) {
            Ok(_) => panic!("{text} was accepted"),
            Err(e) => e.to_string(),
        };
        let e = parse("peak_position = 1.0");
        assert!(e.contains("peak_position") && e.contains("ds.toml:"), "{e}");
        let e = parse("idf = { a1_mm_min = 8.7, c = 0.6, b_min = 11, n = 1.2 }");
        assert!(e.contains("idf.n"), "{e}");
    }
}
