//! `--out DIR` as a user gives it: a folder crucible did not write is refused, and in a
//! folder it did write only its own files are replaced (issue #16, item 3); the hint
//! after a shard is a `merge` command that works (item 9).

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crucible() -> Command {
    let mut c = Command::cargo_bin("crucible").unwrap();
    c.current_dir(root());
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn notes(dir: &Path, sub: &str) -> PathBuf {
    let p = dir.join(sub).join("notes.txt");
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, "my notes").unwrap();
    p
}

fn entries(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

#[test]
fn a_folder_crucible_did_not_write_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let mine = notes(&d, "maps");
    let run = || {
        let mut c = crucible();
        c.args(["run", "tests/data/small.toml", "--out"]).arg(&d);
        c
    };
    let o = run().output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is not a crucible output folder") && err.contains(".crucible-output.json"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&mine).unwrap(), "my notes");
    assert_eq!(entries(&d), 1, "nothing written beside maps/");
    assert_eq!(entries(&d.join("maps")), 1);
    for cmd in [
        &["batch", "tests/data/small-batch.toml", "--runs", "1"][..],
        &["drill", "tests/data/small.toml"][..],
        &["city", "tests/data/small.toml"][..],
    ] {
        let o = crucible().args(cmd).arg("--out").arg(&d).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd:?}");
        assert_eq!(fs::read_to_string(&mine).unwrap(), "my notes");
        assert_eq!(entries(&d), 1, "{cmd:?} wrote into the folder");
    }
}

#[test]
fn a_rerun_replaces_only_what_crucible_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let run = |seed: &str| {
        ok(crucible()
            .args(["run", "tests/data/small.toml", "--seed", seed, "--out"])
            .arg(&d));
    };
    run("1");
    assert!(d.join(".crucible-output.json").is_file());
    let in_maps = notes(&d, "maps");
    let beside = notes(&d, "");
    // A map crucible wrote that the next run does not write is removed.
    fs::copy(d.join("maps/population.asc"), d.join("maps/stale.asc")).unwrap();
    let manifest = fs::read_to_string(d.join(".crucible-output.json")).unwrap();
    fs::write(
        d.join(".crucible-output.json"),
        manifest.replace(
            "\"maps/index.json\",",
            "\"maps/index.json\",\n    \"maps/stale.asc\",",
        ),
    )
    .unwrap();
    run("2");
    assert_eq!(fs::read_to_string(&in_maps).unwrap(), "my notes");
    assert_eq!(fs::read_to_string(&beside).unwrap(), "my notes");
    assert!(!d.join("maps/stale.asc").exists());
    assert!(d.join("maps/population.png").is_file());
    let summary = fs::read_to_string(d.join("summary.json")).unwrap();
    assert!(summary.contains("\"seed\": 2"));
}

#[test]
fn a_batch_keeps_files_of_its_own_in_maps_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("b");
    let batch = || {
        let mut c = crucible();
        c.args([
            "batch",
            "tests/data/small-batch.toml",
            "--runs",
            "1",
            "--out",
        ])
        .arg(&d);
        c
    };
    ok(&mut batch());
    let kept = [notes(&d, "maps"), notes(&d, "plots")];
    ok(batch().arg("--resume"));
    for k in &kept {
        assert_eq!(fs::read_to_string(k).unwrap(), "my notes");
    }
    assert!(d.join("report.html").is_file() && d.join("plots/return_period.png").is_file());
}

#[test]
fn the_hint_after_a_shard_is_a_merge_command_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let shard = |k: u64| dir.path().join(format!("s{k}"));
    let mut hint = String::new();
    for k in 0..2 {
        let out = ok(crucible()
            .args(["batch", "tests/data/small-batch.toml", "--runs", "1"])
            .arg("--shard")
            .arg(format!("{k}/2"))
            .arg("--out")
            .arg(shard(k)));
        hint = out
            .lines()
            .find(|l| l.trim_start().starts_with("crucible merge"))
            .unwrap_or_else(|| panic!("no merge command in: {out}"))
            .to_owned();
    }
    let merged = dir.path().join("merged");
    let words: Vec<String> = hint
        .split_whitespace()
        .skip(1)
        .map(|w| match w {
            "SHARD_0" => shard(0).display().to_string(),
            "SHARD_1" => shard(1).display().to_string(),
            "MERGED" => merged.display().to_string(),
            w => w.to_owned(),
        })
        .collect();
    assert!(words.contains(&"--batch".to_owned()), "{hint}");
    ok(crucible().args(&words));
    assert!(merged.join("runs.csv").is_file());
}
