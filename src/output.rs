//! Output folders. Crucible writes only into a folder that is new, empty, or one it wrote
//! before: such a folder holds `.crucible-output.json`, the list of the files crucible
//! put there, and only files on that list are ever replaced or removed (notes a user
//! keeps beside the outputs, even inside `maps/`, survive a rerun).
//!
//! Writes are atomic: everything goes to a staging folder inside the target, then each
//! file is renamed into place, `summary.json` last. A crash leaves either the previous
//! outputs or the new ones, never a half-written file.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The file that marks a crucible output folder.
pub const MANIFEST: &str = ".crucible-output.json";

/// The folder given to `--out` holds files crucible did not write: refused as bad input
/// (exit 2), so that nothing of the user's is replaced.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is not empty and is not a crucible output folder (it has no {MANIFEST}): give a new or empty folder",
    .0.display()
)]
pub struct ForeignFolder(pub PathBuf);

/// `.crucible-output.json`: who wrote the folder and which files.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    written_by: String,
    /// Paths relative to the folder, `/`-separated.
    files: BTreeSet<String>,
}

impl Manifest {
    fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(MANIFEST);
        if !path.exists() {
            return Ok(None);
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let m = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is corrupt: delete it (crucible then treats every file there as not its own)",
                path.display()
            )
        })?;
        Ok(Some(m))
    }

    /// Written atomically: a crash leaves the old list or the new one.
    fn write(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(format!("{MANIFEST}.{}", std::process::id()));
        fs::write(&tmp, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        fs::rename(&tmp, dir.join(MANIFEST))
            .with_context(|| format!("cannot write {}", dir.join(MANIFEST).display()))
    }
}

/// Refuse `dir` ([`ForeignFolder`]) unless it is missing, empty or a crucible output
/// folder; nothing is written. Commands call it before the work, so that a wrong
/// `--out` is said at once, not after a long run.
pub fn check(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(ForeignFolder(dir.to_path_buf()));
    }
    if Manifest::read(dir)?.is_some() {
        return Ok(());
    }
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!(ForeignFolder(dir.to_path_buf()));
    }
    Ok(())
}

/// Make `dir` a crucible output folder, or refuse it (see [`check`]): it is created if
/// missing, taken if empty, and accepted as is if crucible wrote it before.
pub fn claim(dir: &Path) -> Result<()> {
    check(dir)?;
    if Manifest::read(dir)?.is_some() {
        return Ok(());
    }
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    Manifest {
        written_by: format!("crucible {}", crucible_engine::VERSION),
        files: BTreeSet::new(),
    }
    .write(dir)
}

/// Write one file of a claimed folder in place (atomically) and list it as crucible's.
pub fn write_file(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
    let mut m = Manifest::read(dir)?.unwrap_or_default();
    let target = dir.join(rel);
    let tmp = dir.join(format!(".{}.{}", rel.replace('/', "_"), std::process::id()));
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", target.display()))?;
    if m.files.insert(rel.to_owned()) {
        m.write(dir)?;
    }
    fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", target.display()))
}

/// A set of files being written into `dir`.
pub struct Staged {
    dir: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staged {
    /// Start writing into `dir` (see [`claim`]).
    pub fn new(dir: &Path) -> Result<Self> {
        claim(dir)?;
        let tmp = dir.join(format!(".staging-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp).with_context(|| format!("cannot write in {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// Where to write `rel` before commit (its folder is created).
    pub fn path(&self, rel: &str) -> Result<PathBuf> {
        let p = self.tmp.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)?;
        }
        Ok(p)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let p = self.path(rel)?;
        fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))
    }

    /// Move every staged file into the output folder, replacing old ones; in each staged
    /// subfolder (`maps/`, `plots/`), files crucible wrote before and did not write
    /// again are removed. `summary.json` goes last so its presence means the set is
    /// complete.
    pub fn commit(mut self) -> Result<()> {
        let mut new_files = Vec::new();
        list_files(&self.tmp, "", &mut new_files)?;
        new_files.sort_by_key(|n| (n == "summary.json", n.clone()));
        let mut manifest = Manifest::read(&self.dir)?.unwrap_or_default();
        manifest.written_by = format!("crucible {}", crucible_engine::VERSION);
        // Listed before they appear: a crash in between leaves no unlisted file of ours.
        manifest.files.extend(new_files.iter().cloned());
        manifest.write(&self.dir)?;
        for rel in &new_files {
            let target = self.dir.join(rel);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(self.tmp.join(rel), &target)
                .with_context(|| format!("cannot move {} into place", target.display()))?;
        }
        let restaged: BTreeSet<&str> = new_files
            .iter()
            .filter_map(|f| f.split_once('/').map(|(top, _)| top))
            .collect();
        let written: BTreeSet<&String> = new_files.iter().collect();
        let stale: Vec<String> = manifest
            .files
            .iter()
            .filter(|f| {
                !written.contains(f)
                    && f.split_once('/')
                        .is_some_and(|(top, _)| restaged.contains(top))
            })
            .cloned()
            .collect();
        for rel in &stale {
            let path = self.dir.join(rel);
            match fs::remove_file(&path) {
                Ok(()) => remove_empty_parents(&self.dir, &path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()));
                }
            }
            manifest.files.remove(rel);
        }
        manifest.write(&self.dir)?;
        fs::remove_dir_all(&self.tmp)?;
        self.committed = true;
        Ok(())
    }
}

