//! `crucible drill` end to end, running the built binary on a small compound scenario
//! (typhoon + flood + fire + crowd), and on `scenarios/typhoon-compound.toml` when it
//! exists.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const COMPOUND: &str = "tests/data/drill/compound.toml";

fn drill(scenario: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("crucible")
        .unwrap()
        .arg("drill")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "drill failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir`, relative path → bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn exercise(dir: &Path) -> Value {
    serde_json::from_slice(&fs::read(dir.join("exercise.json")).unwrap()).unwrap()
}

/// Event ids of a plain run of the same scenario and seed.
fn run_events(scenario: &str, seed: u64) -> BTreeMap<u64, Value> {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("crucible")
        .unwrap()
        .args(["run", scenario, "--seed", &seed.to_string(), "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    ok(&o);
    fs::read_to_string(tmp.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["id"].as_u64().unwrap(), v)
        })
        .collect()
}

/// The MSEL covers all hazards and the infrastructure cascade, in time order, and every
/// inject traces to events of a plain run with the same seed.
fn check_compound(scenario: &str) {
    let tmp = tempfile::tempdir().unwrap();
    ok(&drill(scenario, tmp.path(), &[]));
    let ex = exercise(tmp.path());
    let seed = ex["seed"].as_u64().unwrap();
    let events = run_events(scenario, seed);
    let injects = ex["injects"].as_array().unwrap();
    assert!(injects.len() >= 10, "only {} injects", injects.len());
    assert!(
        injects.len() <= 60,
        "{} injects is not readable",
        injects.len()
    );
    let mut sources = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let mut last_t = f64::NEG_INFINITY;
    for (k, i) in injects.iter().enumerate() {
        assert_eq!(i["number"].as_u64().unwrap(), k as u64 + 1);
        let t = i["t_s"].as_f64().unwrap();
        assert!(t >= last_t, "inject {} out of time order", k + 1);
        last_t = t;
        let ids = i["event_ids"].as_array().unwrap();
        assert!(!ids.is_empty());
        for id in ids {
            let e = events
                .get(&id.as_u64().unwrap())
                .unwrap_or_else(|| panic!("inject {} cites unknown event {id}", k + 1));
            sources.insert(e["source"].as_str().unwrap().to_owned());
            kinds.insert(e["kind"].as_str().unwrap().to_owned());
            // The inject happens when its first event does.
            assert!(e["t"].as_f64().unwrap() >= t);
        }
    }
    for s in ["typhoon", "flood", "fire", "crowd"] {
        assert!(sources.contains(s), "no inject from {s}: {sources:?}");
    }
    assert!(
        kinds.contains("asset.failed"),
        "no asset failure inject: {kinds:?}"
    );
    for f in ["msel.csv", "msel.md", "situation.md", "evaluation.md"] {
        assert!(tmp.path().join(f).is_file(), "{f} missing");
    }
    let maps: Vec<&Value> = injects.iter().filter(|i| i.get("map").is_some()).collect();
    assert!(!maps.is_empty(), "no situation map");
    for m in maps {
        assert!(tmp.path().join(m["map"].as_str().unwrap()).is_file());
    }
    // One CSV row per inject plus the header.
    let csv = fs::read_to_string(tmp.path().join("msel.csv")).unwrap();
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(rows, injects.len());
}

#[test]
fn compound_msel_covers_every_hazard_and_traces_to_events() {
    check_compound(COMPOUND);
    if Path::new("scenarios/typhoon-compound.toml").exists() {
        check_compound("scenarios/typhoon-compound.toml");
    }
}

#[test]
fn same_seed_same_package_other_seed_differs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    ok(&drill(COMPOUND, a.path(), &["--seed", "5"]));
    ok(&drill(COMPOUND, b.path(), &["--seed", "5"]));
    ok(&drill(COMPOUND, c.path(), &["--seed", "6"]));
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert!(fa.len() >= 6);
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(
            fb[k] == *v,
            "{} differs between runs of one seed",
            k.display()
        );
    }
    assert_ne!(
        fa[Path::new("exercise.json")],
        fc[Path::new("exercise.json")]
    );
    assert_ne!(fa[Path::new("msel.csv")], fc[Path::new("msel.csv")]);
}

