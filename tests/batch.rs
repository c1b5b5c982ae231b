//! Batches as a user runs them: identical results for any --jobs, shards merged equal the
//! unsharded batch, kill -9 then --resume loses nothing, bad batch files are refused, and
//! the HTML report loads in a browser.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crucible() -> Command {
    let mut c = Command::cargo_bin("crucible").unwrap();
    c.current_dir(root());
    c
}

fn batch(file: &str, out: &Path, extra: &[&str]) {
    let o = crucible()
        .args(["batch", file, "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "batch failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

const AGGREGATES: [&str; 4] = ["runs.csv", "standards.csv", "stats.csv", "comparison.csv"];

fn same(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn jobs_and_shards_give_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    batch("tests/data/small-batch.toml", &d("j1"), &["--jobs", "1"]);
    batch("tests/data/small-batch.toml", &d("j2"), &["--jobs", "2"]);
    same(&d("j1"), &d("j2"), &AGGREGATES);
    batch("tests/data/small-batch.toml", &d("s0"), &["--shard", "0/2"]);
    batch("tests/data/small-batch.toml", &d("s1"), &["--shard", "1/2"]);
    assert!(
        !d("s0").join("runs.csv").exists(),
        "a shard alone does not aggregate"
    );
    let o = crucible()
        .args(["merge"])
        .arg(d("s0"))
        .arg(d("s1"))
        .args(["--batch", "tests/data/small-batch.toml", "--out"])
        .arg(d("merged"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    same(&d("j1"), &d("merged"), &AGGREGATES);
    // Merging one shard alone is refused: runs are missing.
    let o = crucible()
        .args(["merge"])
        .arg(d("s0"))
        .args(["--batch", "tests/data/small-batch.toml", "--out"])
        .arg(d("half"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is in none of the shards"));
    // --runs N: the first N replicates, same seeds.
    batch("tests/data/small-batch.toml", &d("r2"), &["--runs", "2"]);
    let full = std::fs::read_to_string(d("j1").join("runs.csv")).unwrap();
    let part = std::fs::read_to_string(d("r2").join("runs.csv")).unwrap();
    let seeds = |t: &str| {
        t.lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(seeds(&part)[..2], seeds(&full)[..2]);
    // Plots and report exist.
    for f in [
        "report.html",
        "plots/timeseries_wind_speed_m_s.png",
        "plots/return_period.png",
        "risk.csv",
    ] {
        assert!(d("j1").join(f).exists(), "{f}");
    }
}

#[test]
fn kill_then_resume_records_every_run_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed");
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_crucible"))
        .current_dir(root())
        .args([
            "batch",
            "tests/data/slow-batch.toml",
            "--jobs",
            "2",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as the first run is recorded (or after a while).
    for _ in 0..400 {
        std::thread::sleep(Duration::from_millis(25));
        if out.join("runs/000000/summary.json").exists()
            || out.join("runs/000001/summary.json").exists()
        {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = (0..8)
        .filter(|k| out.join(format!("runs/{k:06}/summary.json")).exists())
        .count();
    assert!(
        done_before < 8,
        "the batch finished before it could be killed; make tests/data/slow.toml slower"
    );
    // Without --resume the folder is protected.
    let o = crucible()
        .args(["batch", "tests/data/slow-batch.toml", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    batch("tests/data/slow-batch.toml", &out, &["--resume"]);
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let idx: Vec<u64> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(idx, (0..8).collect::<Vec<_>>(), "every run exactly once");
    assert!(
        runs.lines()
            .skip(1)
            .all(|l| l.split(',').nth(4) == Some("ok"))
    );
    let clean = dir.path().join("clean");
    batch("tests/data/slow-batch.toml", &clean, &[]);
    same(&out, &clean, &["runs.csv", "standards.csv"]);
}

#[test]
fn bad_batch_files_are_refused_with_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let cases = [
        ("runs = 0\nseed = 1\n", "`batch.runs`", ":7:"),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].sped_m_s\"\ndist = \"uniform\"\nmin = 1.0\nmax = 2.0\n",
            "`batch.vary[0].path`",
            ":10:",
        ),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"lognormal\"\nmedian = -1.0\nsigma = 0.5\n",
            "`batch.vary[0].median`",
            ":12:",
        ),
        (
            "runs = 2\nseed = 1\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"gamma\"\n",
            "`batch.vary[0].dist`",
            ":11:",
        ),
    ];
    for (body, key, line) in cases {
        let f = dir.path().join("b.toml");
        std::fs::write(
            &f,
            format!(
                "# test\nformat = 1\n\n[batch]\nname = \"b\"\nscenario = \"small.toml\"\n{body}"
            ),
        )
        .unwrap();
        let o = crucible()
            .arg("batch")
            .arg(&f)
            .arg("--out")
            .arg(dir.path().join("o"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{body}: {err}");
        assert!(
            err.contains(key) && err.contains(line) && err.contains("b.toml"),
            "{body}: {err}"
        );
        assert!(!err.contains("panicked"));
    }
}

/// The report opens in headless Chromium with no script errors and every image shown.
/// Needs Debian's `chromium`; CI installs it (`.ci/run`), elsewhere the test says it
/// skipped unless CRUCIBLE_REQUIRE_BROWSER is set.
#[test]
fn report_loads_in_headless_chromium() {
    let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("CRUCIBLE_REQUIRE_BROWSER").is_none(),
            "chromium is required but not installed"
        );
        eprintln!("skipped: chromium not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    batch("tests/data/small-batch.toml", &out, &[]);
    let profile = dir.path().join("profile");
    let o = StdCommand::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", out.join("report.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    let attr = |name: &str| -> Option<u64> {
        let at = dom.find(&format!("{name}=\""))? + name.len() + 2;
        dom[at..].split('"').next()?.parse().ok()
    };
    let images = attr("data-images").unwrap_or_else(|| {
        panic!(
            "the page's self-check did not run: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert!(images >= 3, "only {images} images");
    assert_eq!(attr("data-broken"), Some(0), "broken images");
    assert_eq!(attr("data-errors"), Some(0), "script errors");
}

/// A batch is identified by its content, not by how its path was typed: shards made
/// from different working directories merge, and --resume accepts any spelling of the
/// path (both said "the shards were made from another version" before).
#[test]
fn batch_identity_does_not_depend_on_the_typed_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    batch(
        "tests/data/small-batch.toml",
        &d("s0"),
        &["--runs", "1", "--shard", "0/2"],
    );
    let o = Command::cargo_bin("crucible")
        .unwrap()
        .current_dir(root().join("tests/data"))
        .args([
            "batch",
            "small-batch.toml",
            "--runs",
            "1",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(d("s1"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let absolute = root().join("tests/data/small-batch.toml");
    let o = crucible()
        .args(["batch"])
        .arg(&absolute)
        .args(["--runs", "1", "--shard", "0/2", "--resume", "--out"])
        .arg(d("s0"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = crucible()
        .arg("merge")
        .arg(d("s0"))
        .arg(d("s1"))
        .args(["--batch", "./tests/data/small-batch.toml", "--out"])
        .arg(d("merged"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d("merged/runs.csv").exists());
}