/// Every file under `dir`, as `/`-separated paths relative to it, with `prefix`.
fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        if e.file_type()?.is_dir() {
            list_files(&e.path(), &format!("{rel}/"), out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// Remove the folders above a removed file that it left empty, up to `dir`.
fn remove_empty_parents(dir: &Path, removed: &Path) {
    let mut at = removed.parent();
    while let Some(p) = at {
        if p == dir || fs::remove_dir(p).is_err() {
            break;
        }
        at = p.parent();
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit_and_old_maps_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let s = Staged::new(&out).unwrap();
        s.write("maps/old.png", "x").unwrap();
        s.commit().unwrap();
        let s = Staged::new(&out).unwrap();
        s.write("summary.json", "{}").unwrap();
        s.write("maps/new.asc", "1").unwrap();
        assert!(!out.join("summary.json").exists());
        s.commit().unwrap();
        assert!(out.join("summary.json").exists() && out.join("maps/new.asc").exists());
        assert!(!out.join("maps/old.png").exists());
        let s = Staged::new(&out).unwrap();
        s.write("events.jsonl", "").unwrap();
        drop(s);
        assert!(!out.join("events.jsonl").exists());
        assert_eq!(
            fs::read_dir(&out).unwrap().count(),
            3,
            "summary.json, maps/ and the manifest; no staging folder left behind"
        );
    }

    #[test]
    fn only_files_crucible_wrote_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let s = Staged::new(&out).unwrap();
        s.write("maps/a.asc", "1").unwrap();
        s.write("maps/sub/b.asc", "1").unwrap();
        s.commit().unwrap();
        fs::write(out.join("maps/notes.txt"), "mine").unwrap();
        let s = Staged::new(&out).unwrap();
        s.write("maps/c.asc", "2").unwrap();
        s.commit().unwrap();
        assert_eq!(
            fs::read_to_string(out.join("maps/notes.txt")).unwrap(),
            "mine"
        );
        assert!(out.join("maps/c.asc").exists());
        assert!(!out.join("maps/a.asc").exists() && !out.join("maps/sub").exists());
        let m = Manifest::read(&out).unwrap().unwrap();
        assert_eq!(m.files.iter().collect::<Vec<_>>(), ["maps/c.asc"]);
    }

    #[test]
    fn a_folder_crucible_did_not_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        fs::create_dir_all(out.join("maps")).unwrap();
        fs::write(out.join("maps/notes.txt"), "mine").unwrap();
        let e = Staged::new(&out).err().unwrap();
        assert!(e.downcast_ref::<ForeignFolder>().is_some(), "{e}");
        assert_eq!(fs::read_dir(&out).unwrap().count(), 1, "nothing written");
        // A file where the folder should be is refused too; an empty folder is taken.
        fs::write(dir.path().join("f"), "").unwrap();
        assert!(claim(&dir.path().join("f")).is_err());
        fs::create_dir(dir.path().join("empty")).unwrap();
        claim(&dir.path().join("empty")).unwrap();
        claim(&dir.path().join("empty")).unwrap();
    }

    #[test]
    fn files_written_in_place_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        claim(&out).unwrap();
        write_file(&out, "batch.json", "{}").unwrap();
        let m = Manifest::read(&out).unwrap().unwrap();
        assert!(m.files.contains("batch.json"));
        assert_eq!(fs::read_dir(&out).unwrap().count(), 2, "no temporary left");
    }
}
