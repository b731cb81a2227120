//! Finding the published run records of a setting: `results/<setting>/<entry>/` holds
//! one run (`summary.json` + `metrics.csv`) at its root, further seeds of the same spec
//! in `seed*/` subfolders (`seed*/summary.json`), or both: the root run stays where other
//! specs name its files (e.g. `widths_from: results/resnet20_cifar10/c2s2/model.json`).
use std::path::{Path, PathBuf};

use crate::error::{AnalysisError, Result};
use crate::record::{read_metrics, EpochMetrics, Summary};
use crate::setting::method_label;

/// Joins a study entry and its variant in a folder name (`c2s2-tol3`): the entry gives
/// the row's label (so a method's variants form one line of a curve), the variant its
/// operating point. Entry names hold no `-`.
pub const VARIANT_SEPARATOR: char = '-';

/// One seed's record.
#[derive(Debug, Clone)]
pub struct SeedRun {
    pub dir: PathBuf,
    pub summary: Summary,
    /// Per-epoch metrics; empty when the run kept no `metrics.csv`.
    pub metrics: Vec<EpochMetrics>,
}

/// All seeds of one method configuration: one row of a results table.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Folder name under the setting (`pretrained`, `c2s2`, ...).
    pub name: String,
    pub dir: PathBuf,
    /// Table label: the method's name, plus the entry's name when it is not the
    /// method's usual folder (so two C2S2 configurations stay two rows). The variants of
    /// an entry (`c2s2-tol3`) share its label: one line of a curve.
    pub label: String,
    /// Seeds sorted by seed number.
    pub runs: Vec<SeedRun>,
    /// The entry's `note.txt`, if any: what the records cannot say themselves (e.g. a run
    /// that moved between devices), appended to its line under the table.
    pub note: Option<String>,
}

impl Entry {
    /// The method every seed ran (`unpruned`, `c2s2`, ...).
    pub fn method(&self) -> &str {
        &self.runs[0].summary.method
    }

    pub fn is_unpruned(&self) -> bool {
        self.method() == "unpruned"
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| AnalysisError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

fn read_seed(dir: &Path) -> Result<SeedRun> {
    let summary = Summary::read(&dir.join("summary.json"))?;
    let metrics_path = dir.join("metrics.csv");
    let metrics = if metrics_path.exists() {
        read_metrics(&metrics_path)?
    } else {
        Vec::new()
    };
    Ok(SeedRun {
        dir: dir.to_path_buf(),
        summary,
        metrics,
    })
}

/// File in an entry's folder whose text `report` appends to the entry's note.
pub const NOTE_FILE: &str = "note.txt";

fn is_usual_folder(method: &str, folder: &str) -> bool {
    folder == method || (method == "unpruned" && folder == "pretrained")
}

/// The seeds of one entry: the run at the entry's root, if any, and those in its
/// `seed*/` subfolders, sorted by seed. Seeds must be distinct runs of one spec.
fn read_entry_runs(dir: &Path) -> Result<Vec<SeedRun>> {
    let mut runs = Vec::new();
    if dir.join("summary.json").exists() {
        runs.push(read_seed(dir)?);
    }
    for sub in read_dir_sorted(dir)? {
        let is_seed_dir = sub
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("seed"));
        if is_seed_dir && sub.join("summary.json").exists() {
            runs.push(read_seed(&sub)?);
        }
    }
    runs.sort_by_key(|r| r.summary.seed);
    let Some(first) = runs.first() else {
        return Ok(runs);
    };
    let (spec, method) = (&first.summary.spec_name, &first.summary.method);
    for (prev, run) in runs.iter().zip(runs.iter().skip(1)) {
        let s = &run.summary;
        let clash = if s.seed == prev.summary.seed {
            Some(format!(
                "seed {} is also recorded in {}",
                s.seed,
                prev.dir.display()
            ))
        } else if &s.spec_name != spec || &s.method != method {
            Some(format!(
                "spec `{}` / method `{}` differs from `{spec}` / `{method}` of the other seeds in {}",
                s.spec_name,
                s.method,
                dir.display()
            ))
        } else {
            None
        };
        if let Some(message) = clash {
            return Err(AnalysisError::Schema {
                path: run.dir.join("summary.json"),
                message,
            });
        }
    }
    Ok(runs)
}

/// Reads every entry of `results/<setting>/` (sorted by folder name). A folder without
/// any `summary.json` is skipped (plots and tables live beside the entries); a record
/// that does not load is an error naming its file.
pub fn collect_entries(setting_dir: &Path) -> Result<Vec<Entry>> {
    if !setting_dir.exists() {
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    for dir in read_dir_sorted(setting_dir)? {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let runs = read_entry_runs(&dir)?;
        if runs.is_empty() {
            continue;
        }
        let method = runs[0].summary.method.clone();
        // `<entry>-<variant>`: the row is the entry's, at another operating point.
        let entry = name.split(VARIANT_SEPARATOR).next().unwrap_or(&name);
        let label = if is_usual_folder(&method, entry) {
            method_label(&method)
        } else {
            format!("{} ({entry})", method_label(&method))
        };
        let note_file = dir.join(NOTE_FILE);
        let note = match std::fs::read_to_string(&note_file) {
            Ok(text) => Some(text.split_whitespace().collect::<Vec<_>>().join(" ")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(AnalysisError::Io {
                    path: note_file,
                    source,
                })
            }
        };
        entries.push(Entry {
            name,
            dir,
            label,
            runs,
            note: note.filter(|n| !n.is_empty()),
        });
    }
    Ok(entries)
}
