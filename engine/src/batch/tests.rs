use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const BASE: &str = r#"format = 1
name = "base"
seed = 3
[time]
duration_s = 600.0
tick_s = 60.0
[city]
source = "generate"
width_m = 500.0
height_m = 400.0
cell_m = 10.0
seed = 1
[[hazards]]
kind = "wind"
speed_m_s = 5.0
from_deg = 90.0
"#;

fn batch(dir: &Path, body: &str) -> Result<LoadedBatch, ScenarioError> {
    write(dir, "base.toml", BASE);
    let p = write(
        dir,
        "b.toml",
        &format!("format = 1\n[batch]\nname = \"b\"\nscenario = \"base.toml\"\n{body}"),
    );
    load(&p)
}

#[test]
fn runs_are_reproducible_and_share_draws_across_plans() {
    let dir = tempfile::tempdir().unwrap();
    let b = batch(
        dir.path(),
        "runs = 4\nseed = 9\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"uniform\"\nmin = 1.0\nmax = 20.0\n\
         [[batch.vary]]\npath = \"city.seed\"\ndist = \"uniform\"\nmin = 1.0\nmax = 5.0\n\
         [[batch.plans]]\nname = \"A\"\n[[batch.plans]]\nname = \"B\"\n",
    )
    .unwrap();
    assert_eq!(b.total_runs(), 8);
    let (a1, b1) = (b.plan(1), b.plan(5));
    assert_eq!((a1.plan.as_str(), b1.plan.as_str()), ("A", "B"));
    assert_eq!(a1.seed, b1.seed, "common random numbers");
    assert_eq!(a1.params, b1.params);
    assert_eq!(b.plan(1), b.plan(1));
    assert_ne!(b.plan(1).params, b.plan(2).params);
    // The city seed is an integer in the scenario, so its draws are rounded.
    assert!(b.plan(2).params[1].1.is_integer());
    let s = b.scenario_for(&b1).unwrap();
    assert_eq!(s.scenario.plan.name, "B");
    match &s.scenario.hazards[0] {
        crate::hazards::HazardSpec::Wind(w) => {
            assert_eq!(toml::Value::Float(w.speed_m_s), b1.params[0].1)
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!(),
    }
}

#[test]
fn bad_batches_name_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("runs = 0\nseed = 1\n", "batch.runs", 5),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].sped_m_s\"\ndist = \"uniform\"\nmin = 1.0\nmax = 2.0\n",
            "batch.vary[0].path",
            8,
        ),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[3].speed_m_s\"\ndist = \"uniform\"\nmin = 1.0\nmax = 2.0\n",
            "batch.vary[0].path",
            8,
        ),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"uniform\"\nmin = 3.0\nmax = 2.0\n",
            "batch.vary[0].max",
            11,
        ),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"normal\"\nmean = 3.0\nsd = -2.0\n",
            "batch.vary[0].sd",
            11,
        ),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"uniform\"\nmin = -5.0\nmax = -2.0\n",
            "batch.vary[0].path",
            8,
        ),
        (
            "runs = 2\nseed = 1\n[[batch.sweep]]\npath = \"time.tick_s\"\nvalues = []\n",
            "batch.sweep[0].values",
            9,
        ),
        ("runs = 2\nseed = 1\ncolour = 3\n", "batch.colour", 7),
    ];
    for (body, key, line) in cases {
        let e = batch(dir.path(), body).unwrap_err();
        assert_eq!(e.key, key, "{body}: {e}");
        assert_eq!(e.line, Some(line), "{body}: {e}");
        assert!(e.file.ends_with("b.toml"), "{e}");
    }
}
