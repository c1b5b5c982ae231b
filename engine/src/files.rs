//! Input files named by a scenario: where they may be, what they may be, how much of
//! them is read, and how little of them is ever shown.
//!
//! A scenario is often someone else's file. Without limits, `elevation =
//! "../../etc/shadow"` would print the first line of a secret in an error message, and
//! `elevation = "/dev/zero"` would fill memory until the allocator aborts. So every
//! reader goes through [`read_input`]: the path must lie inside the scenario's folder
//! tree (or a folder allowed with `--allow-path`), be a regular file, and be no larger
//! than the reader's bound; error messages quote a file's content only as a short,
//! escaped [`excerpt`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Largest input file read whole (a CSV table, a tide series, a best track), bytes.
/// Raster grids get a bound from their header instead.
pub const MAX_TABLE_BYTES: u64 = 256 << 20;

/// Folders allowed beyond each scenario's own, set once by the command line.
static ALLOWED: OnceLock<Vec<PathBuf>> = OnceLock::new();

/// Allow scenarios to read files under `dirs` too (the CLI's `--allow-path DIR`). Only
/// the first call counts: the set is fixed for the life of the process. Folders that do
/// not exist are an error, so a typo does not silently allow nothing.
pub fn allow_dirs(dirs: &[PathBuf]) -> Result<(), String> {
    let mut canon = Vec::with_capacity(dirs.len());
    for d in dirs {
        let c = d
            .canonicalize()
            .map_err(|e| format!("--allow-path {}: {e}", d.display()))?;
        if !c.is_dir() {
            return Err(format!("--allow-path {}: not a folder", d.display()));
        }
        canon.push(c);
    }
    ALLOWED
        .set(canon)
        .map_err(|_| "the allowed folders are already set".to_string())
}

/// Where a scenario's input files may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPolicy {
    /// Canonical folders; None: anywhere (tests and programs that build scenarios in code).
    roots: Option<Vec<PathBuf>>,
}

impl InputPolicy {
    /// The scenario's own folder tree, plus the folders allowed on the command line.
    pub fn for_scenario(base_dir: &Path) -> Self {
        let base = if base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base_dir
        };
        let mut roots: Vec<PathBuf> = base.canonicalize().into_iter().collect();
        roots.extend(ALLOWED.get().into_iter().flatten().cloned());
        Self { roots: Some(roots) }
    }

    /// No confinement (files are still checked to be regular and bounded).
    pub fn anywhere() -> Self {
        Self { roots: None }
    }

    /// The canonical path of `path` if the policy lets it be read.
    pub fn check(&self, path: &Path) -> Result<PathBuf, InputError> {
        let shown = path.display().to_string();
        let canon = path.canonicalize().map_err(|e| InputError::Missing {
            path: shown.clone(),
            why: e.to_string(),
        })?;
        if let Some(roots) = &self.roots
            && !roots.iter().any(|r| canon.starts_with(r))
        {
            return Err(InputError::Outside { path: shown });
        }
        let meta = std::fs::metadata(&canon).map_err(|e| InputError::Missing {
            path: shown.clone(),
            why: e.to_string(),
        })?;
        if !meta.is_file() {
            return Err(InputError::NotAFile { path: shown });
        }
        Ok(canon)
    }
}

/// Why an input file was not read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InputError {
    #[error("{path}: cannot read: {why}")]
    Missing { path: String, why: String },
    #[error(
        "{path} is outside the scenario's folder: scenarios read only files in their own \
         folder tree; allow another folder with `--allow-path DIR`"
    )]
    Outside { path: String },
    #[error("{path} is not a regular file (a folder, device or pipe is never read)")]
    NotAFile { path: String },
    #[error("{path} is larger than the {limit} bytes this input may have")]
    TooLarge { path: String, limit: u64 },
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

/// Read the text of an input file that `policy` allows, at most `max_bytes` of it.
pub fn read_input(path: &Path, policy: &InputPolicy, max_bytes: u64) -> Result<String, InputError> {
    let bytes = read_input_bytes(path, policy, max_bytes)?;
    String::from_utf8(bytes).map_err(|_| InputError::NotText {
        path: path.display().to_string(),
    })
}

/// [`read_input`] without the UTF-8 check.
pub fn read_input_bytes(
    path: &Path,
    policy: &InputPolicy,
    max_bytes: u64,
) -> Result<Vec<u8>, InputError> {
    let canon = policy.check(path)?;
    let shown = path.display().to_string();
    let io = |e: std::io::Error| InputError::Missing {
        path: shown.clone(),
        why: e.to_string(),
    };
    let file = std::fs::File::open(&canon).map_err(io)?;
    // The bound holds even if the file grows between the check and the read.
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(InputError::TooLarge {
            path: shown,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// At most `max_chars` characters of `text`, escaped (control characters as `\u{…}`,
/// backticks as \`) between backticks: what an error message may show of a file's
/// content.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::from("`");
    let mut chars = text.chars();
    for c in chars.by_ref().take(max_chars) {
        match c {
            '`' => out.push_str("\\`"),
            '"' | '\'' => out.push(c),
            c => out.extend(c.escape_debug()),
        }
    }
    out.push('`');
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_escaped() {
        assert_eq!(excerpt("abc", 10), "`abc`");
        assert_eq!(excerpt("abcdef", 3), "`abc`…");
        assert_eq!(excerpt("a\u{1b}[2Jb", 10), "`a\\u{1b}[2Jb`");
        assert_eq!(excerpt("a`b", 10), "`a\\`b`");
    }

    #[test]
    fn inputs_stay_in_the_scenario_folder_and_are_regular_bounded_files() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("scenario");
        std::fs::create_dir_all(inner.join("data")).unwrap();
        std::fs::write(inner.join("data/a.csv"), "x\n").unwrap();
        std::fs::write(dir.path().join("secret"), "root:x:0:0\n").unwrap();
        let policy = InputPolicy::for_scenario(&inner);
        assert_eq!(
            read_input(&inner.join("data/a.csv"), &policy, 100).unwrap(),
            "x\n"
        );
        let outside = read_input(&inner.join("../secret"), &policy, 100).unwrap_err();
        assert!(matches!(outside, InputError::Outside { .. }), "{outside}");
        assert!(!outside.to_string().contains("root"));
        assert!(matches!(
            read_input(&inner.join("data"), &policy, 100).unwrap_err(),
            InputError::NotAFile { .. }
        ));
        assert!(matches!(
            read_input(&inner.join("data/a.csv"), &policy, 1).unwrap_err(),
            InputError::TooLarge { .. }
        ));
        assert!(matches!(
            read_input(Path::new("/dev/zero"), &InputPolicy::anywhere(), 100).unwrap_err(),
            InputError::NotAFile { .. }
        ));
        // A symbolic link out of the folder is followed before the check.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), inner.join("link")).unwrap();
            assert!(matches!(
                read_input(&inner.join("link"), &policy, 100).unwrap_err(),
                InputError::Outside { .. }
            ));
        }
    }
}
