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

#[test]
fn the_fingerprint_is_the_content_not_the_typed_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let csv = "id,kind,x,y,capacity\nS1,shelter,100,100,50\n";
    write(dir.path(), "assets.csv", csv);
    write(
        dir.path(),
        "base.toml",
        &BASE.replace("seed = 3\n", "seed = 3\nassets_csv = \"assets.csv\"\n"),
    );
    let p = write(
        dir.path(),
        "b.toml",
        "format = 1\n[batch]\nname = \"b\"\nscenario = \"base.toml\"\nruns = 2\nseed = 1\n",
    );
    let plain = load(&p).unwrap().fingerprint();
    let dotted = dir.path().join("sub/../././b.toml");
    assert_eq!(load(&dotted).unwrap().fingerprint(), plain);
    // A copy of the batch in another folder, naming the same scenario, is the same batch.
    let copy = write(
        &dir.path().join("sub"),
        "copy.toml",
        "format = 1\n[batch]\nname = \"b\"\nscenario = \"base.toml\"\nruns = 2\nseed = 1\n",
    );
    write(
        &dir.path().join("sub"),
        "base.toml",
        &std::fs::read_to_string(dir.path().join("base.toml")).unwrap(),
    );
    write(&dir.path().join("sub"), "assets.csv", csv);
    assert_eq!(load(&copy).unwrap().fingerprint(), plain);
    // A file the scenario names is part of the batch's identity.
    write(dir.path(), "assets.csv", &csv.replace(",50", ",60"));
    assert_ne!(load(&p).unwrap().fingerprint(), plain);
}

#[test]
fn loss_kpi_must_be_a_kpi_of_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let body = "runs = 2\nseed = 1\nloss_kpi = \"population.presnt\"\n";
    let e = batch(dir.path(), body).unwrap_err();
    assert_eq!(e.key, "batch.loss_kpi");
    assert_eq!(e.line, Some(7));
    assert!(
        e.message.contains("did you mean `population.present`?"),
        "{}",
        e.message
    );
    let ok = batch(dir.path(), &body.replace("presnt", "present"));
    assert!(ok.is_ok(), "{:?}", ok.err());
}

#[test]
fn a_scenario_is_not_a_batch_and_a_missing_base_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "s.toml", BASE);
    let e = load(&scenario).unwrap_err();
    assert!(e.message.contains("not a batch file"), "{e}");
    for missing in ["nothing.toml", "."] {
        write(dir.path(), "base.toml", BASE);
        let p = write(
            dir.path(),
            "b.toml",
            &format!(
                "format = 1\n[batch]\nname = \"b\"\nscenario = \"{missing}\"\nruns = 1\nseed = 1\n"
            ),
        );
        let e = load(&p).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("batch.scenario", Some(4)), "{e}");
    }
}
