//! Weights files (safetensors, written atomically) and training checkpoints: model
//! variables (parameters and BN buffers) and optimizer momentum plus the loop's state,
//! committed as one snapshot (see [`crate::snapshot`]).
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::snapshot::SnapshotDir;
use crate::{EngineError, Sgd};

const MODEL_PREFIX: &str = "model.";
const MOMENTUM_PREFIX: &str = "momentum.";

fn write_err(path: &Path, e: impl ToString) -> EngineError {
    EngineError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A uniquely named temporary file beside `path` (processes writing the same file at
/// once never share one), renamed onto `path` by `persist`.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, EngineError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".write-")
        .suffix(".tmp")
        // The mode a plain write would give (tempfile's own is 0600).
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| write_err(path, e))
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    let tmp = temp_beside(path)?;
    fs::write(tmp.path(), bytes).map_err(|e| write_err(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| write_err(path, e.error))?;
    Ok(())
}

fn write_tensors_atomic(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), EngineError> {
    let tmp = temp_beside(path)?;
    Tensor::write_safetensors(tensors, tmp.path()).map_err(|e| write_err(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| write_err(path, e.error))?;
    Ok(())
}

fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>, EngineError> {
    if !path.is_file() {
        return Err(EngineError::Read {
            path: path.to_path_buf(),
            reason: "no such file".into(),
        });
    }
    Tensor::read_safetensors(path).map_err(|e| EngineError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Copies `tensors` into the variables of `vs` by name. Every variable must be present
/// with its exact shape, and no unknown tensor may be left over.
fn copy_into(
    vs: &VarStore,
    tensors: Vec<(String, Tensor)>,
    path: &Path,
) -> Result<(), EngineError> {
    let mismatch = |reason: String| EngineError::CheckpointMismatch {
        path: path.to_path_buf(),
        reason,
    };
    let vars = vs.variables();
    let mut seen = HashSet::new();
    tch::no_grad(|| {
        for (name, t) in &tensors {
            let Some(v) = vars.get(name) else {
                return Err(mismatch(format!("unexpected tensor `{name}`")));
            };
            if v.size() != t.size() {
                return Err(mismatch(format!(
                    "`{name}` has shape {:?}, the model expects {:?}",
                    t.size(),
                    v.size()
                )));
            }
            let mut v = v.shallow_clone();
            v.f_copy_(t)?;
            seen.insert(name.clone());
        }
        Ok(())
    })?;
    let mut missing: Vec<&String> = vars.keys().filter(|k| !seen.contains(*k)).collect();
    missing.sort();
    if let Some(first) = missing.first() {
        return Err(mismatch(format!(
            "missing `{first}` ({} missing in all)",
            missing.len()
        )));
    }
    Ok(())
}

/// Saves every variable of `vs` under its PyTorch name, floating-point tensors converted
/// to `kind` (e.g. `Kind::Half` for a compact release checkpoint), atomically.
pub fn save_weights(vs: &VarStore, path: &Path, kind: Kind) -> Result<(), EngineError> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| {
            let t = t.detach().to_device(tch::Device::Cpu).contiguous();
            let t = if t.is_floating_point() {
                t.to_kind(kind)
            } else {
                t
            };
            (n, t)
        })
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    write_tensors_atomic(path, &named)
}

/// Loads weights saved by [`save_weights`] (or by PyTorch's `save_file(state_dict)`):
/// strict, every variable must be present with its shape.
pub fn load_weights(vs: &VarStore, path: &Path) -> Result<(), EngineError> {
    copy_into(vs, read_tensors(path)?, path)
}

/// What [`load_matching`] did, by variable name (sorted).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartialLoad {
    /// Variables set from the file.
    pub loaded: Vec<String>,
    /// Variables the file does not hold: they keep their initialisation.
    pub kept_init: Vec<String>,
    /// Tensors of the file the model has no variable for.
    pub ignored: Vec<String>,
}

/// Initialises the variables of `vs` that `path` holds under the same name (e.g. an
/// ImageNet VGG-16 backbone for FCN-32s, whose score layer stays random). A tensor with
/// a model variable's name but another shape is an error, and so is a file that matches
/// no variable at all.
pub fn load_matching(vs: &VarStore, path: &Path) -> Result<PartialLoad, EngineError> {
    let vars = vs.variables();
    let mut out = PartialLoad::default();
    let mut matched = Vec::new();
    let mut tensors = read_tensors(path)?;
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wrong_shape = Vec::new();
    for (name, t) in tensors {
        match vars.get(&name) {
            Some(v) if v.size() != t.size() => wrong_shape.push(format!(
                "`{name}` has shape {:?}, the model expects {:?}",
                t.size(),
                v.size()
            )),
            Some(_) => matched.push((name, t)),
            None => out.ignored.push(name),
        }
    }
    if let Some(first) = wrong_shape.first() {
        return Err(EngineError::CheckpointMismatch {
            path: path.to_path_buf(),
            reason: format!("{first} ({} tensors of another shape)", wrong_shape.len()),
        });
    }
    if matched.is_empty() {
        return Err(EngineError::CheckpointMismatch {
            path: path.to_path_buf(),
            reason: "no tensor has the name of a model variable".into(),
        });
    }
    tch::no_grad(|| -> Result<(), EngineError> {
        for (name, t) in &matched {
            vars[name].shallow_clone().f_copy_(t)?;
        }
        Ok(())
    })?;
    out.loaded = matched.into_iter().map(|(n, _)| n).collect();
    out.kept_init = vars
        .keys()
        .filter(|k| !out.loaded.contains(k))
        .cloned()
        .collect();
    out.loaded.sort();
    out.kept_init.sort();
    out.ignored.sort();
    Ok(out)
}

/// The checkpoint of a training run in `dir`: model variables and momentum as one
/// safetensors file and the loop's state, committed together as one snapshot
/// ([`SnapshotDir`]), so a kill at any moment leaves the previous epoch's checkpoint or
/// the new one.
pub struct Checkpoint {
    pub dir: PathBuf,
}

/// Logical name of the tensors file in the snapshot.
const WEIGHTS: &str = "checkpoint";

impl Checkpoint {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Writes weights, momentum and `state` as one snapshot.
    pub fn save<S: Serialize>(
        &self,
        vs: &VarStore,
        sgd: &Sgd,
        state: &S,
    ) -> Result<(), EngineError> {
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .map(|(n, t)| {
                (
                    format!("{MODEL_PREFIX}{n}"),
                    t.detach().to_device(tch::Device::Cpu).contiguous(),
                )
            })
            .collect();
        for (n, b) in sgd.momentum_buffers() {
            named.push((
                format!("{MOMENTUM_PREFIX}{n}"),
                b.to_device(tch::Device::Cpu).contiguous(),
            ));
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let write = |p: &Path| Tensor::write_safetensors(&named, p).map_err(|e| write_err(p, e));
        SnapshotDir::new(&self.dir).save(state, &[(WEIGHTS, "safetensors", &write)])
    }

    /// Restores weights and momentum and returns the saved state, or `None` when the run
    /// has no checkpoint yet.
    pub fn load<S: DeserializeOwned>(
        &self,
        vs: &VarStore,
        sgd: &mut Sgd,
    ) -> Result<Option<S>, EngineError> {
        let snap = SnapshotDir::new(&self.dir);
        let Some(loaded) = snap.load::<S>()? else {
            return Ok(None);
        };
        let Some(path) = loaded.files.get(WEIGHTS).cloned() else {
            return Err(EngineError::DamagedSnapshot {
                path: self.dir.join("state.json"),
                reason: format!("names no `{WEIGHTS}` file"),
                dir: self.dir.clone(),
            });
        };
        let mut model = Vec::new();
        for (name, t) in read_tensors(&path)? {
            if let Some(n) = name.strip_prefix(MODEL_PREFIX) {
                model.push((n.to_string(), t));
            } else if let Some(n) = name.strip_prefix(MOMENTUM_PREFIX) {
                if !sgd.set_momentum(n, &t) {
                    return Err(EngineError::CheckpointMismatch {
                        path,
                        reason: format!("momentum for unknown parameter `{n}`"),
                    });
                }
            }
        }
        copy_into(vs, model, &path)?;
        Ok(Some(loaded.state))
    }
}
