//! The command line as a user runs it: outputs, determinism, exit codes.

use std::path::{Path, PathBuf};
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

fn run_into(scenario: &Path, out: &Path, threads: &str) {
    let o = crucible()
        .env("RAYON_NUM_THREADS", threads)
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const PURE_OUTPUTS: [&str; 3] = ["summary.json", "timeseries.csv", "events.jsonl"];

#[test]
fn run_writes_outputs_identical_for_any_thread_count_and_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = root().join("tests/data/small.toml");
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    run_into(&scenario, &a, "1");
    run_into(&scenario, &b, "2");
    run_into(&scenario, &c, "2");
    for f in PURE_OUTPUTS {
        let x = std::fs::read(a.join(f)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
        assert_eq!(
            x,
            std::fs::read(c.join(f)).unwrap(),
            "{f} differs on a rerun"
        );
    }
    assert!(a.join("timing.json").exists());
    let maps: Vec<_> = std::fs::read_dir(a.join("maps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        maps.iter()
            .any(|p| p.extension().is_some_and(|e| e == "png"))
    );
    assert!(
        maps.iter()
            .any(|p| p.extension().is_some_and(|e| e == "asc"))
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 7);
    assert!(
        summary["standards"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    // Events are one JSON object per line, in time order.
    let events = std::fs::read_to_string(a.join("events.jsonl")).unwrap();
    let times: Vec<f64> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["t"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn a_different_seed_changes_the_seed_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let o = crucible()
        .args(["run", "tests/data/small.toml", "--seed", "99", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["seed"], 99);
}

#[test]
fn every_bundled_scenario_checks() {
    let mut n = 0;
    let dirs = ["scenarios", "benches/gate", "tests/data"];
    for e in dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap())
    {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let o = crucible().arg("check").arg(&p).output().unwrap();
            assert!(
                o.status.success(),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            n += 1;
        }
    }
    assert!(n > 0);
}

#[test]
fn city_writes_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let o = crucible()
        .args(["city", "tests/data/small.toml", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for layer in [
        "elevation",
        "landuse",
        "roads",
        "building_use",
        "population_night",
        "manning",
    ] {
        assert!(
            dir.path().join(format!("{layer}.asc")).exists(),
            "{layer}.asc"
        );
        assert!(
            dir.path().join(format!("{layer}.png")).exists(),
            "{layer}.png"
        );
    }
    let assets = std::fs::read_to_string(dir.path().join("assets.csv")).unwrap();
    assert!(assets.starts_with("id,kind,x,y,capacity,depends_on\n") && assets.lines().count() > 3);
}

#[test]
fn published_schema_is_current() {
    let o = crucible().arg("schema").output().unwrap();
    let published = std::fs::read_to_string(root().join("docs/scenario.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        published.trim(),
        "docs/scenario.schema.json is stale: run `crucible schema > docs/scenario.schema.json`"
    );
}

#[test]
fn validate_city_passes_and_unknown_suite_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = crucible()
        .args(["validate", "city", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let report = std::fs::read_to_string(dir.path().join("validation.md")).unwrap();
    assert!(
        report.contains("| city / futian-calibration") || report.contains("futian-calibration")
    );
    let o = crucible()
        .args(["validate", "nosuch", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let o = crucible()
        .args(["check", "no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.toml"));
}

/// The compound scenario: identical outputs for 1 and 2 threads, events from every hazard
/// and from the lifeline cascade in time order, and the plan's indicators in the summary.
#[test]
fn compound_scenario_is_deterministic_and_shows_every_hazard() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = root().join("scenarios/typhoon-compound.toml");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_into(&scenario, &a, "1");
    run_into(&scenario, &b, "2");
    for f in PURE_OUTPUTS {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
    let events = std::fs::read_to_string(a.join("events.jsonl")).unwrap();
    let parsed: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for source in ["typhoon", "flood", "fire", "crowd", "lifelines"] {
        assert!(
            parsed.iter().any(|e| e["source"] == source),
            "no {source} event"
        );
    }
    assert!(
        parsed.iter().any(|e| e["kind"] == "asset.failed"),
        "no asset failure in the cascade"
    );
    assert!(
        parsed
            .windows(2)
            .all(|w| w[0]["t"].as_f64() <= w[1]["t"].as_f64()),
        "events out of time order"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    for k in [
        "indicator.disaster_deaths_per_million",
        "indicator.fire_deaths_per_100k",
        "indicator.direct_loss_share_gdp_pct",
        "indicator.customer_hours_without_power",
        "indicator.shelter_demand_to_capacity",
    ] {
        assert!(summary["kpis"][k]["value"].is_number(), "{k} missing");
    }
}

// ---- bad input is refused, never a panic --------------------------------------------------
//
// Each case below crashed, hung or was accepted before the check that now refuses it (or
// guards a documented error path). Scenario files with a single fault are in
// tests/malformed/ (tests/malformed.rs).

/// Run `c`; assert the exit code, that nothing panicked, and that stderr holds `wants`.
fn refused(c: &mut Command, code: i32, wants: &[&str]) {
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{c:?}: {err}");
    assert!(!err.contains("panicked"), "{c:?}: {err}");
    for w in wants {
        assert!(err.contains(w), "{c:?}: stderr lacks `{w}`: {err}");
    }
}

#[test]
fn bad_batch_files_are_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let head = "format = 1\n[batch]\nname = \"b\"\nscenario = \"small.toml\"\nseed = 1\n";
    let many_sweeps: String = (0..20)
        .map(|_| "[[batch.sweep]]\npath = \"hazards[0].speed_m_s\"\nvalues = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]\n")
        .collect();
    let cases = [
        // Inverted sample ranges (documented checks).
        (
            "runs = 2\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"uniform\"\nmin = 5.0\nmax = 1.0\n",
            vec![
                "b.toml:11:",
                "`batch.vary[0].max`",
                "max (1) is below min (5)",
            ],
        ),
        (
            "runs = 2\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"triangular\"\nmin = 5.0\nmode = 9.0\nmax = 1.0\n",
            vec![
                "b.toml:11:",
                "`batch.vary[0].mode`",
                "need min ≤ mode ≤ max",
            ],
        ),
        // 10^20 combinations overflowed the run count (a panic).
        (
            &*format!("runs = 2\n{many_sweeps}"),
            vec!["b.toml:6:", "`batch.runs`", "more than 1000000 runs"],
        ),
        // 3 × (2^63 − 1) runs overflowed it too.
        (
            "runs = 9223372036854775807\n[[batch.sweep]]\npath = \"hazards[0].speed_m_s\"\nvalues = [1.0, 2.0, 3.0]\n",
            vec!["b.toml:6:", "`batch.runs`", "more than 1000000 runs"],
        ),
    ];
    let out = dir.path().join("out");
    for (body, wants) in cases {
        let f = dir.path().join("b.toml");
        std::fs::write(&f, format!("{head}{body}")).unwrap();
        refused(crucible().arg("check").arg(&f), 2, &wants);
        refused(
            crucible().arg("batch").arg(&f).arg("--out").arg(&out),
            2,
            &wants,
        );
        assert!(!out.exists(), "a refused batch wrote {}", out.display());
    }
}

/// Faults of a batch file are named at their key and line, with a suggestion for a
/// misspelt name; a scenario given as a batch is called what it is.
#[test]
fn batch_faults_name_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/data/small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("a-folder")).unwrap();
    let head = |scenario: &str| {
        format!("format = 1\n[batch]\nname = \"b\"\nscenario = \"{scenario}\"\nseed = 1\n")
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        // loss_kpi was not checked: risk.csv came out empty.
        (
            head("small.toml")
                + "runs = 2\nevents_per_year = 1.0\nloss_kpi = \"population.presnt\"\n",
            vec![
                "b.toml:8:",
                "`batch.loss_kpi`",
                "did you mean `population.present`?",
            ],
        ),
        // A type error inside a [[batch.vary]] entry named only `batch.vary[0]`.
        (
            head("small.toml")
                + "runs = 2\n[[batch.vary]]\npath = \"hazards[0].speed_m_s\"\ndist = \"uniform\"\nmin = \"low\"\nmax = 1.0\n",
            vec!["b.toml:10:", "`batch.vary[0].min`", "invalid type"],
        ),
        // A misspelt sweep path gets a suggestion.
        (
            head("small.toml")
                + "runs = 2\n[[batch.sweep]]\npath = \"hazards[0].sped_m_s\"\nvalues = [1.0]\n",
            vec![
                "b.toml:8:",
                "`batch.sweep[0].path`",
                "did you mean `speed_m_s`?",
            ],
        ),
        // A missing base scenario or a folder: the key and its line, not only the path.
        (
            head("no-such.toml") + "runs = 2\n",
            vec!["b.toml:4:", "`batch.scenario`", "no-such.toml"],
        ),
        (
            head("a-folder") + "runs = 2\n",
            vec!["b.toml:4:", "`batch.scenario`", "is not a file"],
        ),
    ];
    let out = dir.path().join("out");
    for (text, wants) in cases {
        let f = dir.path().join("b.toml");
        std::fs::write(&f, text).unwrap();
        refused(crucible().arg("check").arg(&f), 2, &wants);
        refused(
            crucible().arg("batch").arg(&f).arg("--out").arg(&out),
            2,
            &wants,
        );
        assert!(!out.exists(), "a refused batch wrote {}", out.display());
    }
    // A scenario is not a batch (this said ``missing field `batch` `` or `time`).
    refused(
        crucible()
            .args(["batch", "tests/data/small.toml", "--out"])
            .arg(&out),
        2,
        &["small.toml", "not a batch file", "crucible run"],
    );
}

/// Files a scenario names are read only inside its folder tree (or folders allowed with
/// `--allow-path`), only if regular, never without bound, and never echoed.
#[test]
fn scenarios_read_only_their_own_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_dir = dir.path().join("scenario");
    std::fs::create_dir(&scenario_dir).unwrap();
    let secret = dir.path().join("secret.asc");
    std::fs::write(&secret, "root:SECRET-HASH:0:0:root\n").unwrap();
    let write = |name: &str, elevation: &str| {
        let f = scenario_dir.join(name);
        std::fs::write(
            &f,
            format!(
                "format = 1\nname = \"x\"\n[time]\nduration_s = 60.0\ntick_s = 60.0\n[city]\nsource = \"raster\"\nelevation = \"{elevation}\"\n"
            ),
        )
        .unwrap();
        f
    };
    let outside = write("outside.toml", "../secret.asc");
    refused(
        crucible().arg("check").arg(&outside),
        2,
        &[
            "outside.toml:8:",
            "`city.elevation`",
            "outside the scenario's folder",
            "--allow-path",
        ],
    );
    let o = crucible().arg("check").arg(&outside).output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stderr).contains("SECRET"));
    // Allowed, the file is read, and what is shown of it is a short escaped excerpt.
    let o = crucible()
        .arg("check")
        .arg(&outside)
        .arg("--allow-path")
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has no value") && err.contains("`root:SECRET"),
        "{err}"
    );
    // A device is never read, even where allowed (it grew memory until the allocator
    // aborted before), nor a pipe (it blocked for ever).
    let device = write("device.toml", "/dev/zero");
    refused(
        crucible()
            .arg("check")
            .arg(&device)
            .args(["--allow-path", "/dev"]),
        2,
        &["`city.elevation`", "not a regular file"],
    );
    #[cfg(unix)]
    {
        let fifo = scenario_dir.join("pipe.asc");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let piped = write("pipe.toml", "pipe.asc");
            let mut c = crucible();
            c.arg("check").arg(&piped).timeout(Duration::from_secs(60));
            refused(&mut c, 2, &["`city.elevation`", "not a regular file"]);
        }
    }
}

/// A shard folder with a corrupt part is refused, naming the file, and the merged folder
/// is not written at all.
#[test]
fn merge_refuses_corrupt_shards_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    for (k, shard) in ["s0", "s1"].into_iter().enumerate() {
        let o = crucible()
            .args(["batch", "tests/data/small-batch.toml", "--runs", "1"])
            .arg("--shard")
            .arg(format!("{k}/2"))
            .arg("--out")
            .arg(d(shard))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let merge = || {
        let mut c = crucible();
        c.arg("merge")
            .arg(d("s0"))
            .arg(d("s1"))
            .args(["--batch", "tests/data/small-batch.toml", "--out"])
            .arg(d("merged"));
        c
    };
    let run1 = d("s1").join("runs/000001");
    let manifest = |s: &str| d(s).join("batch.json");
    // The first run's map index is the one aggregation sizes its grids from.
    let index = d("s0").join("runs/000000/maps/index.json");
    let original_index = std::fs::read_to_string(&index).unwrap();
    // (file, corrupt content, what stderr must say)
    let cases: Vec<(Vec<PathBuf>, String, Vec<String>)> = vec![
        (
            vec![run1.join("summary.json")],
            "{\"kpis\": {".into(),
            vec![
                format!("{}", run1.join("summary.json").display()),
                "not valid JSON".into(),
            ],
        ),
        (
            vec![manifest("s0"), manifest("s1")],
            std::fs::read_to_string(manifest("s0"))
                .unwrap()
                .replace("\"replicates\": 1", "\"replicates\": 18446744073709551615"),
            vec!["replicates = 18446744073709551615".into()],
        ),
        (
            vec![index.clone()],
            original_index.replacen("\"nx\": ", "\"nx\": 4294967296", 1),
            vec![format!("{}", index.display()), "does not match".into()],
        ),
    ];
    for (files, bad, wants) in cases {
        let saved: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        assert!(files.iter().zip(&saved).all(|(_, s)| *s != bad), "{bad}");
        for f in &files {
            std::fs::write(f, &bad).unwrap();
        }
        let wants: Vec<&str> = wants.iter().map(String::as_str).collect();
        refused(&mut merge(), 1, &wants);
        assert!(!d("merged").exists(), "a refused merge wrote {wants:?}");
        for (f, s) in files.iter().zip(saved) {
            std::fs::write(f, s).unwrap();
        }
    }
    let o = merge().output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn bad_drill_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    for (args, want) in [
        (
            &["--lang", "xx"][..],
            "--lang: no built-in templates for `xx`",
        ),
        // 3 × 4·10^9 runs were planned: an abort on a 96 GB allocation.
        (
            &["--variants", "4000000000"][..],
            "--variants must be at most 100",
        ),
        (
            &["--difficulty", "easy", "--batch", "4000000000"][..],
            "--batch must be at most 1000",
        ),
        (
            &["--drill-hours", "NaN"][..],
            "--drill-hours must be a positive number",
        ),
        (&["--start", "25:00"][..], "bad exercise start `25:00`"),
    ] {
        refused(
            crucible()
                .args(["drill", "tests/data/small.toml", "--out"])
                .arg(&out)
                .args(args),
            2,
            &[want],
        );
        assert!(!out.exists());
    }
}

/// Extreme values that are legal must build, not hang or panic:
/// - a typhoon forcing step far below the tick (the run rounds it up to a tick): the
///   closest-approach scan at build used it as is and never ended (`check` hung);
/// - a flood pump catchment of 10^300 m (every cell): the search radius in cells
///   overflowed (a panic), and 10^7 m searched 10^12 cells.
///
/// The timeout only turns a hang into a failure; it is not a performance bound.
#[test]
fn extreme_legal_values_build_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let head = "format = 1\nname = \"extreme\"\n[time]\nduration_s = 3600.0\ntick_s = 60.0\n\
                [city]\nsource = \"generate\"\nwidth_m = 1000.0\nheight_m = 800.0\ncell_m = 10.0\n";
    for hazard in [
        "[[hazards]]\nkind = \"typhoon\"\nforcing_step_s = 1e-12\n\
         track = { source = \"synthetic\", landfall_time_s = 0.0, heading_deg = 0.0, forward_speed_m_s = 5.0, vmax_m_s = 40.0 }\n",
        "[[hazards]]\nkind = \"flood\"\npump_catchment_m = 1e300\n",
        "[[hazards]]\nkind = \"flood\"\npump_catchment_m = 1e7\n",
    ] {
        let f = dir.path().join("extreme.toml");
        std::fs::write(&f, format!("{head}{hazard}")).unwrap();
        let o = crucible()
            .arg("check")
            .arg(&f)
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{hazard}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// A thread count no machine honours is refused at once; before, the worker pool started
/// threads until the system's limit (minutes) and a failed start was a panic. The
/// timeout turns such a hang into a failure.
#[test]
fn absurd_thread_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    refused(
        crucible()
            .env("RAYON_NUM_THREADS", "1000000000")
            .args(["check", "tests/data/small.toml"])
            .timeout(Duration::from_secs(300)),
        2,
        &["RAYON_NUM_THREADS=1000000000: at most 4096 threads"],
    );
    refused(
        crucible()
            .args([
                "batch",
                "tests/data/small-batch.toml",
                "--jobs",
                "1000000000",
                "--out",
            ])
            .arg(dir.path().join("b"))
            .timeout(Duration::from_secs(300)),
        2,
        &["--jobs must be at most 4096"],
    );
    assert!(!dir.path().join("b").exists());
}