#[test]
fn chinese_text_in_every_message() {
    let tmp = tempfile::tempdir().unwrap();
    ok(&drill(COMPOUND, tmp.path(), &["--lang", "zh"]));
    let ex = exercise(tmp.path());
    let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let injects = ex["injects"].as_array().unwrap();
    assert!(!injects.is_empty());
    for i in injects {
        for f in [
            "message",
            "expected_action",
            "criterion",
            "from",
            "to",
            "capability",
        ] {
            let s = i[f].as_str().unwrap();
            assert!(cjk(s), "inject {} {f} has no Chinese: {s}", i["number"]);
        }
    }
    assert!(cjk(
        &fs::read_to_string(tmp.path().join("evaluation.md")).unwrap()
    ));
}

#[test]
fn difficulty_picks_seeds_in_band_and_variants_differ() {
    let tmp = tempfile::tempdir().unwrap();
    let o = drill(
        COMPOUND,
        tmp.path(),
        &["--difficulty", "severe", "--variants", "2", "--batch", "6"],
    );
    ok(&o);
    let e1 = exercise(&tmp.path().join("variant-1"));
    let e2 = exercise(&tmp.path().join("variant-2"));
    assert_ne!(e1["seed"], e2["seed"]);
    for e in [&e1, &e2] {
        let sel = &e["selection"];
        assert_eq!(sel["difficulty"], "severe");
        let cands = sel["candidates"].as_array().unwrap();
        let score = e["severity_score"].as_f64().unwrap();
        // Severe: at least as bad as two thirds of the batch.
        let below = cands
            .iter()
            .filter(|c| c["score"].as_f64().unwrap() < score)
            .count();
        assert!(
            below * 3 >= cands.len(),
            "score {score} not in the top band"
        );
        assert_eq!(sel["chosen_seed"], e["seed"]);
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("severe"));
}

fn bad(extra: &[&str], what: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let o = drill(COMPOUND, tmp.path(), extra);
    assert_eq!(o.status.code(), Some(2), "{extra:?} should be bad input");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(what),
        "{extra:?}: message `{err}` lacks `{what}`"
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    bad(&["--difficulty", "extreme"], "unknown difficulty `extreme`");
    bad(&["--variants", "0"], "--variants must be at least 1");
    bad(&["--lang", "fr"], "no built-in templates for `fr`");
    bad(&["--start", "9h"], "bad exercise start");
    let dir = tempfile::tempdir().unwrap();
    let en = include_str!("../templates/drill/en.toml");
    let cut: String = en
        .lines()
        .filter(|l| !l.starts_with("col_action") && !l.starts_with("criterion = \"Closures"))
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(dir.path().join("en.toml"), cut).unwrap();
    let d = dir.path().to_str().unwrap();
    bad(&["--templates", d], "labels.col_action");
    bad(&["--templates", d], "injects.road_closed.criterion");
    let empty = tempfile::tempdir().unwrap();
    bad(
        &["--templates", empty.path().to_str().unwrap()],
        "cannot read templates",
    );
}

#[test]
fn edited_templates_change_the_wording() {
    let dir = tempfile::tempdir().unwrap();
    let en = include_str!("../templates/drill/en.toml")
        .replace("119 call: building fire reported", "EDITED fire call");
    fs::write(dir.path().join("en.toml"), en).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    ok(&drill(
        COMPOUND,
        tmp.path(),
        &["--templates", dir.path().to_str().unwrap()],
    ));
    let csv = fs::read_to_string(tmp.path().join("msel.csv")).unwrap();
    assert!(csv.contains("EDITED fire call"));
}
