//! One writer per run directory: an exclusive advisory lock (`flock` on Unix) on
//! `<run dir>/lock`, held while a process computes into the directory. A second process
//! that wants the same run (another study, another Slurm array task) waits for it and
//! says so; the lock goes with the process, so a killed worker never leaves a stale one.
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A held run-directory lock; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Locks run directory `dir` (which must exist), waiting while another process
    /// holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let path = dir.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening run lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                tracing::info!(
                    "{} is being computed by another process ({}); waiting for it",
                    dir.display(),
                    written_holder(&path)
                );
                file.lock()
                    .with_context(|| format!("waiting for run lock {}", path.display()))?;
                tracing::info!("{}: the other process is done", dir.display());
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
        // Who holds it, for the message of the next process that waits.
        file.set_len(0).ok();
        let host = std::env::var("HOSTNAME").unwrap_or_default();
        let _ = write!(file, "pid {} {host}", std::process::id());
        Ok(RunLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Who computes into run directory `dir` now (`pid <n> <host>`, as the holder wrote
    /// it), or `None` when no process holds its lock. Takes and at once drops the lock
    /// when it is free; never waits.
    pub fn holder(dir: &Path) -> Option<String> {
        let path = dir.join("lock");
        let file = OpenOptions::new().read(true).write(true).open(&path).ok()?;
        match file.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) => Some(written_holder(&path)),
            Ok(()) | Err(std::fs::TryLockError::Error(_)) => None,
        }
    }
}

/// What the holder of lock file `path` wrote of itself (`pid <n> <host>`).
fn written_holder(path: &Path) -> String {
    match std::fs::read_to_string(path).unwrap_or_default().trim() {
        "" => "another process".to_string(),
        w => w.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_names_its_holder_and_a_released_one_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(RunLock::holder(dir.path()), None, "no lock file yet");
        let lock = RunLock::acquire(dir.path()).unwrap();
        let holder = RunLock::holder(dir.path()).expect("held");
        assert!(
            holder.starts_with(&format!("pid {}", std::process::id())),
            "{holder}"
        );
        drop(lock);
        assert_eq!(RunLock::holder(dir.path()), None);
    }
}
