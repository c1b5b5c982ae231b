//! Golden outputs: every bundled scenario's pure outputs (`summary.json`,
//! `timeseries.csv`, `events.jsonl`) have committed SHA-256 digests, so a change meant to
//! keep behaviour (a refactor) is proven to keep it byte for byte.
//!
//! A change of behaviour regenerates the digests on purpose, and says so in its commit:
//! `CRUCIBLE_BLESS=1 cargo test --release --test golden -- --include-ignored`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sha2::{Digest, Sha256};

const PURE_OUTPUTS: [&str; 3] = ["summary.json", "timeseries.csv", "events.jsonl"];

/// Scenarios that take seconds: checked on every test run.
const FAST: [&str; 7] = [
    "crowd-example",
    "drill-example",
    "fire-example",
    "flood-example",
    "futian-default",
    "typhoon-compound",
    "typhoon-example",
];

/// Scenarios that take minutes (district and stadium crowds): checked with
/// `cargo test --release --test golden -- --include-ignored`.
const SLOW: [&str; 2] = ["crowd-district", "crowd-stadium"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn digests_file() -> PathBuf {
    root().join("tests/golden/digests.sha256")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn committed() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(digests_file()).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(d, name)| (name.to_owned(), d.to_owned()))
        .collect()
}

fn digests_of_run(name: &str, out: &Path) -> BTreeMap<String, String> {
    let o = Command::cargo_bin("crucible")
        .unwrap()
        .current_dir(root())
        .arg("run")
        .arg(format!("scenarios/{name}.toml"))
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    PURE_OUTPUTS
        .iter()
        .map(|f| {
            let bytes = std::fs::read(out.join(f)).unwrap();
            (format!("{name}/{f}"), hex(&Sha256::digest(&bytes)))
        })
        .collect()
}

fn check(names: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut got = BTreeMap::new();
    for name in names {
        got.extend(digests_of_run(name, &dir.path().join(name)));
    }
    if std::env::var_os("CRUCIBLE_BLESS").is_some() {
        let mut all = committed();
        all.extend(got);
        let text: String = all.iter().map(|(n, d)| format!("{d}  {n}\n")).collect();
        std::fs::write(digests_file(), text).unwrap();
        return;
    }
    let want = committed();
    let changed: Vec<String> = got
        .iter()
        .filter(|(n, d)| want.get(*n) != Some(d))
        .map(|(n, _)| n.clone())
        .collect();
    assert!(
        changed.is_empty(),
        "outputs differ from tests/golden/digests.sha256: {changed:?}\n\
         (a deliberate change of behaviour re-blesses them: see this file's header)"
    );
}

#[test]
fn fast_scenarios_match_their_digests() {
    check(&FAST);
}

#[test]
#[ignore = "minutes-long crowd runs: cargo test --release --test golden -- --include-ignored"]
fn slow_scenarios_match_their_digests() {
    check(&SLOW);
}

#[test]
fn every_bundled_scenario_has_digests() {
    let want = committed();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden || p.extension().is_none_or(|e| e != "toml") || text.contains("\n[batch]") {
            continue;
        }
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            FAST.contains(&name.as_str()) || SLOW.contains(&name.as_str()),
            "{name} is in neither FAST nor SLOW"
        );
        for f in PURE_OUTPUTS {
            assert!(
                want.contains_key(&format!("{name}/{f}")),
                "no digest for {name}/{f}"
            );
        }
    }
}

#[test]
fn the_order_of_hazards_in_the_file_does_not_change_the_run() {
    // The same scenario with its [[hazards]] reversed, beside the original so its
    // relative paths still resolve.
    let name = "drill-example";
    let text = std::fs::read_to_string(root().join(format!("scenarios/{name}.toml"))).unwrap();
    let mut doc: toml::Table = text.parse().unwrap();
    let hazards = doc
        .get_mut("hazards")
        .and_then(|h| h.as_array_mut())
        .unwrap();
    assert!(hazards.len() >= 3, "a scenario with several hazards");
    hazards.reverse();
    let reversed = tempfile::Builder::new()
        .prefix(".reversed-")
        .suffix(".toml")
        .tempfile_in(root().join("scenarios"))
        .unwrap();
    std::fs::write(reversed.path(), toml::to_string(&doc).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |scenario: &Path, out: &Path| {
        let o = Command::cargo_bin("crucible")
            .unwrap()
            .current_dir(root())
            .arg("run")
            .arg(scenario)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(
        &root().join(format!("scenarios/{name}.toml")),
        &dir.path().join("a"),
    );
    run(reversed.path(), &dir.path().join("b"));
    for f in PURE_OUTPUTS {
        let a = std::fs::read(dir.path().join("a").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs when the hazards are listed in reverse");
    }
}
