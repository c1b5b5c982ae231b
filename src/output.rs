//! Output folders written atomically: everything goes to a staging folder inside the
//! target, then each entry is renamed into place, `summary.json` last. A crash leaves
//! either the previous outputs or the new ones, never a half-written file.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A set of files being written into `dir`.
pub struct Staged {
    dir: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staged {
    pub fn new(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
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

    /// Move every staged entry into the output folder, replacing old ones;
    /// `summary.json` goes last so its presence means the set is complete.
    pub fn commit(mut self) -> Result<()> {
        let mut names: Vec<_> = fs::read_dir(&self.tmp)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort_by_key(|n| (n == "summary.json", n.clone()));
        for name in names {
            let target = self.dir.join(&name);
            if target.is_dir() {
                fs::remove_dir_all(&target)?;
            }
            fs::rename(self.tmp.join(&name), &target)
                .with_context(|| format!("cannot move {} into place", target.display()))?;
        }
        fs::remove_dir(&self.tmp)?;
        self.committed = true;
        Ok(())
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
        fs::create_dir_all(out.join("maps")).unwrap();
        fs::write(out.join("maps/old.png"), "x").unwrap();
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
            2,
            "no staging folder left behind"
        );
    }
}
