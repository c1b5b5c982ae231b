//! The design storm's tests: the hyetograph against its IDF curve, a run's warnings and
//! depth, and inputs refused with the key at fault. (The IDF's own test is in
//! `weather::idf`.)

use super::DesignStormSpec;
use crate::weather::Idf;

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
