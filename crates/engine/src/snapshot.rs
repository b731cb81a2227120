//! A directory of files that changes as one unit: a checkpoint of a training run, the
//! per-group state of a C2S2 run.
//!
//! Each save writes its files under names no earlier save used (`<name>.<generation>.
//! <ext>`), then renames one manifest, `state.json`, into place: the commit point. The
//! manifest carries the caller's state and names every file with its size and SHA-256,
//! so a process killed at any moment leaves either the previous snapshot or the new one,
//! never weights of one with the state of the other; files of an uncommitted or
//! superseded save are removed by the next save. A snapshot whose files are missing or
//! altered is refused on load, naming the file and how to start over.
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::EngineError;

/// Manifest format; a manifest of another format is refused with the remedy.
const FORMAT: &str = "c2s2-snapshot/1";
const MANIFEST: &str = "state.json";

/// One file of a snapshot, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// File name inside the snapshot directory.
    pub file: String,
    pub bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

#[derive(Serialize, Deserialize)]
struct Manifest<S> {
    format: String,
    generation: u64,
    files: BTreeMap<String, SnapshotFile>,
    state: S,
}

/// Only the header of a manifest, to learn its generation without knowing its state.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    generation: Option<u64>,
}

/// A committed snapshot: the caller's state and the paths of its files by logical name.
#[derive(Debug)]
pub struct Loaded<S> {
    pub state: S,
    pub files: BTreeMap<String, PathBuf>,
}

/// Where a save may be interrupted on purpose, to test that every kill point leaves a
/// usable snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Every file of the new snapshot written, its manifest not yet renamed into place.
    BeforeCommit,
}

thread_local! {
    static FAULT: Cell<Option<(FaultPoint, u32)>> = const { Cell::new(None) };
}

/// Test hook: the `nth` save (1-based) on this thread from now on fails with
/// [`EngineError::InjectedFault`] at `point`, as if the process had been killed there.
/// `None` clears it.
#[doc(hidden)]
pub fn inject_fault(fault: Option<(FaultPoint, u32)>) {
    FAULT.with(|f| f.set(fault));
}

/// The same for a whole process, for tests of the binaries: `ENGINE_FAULT=before-commit:N`
/// aborts the process at the N-th save.
fn env_fault() -> Option<u32> {
    let v = std::env::var("ENGINE_FAULT").ok()?;
    v.strip_prefix("before-commit:")?.parse().ok()
}

