//! Every malformed scenario in tests/malformed/ is refused with exit code 2 and a message
//! naming the key and its line; none panics. Each file says what it expects in its
//! header (`# expect-key:`, `# expect-text:`) and marks the offending line with `# <-`.

use std::path::Path;

use assert_cmd::Command;

struct Expect {
    key: String,
    text: String,
    line: Option<usize>,
}

fn expectations(path: &Path) -> Expect {
    let text = std::fs::read_to_string(path).unwrap();
    let header = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    Expect {
        key: header("# expect-key:"),
        text: header("# expect-text:"),
        line: text.lines().position(|l| l.contains("# <-")).map(|i| i + 1),
    }
}

fn malformed_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn malformed_scenarios_are_refused_with_key_and_line() {
    let files = malformed_files();
    assert!(files.len() >= 20, "only {} malformed files", files.len());
    let mut problems = Vec::new();
    for file in &files {
        let want = expectations(file);
        for cmd in ["check", "run"] {
            let mut c = Command::cargo_bin("crucible").unwrap();
            c.arg(cmd).arg(file);
            if cmd == "run" {
                c.arg("--out")
                    .arg(std::env::temp_dir().join("crucible-malformed-never-written"));
            }
            let out = c.output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let name = file.file_name().unwrap().to_string_lossy();
            let mut fail =
                |why: String| problems.push(format!("{name} ({cmd}): {why}\n    stderr: {err}"));
            if out.status.code() != Some(2) {
                fail(format!("exit code {:?}, expected 2", out.status.code()));
            }
            if err.contains("panicked") {
                fail("panicked".into());
            }
            if !err.contains(name.as_ref()) {
                fail("message does not name the file".into());
            }
            if !want.key.is_empty() && !err.contains(&format!("`{}`", want.key)) {
                fail(format!("message does not name the key `{}`", want.key));
            }
            if let Some(line) = want.line
                && !err.contains(&format!("{name}:{line}:"))
            {
                fail(format!("message does not point at line {line}"));
            }
            if !err.contains(&want.text) {
                fail(format!("message lacks `{}`", want.text));
            }
        }
    }
    assert!(
        !std::env::temp_dir()
            .join("crucible-malformed-never-written/summary.json")
            .exists(),
        "a refused run wrote outputs"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
