//! What the command line prints, as CI or a log file sees it (stderr not a terminal):
//! no panic on a closed stdout (issue #16, item 12); progress lines, no colour escapes,
//! a repeated warning once with its count, -q (item 13); thread counts that cannot be
//! honoured are refused (item 14).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crucible() -> Command {
    let mut c = Command::cargo_bin("crucible").unwrap();
    c.current_dir(root());
    c.env_remove("CRUCIBLE_LOG")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("NO_COLOR");
    c
}

fn stderr_of(c: &mut Command) -> (Option<i32>, String) {
    let o = c.output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Each command writes to a stdout whose reader is already gone (`crucible schema |
/// head` once head has its lines): it must finish as usual, not panic (exit 101).
#[test]
fn a_closed_stdout_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cases: Vec<Vec<String>> = vec![
        vec!["schema".into()],
        vec!["check".into(), "tests/data/small.toml".into()],
        vec![
            "run".into(),
            "tests/data/small.toml".into(),
            "--out".into(),
            out.display().to_string(),
        ],
        vec!["--help".into()],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_crucible"))
            .current_dir(root())
            .args(&args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(
        out.join("summary.json").is_file(),
        "the run still wrote its outputs"
    );
}

/// The drill's compound scenario reads a typhoon track whose end points are dropped
/// with a warning; a batch of it builds the scenario once per run.
fn compound_batch(dir: &Path, runs: u64) -> PathBuf {
    let scenario = root().join("tests/data/drill/compound.toml");
    let f = dir.join("b.toml");
    std::fs::write(
        &f,
        format!(
            "format = 1\n[batch]\nname = \"warned\"\nscenario = \"{}\"\nruns = {runs}\nseed = 3\n",
            scenario.display()
        ),
    )
    .unwrap();
    f
}

#[test]
fn a_repeated_warning_is_printed_once_with_its_count_and_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let batch = compound_batch(dir.path(), 3);
    let (code, err) = stderr_of(
        crucible()
            .arg("batch")
            .arg(&batch)
            .arg("--out")
            .arg(dir.path().join("o")),
    );
    assert_eq!(code, Some(0), "{err}");
    let warning = "track point(s) without wind or pressure";
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(warning)).collect();
    assert_eq!(lines.len(), 2, "the warning, then its count: {err}");
    assert!(lines[0].starts_with("warning: "), "{err}");
    assert!(lines[1].contains("3 times in all"), "{err}");
    assert!(!err.contains('\x1b'), "colour escapes in a log: {err:?}");
    // -q: errors only.
    let (code, err) = stderr_of(
        crucible()
            .arg("batch")
            .arg(&batch)
            .args(["-q", "--runs", "1", "--out"])
            .arg(dir.path().join("q")),
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err, "", "-q printed something");
    // -v adds what the engine reports as information; -q and -v together are refused.
    let (code, _) = stderr_of(crucible().args(["-q", "-v", "check", "tests/data/small.toml"]));
    assert_eq!(code, Some(2));
}

#[test]
fn a_long_command_prints_plain_progress_lines_in_a_log() {
    let dir = tempfile::tempdir().unwrap();
    // About a second of 2 million one-second ticks.
    let scenario = root().join("tests/data/slow.toml");
    let (code, err) = stderr_of(
        crucible()
            .env("CRUCIBLE_PROGRESS_S", "0.1")
            .arg("run")
            .arg(&scenario)
            .arg("--out")
            .arg(dir.path().join("o")),
    );
    assert_eq!(code, Some(0), "{err}");
    let progress: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("slow test district: ") && l.contains(" % after "))
        .collect();
    assert!(!progress.is_empty(), "no progress line: {err}");
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{err:?}");
    let (code, err) = stderr_of(
        crucible()
            .env("CRUCIBLE_PROGRESS_S", "0.1")
            .args(["-q", "run"])
            .arg(&scenario)
            .arg("--out")
            .arg(dir.path().join("q")),
    );
    assert_eq!((code, err.as_str()), (Some(0), ""));
}

#[test]
fn thread_counts_that_mean_nothing_are_refused() {
    for value in ["abc", "0", "-1", "2.5"] {
        let (code, err) = stderr_of(
            crucible()
                .env("RAYON_NUM_THREADS", value)
                .args(["check", "tests/data/small.toml"]),
        );
        assert_eq!(code, Some(2), "RAYON_NUM_THREADS={value}: {err}");
        assert!(
            err.contains(&format!(
                "RAYON_NUM_THREADS={value}: expected a whole number"
            )),
            "{err}"
        );
    }
    let (code, err) = stderr_of(
        crucible()
            .env("RAYON_NUM_THREADS", "2")
            .args(["check", "tests/data/small.toml"]),
    );
    assert_eq!(code, Some(0), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = stderr_of(
        crucible()
            .args([
                "batch",
                "tests/data/small-batch.toml",
                "--jobs",
                "0",
                "--out",
            ])
            .arg(dir.path().join("b")),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--jobs must be at least 1"), "{err}");
    assert!(!dir.path().join("b").exists());
}