static SAVES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn fault_here(point: FaultPoint) -> Result<(), EngineError> {
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    if env_fault() == Some(n) {
        eprintln!("ENGINE_FAULT: aborting before commit {n}");
        std::process::abort();
    }
    let hit = FAULT.with(|f| match f.get() {
        Some((p, 1)) if p == point => {
            f.set(None);
            true
        }
        Some((p, k)) if p == point => {
            f.set(Some((p, k - 1)));
            false
        }
        _ => false,
    });
    if hit {
        return Err(EngineError::InjectedFault);
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest_file(path: &Path) -> Result<(u64, String), EngineError> {
    let bytes = fs::read(path).map_err(|e| EngineError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok((bytes.len() as u64, hex(&Sha256::digest(&bytes))))
}

/// A snapshot directory (see the module docs).
#[derive(Debug, Clone)]
pub struct SnapshotDir {
    pub dir: PathBuf,
}

impl SnapshotDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST)
    }

    fn damaged(&self, path: &Path, reason: impl Into<String>) -> EngineError {
        EngineError::DamagedSnapshot {
            path: path.to_path_buf(),
            reason: reason.into(),
            dir: self.dir.clone(),
        }
    }

    fn generation(&self) -> u64 {
        fs::read(self.manifest_path())
            .ok()
            .and_then(|b| serde_json::from_slice::<Header>(&b).ok())
            .and_then(|h| h.generation)
            .unwrap_or(0)
    }

    /// Writes a new snapshot: `files` are `(logical name, extension, writer)`; each
    /// writer writes its file at the path it is given. Then commits `state`.
    #[allow(clippy::type_complexity)]
    pub fn save<S: Serialize>(
        &self,
        state: &S,
        files: &[(&str, &str, &dyn Fn(&Path) -> Result<(), EngineError>)],
    ) -> Result<(), EngineError> {
        fs::create_dir_all(&self.dir).map_err(|e| EngineError::Write {
            path: self.dir.clone(),
            reason: e.to_string(),
        })?;
        let generation = self.generation() + 1;
        let mut listed = BTreeMap::new();
        for (name, ext, write) in files {
            let file = format!("{name}.{generation}.{ext}");
            let path = self.dir.join(&file);
            let tmp = self.dir.join(format!("{file}.tmp"));
            write(&tmp)?;
            fs::rename(&tmp, &path).map_err(|e| EngineError::Write {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let (bytes, sha256) = digest_file(&path)?;
            listed.insert(
                name.to_string(),
                SnapshotFile {
                    file,
                    bytes,
                    sha256,
                },
            );
        }
        fault_here(FaultPoint::BeforeCommit)?;
        let manifest = Manifest {
            format: FORMAT.to_string(),
            generation,
            files: listed,
            state,
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| EngineError::Write {
            path: self.manifest_path(),
            reason: e.to_string(),
        })?;
        crate::checkpoint::write_atomic(&self.manifest_path(), &json)?;
        self.remove_uncommitted(&manifest.files);
        Ok(())
    }

    /// Removes the files of interrupted and superseded saves: `<name>.<n>.<ext>` (and
    /// their `.tmp`) of a logical name in `keep` that the committed manifest does not
    /// name. Other files are left alone. Failing to remove one costs disk space only.
    fn remove_uncommitted(&self, keep: &BTreeMap<String, SnapshotFile>) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = keep.keys().any(|k| {
                name.strip_prefix(k.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .and_then(|r| r.split('.').next())
                    .is_some_and(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
            });
            if ours && !keep.values().any(|f| f.file == name) {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// The committed state alone, without reading or checking the files it names: for
    /// telling how far a run got (listings, snapshots), not for resuming it. `None` when
    /// nothing was committed here or the manifest cannot be read.
    pub fn committed_state<S: DeserializeOwned>(&self) -> Option<S> {
        #[derive(Deserialize)]
        struct StateOnly<S> {
            state: S,
        }
        let bytes = fs::read(self.manifest_path()).ok()?;
        serde_json::from_slice::<StateOnly<S>>(&bytes)
            .ok()
            .map(|m| m.state)
    }

    /// The committed snapshot, or `None` when nothing was ever committed here. Every
    /// file is checked against its recorded size and SHA-256.
    pub fn load<S: DeserializeOwned>(&self) -> Result<Option<Loaded<S>>, EngineError> {
        let path = self.manifest_path();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.damaged(&path, e.to_string())),
        };
        let header: Header = serde_json::from_slice(&bytes)
            .map_err(|e| self.damaged(&path, format!("not a snapshot manifest: {e}")))?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(self.damaged(
                &path,
                "written by an earlier version of this program (no snapshot format)",
            ));
        }
        let m: Manifest<S> = serde_json::from_slice(&bytes)
            .map_err(|e| self.damaged(&path, format!("unreadable state: {e}")))?;
        let mut files = BTreeMap::new();
        for (name, f) in &m.files {
            let p = self.dir.join(&f.file);
            let (len, sha) = match digest_file(&p) {
                Ok(d) => d,
                Err(_) => return Err(self.damaged(&p, "missing (the manifest names it)")),
            };
            if len != f.bytes || sha != f.sha256 {
                return Err(self.damaged(
                    &p,
                    format!(
                        "{len} bytes with SHA-256 {}…, the manifest records {} bytes with {}…",
                        &sha[..12],
                        f.bytes,
                        &f.sha256[..12.min(f.sha256.len())]
                    ),
                ));
            }
            files.insert(name.clone(), p);
        }
        Ok(Some(Loaded {
            state: m.state,
            files,
        }))
    }
}
