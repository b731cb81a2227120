//! The study spec: one YAML file per thesis table. Its top level holds the parts every
//! entry shares (any field of a single-run spec but `prune`), a `study:` section (the
//! setting it fills, where it publishes) and named `entries:`, each a single-run spec
//! written as what it adds to the shared parts. Entries name each other instead of
//! paths (`prune.from: pretrained`, `prune.widths_from: c2s2`, `prune.macs_from: c2s2`)
//! and may list `variants` (more points of a curve). [`Study::load`] checks all of it and
//! returns the entries as [`Point`]s: merged, typed-checked specs waiting only for the
//! paths of what they take from other entries.
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::{Mapping, Value};

use crate::spec::{parse_value, PruneMethod, SpecError};

mod points;
mod raw;
mod yaml;

pub use points::fill_refs;
pub use yaml::deep_merge;

use points::{check_pinned_seeds, inherited_variants, PointContext};
use raw::{dependency_order, RawBody, RawEntry};
use yaml::key_str;

/// Top-level keys a study shares with its entries (the single-run spec's, but `prune`).
const SHARED_KEYS: &[&str] = &[
    "model", "dataset", "train", "device", "threads", "seeds", "output",
];
/// Top-level keys of a study of its own.
const STUDY_KEYS: &[&str] = &["study", "name", "description", "entries"];

/// The `study:` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySection {
    /// The thesis table this study fills: a setting of `report` (`vgg_cifar10`,
    /// `resnet20_cifar10`, `resnet18_imagenet`, `fcn_voc2011`, `ablations`).
    pub setting: String,
    /// Root of the published records; entries publish into `<results>/<setting>/`.
    #[serde(default = "default_results")]
    pub results: PathBuf,
    /// The published (paper) numbers the table is set beside.
    #[serde(default = "default_published")]
    pub published: PathBuf,
    /// Publish weights in half precision (halves the size of large models; entries that
    /// start from a published model then start from the half-precision weights).
    #[serde(default)]
    pub half_weights: bool,
    /// Defaults of `experiments submit` (flags override them).
    #[serde(default)]
    pub slurm: SlurmSection,
}

fn default_results() -> PathBuf {
    PathBuf::from("results")
}
fn default_published() -> PathBuf {
    PathBuf::from("paper/published.csv")
}

/// Slurm options of a study (`study.slurm`); each is passed to `sbatch` as its flag.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSection {
    pub partition: Option<String>,
    /// e.g. `gpu:1`.
    pub gres: Option<String>,
    /// Wall-time limit of one array task, e.g. `04:00:00`.
    pub time: Option<String>,
    /// CPUs per array task.
    pub cpus: Option<u32>,
    /// Memory per array task, e.g. `16G`.
    pub mem: Option<String>,
    pub account: Option<String>,
    /// Further `sbatch` arguments, each one word (e.g. `--qos=long`).
    #[serde(default)]
    pub extra: Vec<String>,
}

/// Another entry, named where a single-run spec names a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub entry: String,
    /// The seed of `entry` to take from; `None`: the same seed as the taking run when
    /// `entry` runs it, else `entry`'s first seed.
    pub seed: Option<u64>,
}

/// What a point takes from other entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs {
    /// `prune.from`: the model pruning starts from.
    pub from: Option<EntryRef>,
    /// `prune.widths_from`: the widths a baseline copies (that entry's `model.json`).
    pub widths_from: Option<EntryRef>,
    /// `prune.macs_from`: Network Slimming's threshold removes at least the share of
    /// MACs that entry's pruned model removed.
    pub macs_from: Option<EntryRef>,
}

impl Refs {
    /// Every reference with its field name.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &EntryRef)> {
        [
            ("prune.from", &self.from),
            ("prune.widths_from", &self.widths_from),
            ("prune.macs_from", &self.macs_from),
        ]
        .into_iter()
        .filter_map(|(f, r)| r.as_ref().map(|r| (f, r)))
    }
}

/// One operating point of an entry: the entry's spec (shared parts, entry, variant
/// merged) for every seed it lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The variant's name (`None` for an entry without variants).
    pub variant: Option<String>,
    /// The merged single-run spec, without the fields `refs` fill in.
    pub value: Value,
    pub seeds: Vec<u64>,
    /// The spec's method (`None`: plain training).
    pub method: Option<PruneMethod>,
}

/// A named entry of a study.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// An existing model folder (`model.json` + `model.safetensors`) to start from.
    ModelDir(PathBuf),
    /// Runs, one per point and seed.
    Runs { refs: Refs, points: Vec<Point> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
}

impl Entry {
    /// The folder of `point` under `<results>/<setting>/`: the entry's name, with
    /// `_<variant>` for a variant.
    pub fn folder(&self, point: &Point) -> String {
        variant_folder(&self.name, point.variant.as_deref())
    }
}

/// A checked study.
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    /// The file it was read from (errors and workers name it).
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub section: StudySection,
    /// Root folder of run directories (the shared `output`).
    pub output: PathBuf,
    /// Entries in dependency order: an entry comes after every entry it takes from.
    pub entries: Vec<Entry>,
}

/// True when the YAML value is a study (it has `entries`), not a single-run spec.
pub fn is_study(value: &Value) -> bool {
    value
        .as_mapping()
        .is_some_and(|m| m.contains_key("entries"))
}

/// True when the spec file at `path` is a study. Unreadable or malformed files count as
/// single-run specs, whose loader reports the error.
pub fn file_is_study(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| parse_value(&t, path).ok())
        .is_some_and(|v| is_study(&v))
}

pub(super) fn schema(
    file: &Path,
    field: impl Into<String>,
    message: impl Into<String>,
) -> SpecError {
    SpecError::Schema {
        file: file.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

pub(super) fn invalid(
    file: &Path,
    field: impl Into<String>,
    message: impl Into<String>,
) -> SpecError {
    SpecError::Invalid {
        file: file.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

/// The folder of an entry's point: `<entry>-<variant>` for a variant. Entry names hold
/// no `-`, so `report` reads the entry (the row's method line) and the variant back
/// from the folder name.
pub fn variant_folder(entry: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) => format!("{entry}{}{v}", analysis::VARIANT_SEPARATOR),
        None => entry.to_string(),
    }
}

/// A name a folder and a run id can carry.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Study {
    /// Reads and checks the study at `path`.
    pub fn load(path: &Path) -> Result<Study, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Io {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks study text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Study, SpecError> {
        let mut value = parse_value(text, file)?;
        // `<<: *anchor` merge keys let entries share option blocks.
        value
            .apply_merge()
            .map_err(|e| SpecError::syntax(file, &e))?;
        let Some(top) = value.as_mapping() else {
            return Err(schema(file, "(top level)", "a study is a mapping"));
        };
        let mut shared = Mapping::new();
        for (k, v) in top {
            let Some(key) = key_str(k) else {
                return Err(schema(file, "(top level)", "keys must be strings"));
            };
            if key == "prune" {
                return Err(schema(
                    file,
                    "prune",
                    "a study's entries each carry their own prune section",
                ));
            }
            if SHARED_KEYS.contains(&key) {
                shared.insert(k.clone(), v.clone());
            } else if !STUDY_KEYS.contains(&key) {
                let all: Vec<&str> = STUDY_KEYS.iter().chain(SHARED_KEYS).copied().collect();
                return Err(schema(
                    file,
                    key,
                    format!("unknown field, expected one of {}", all.join(", ")),
                ));
            }
        }
        let section: StudySection = match top.get("study") {
            Some(v) => serde_path_to_error::deserialize(v.clone())
                .map_err(|e| SpecError::from_serde(file, e).map_field(|f| format!("study.{f}")))?,
            None => return Err(schema(file, "study", "missing (a study names its setting)")),
        };
        if analysis::setting::setting(&section.setting).is_none() {
            let names: Vec<&str> = analysis::setting::SETTINGS.iter().map(|s| s.name).collect();
            return Err(invalid(
                file,
                "study.setting",
                format!(
                    "unknown setting `{}` (one of {})",
                    section.setting,
                    names.join(", ")
                ),
            ));
        }
        let name = match top.get("name") {
            Some(Value::String(s)) if plain_name(s) => s.clone(),
            _ => {
                return Err(invalid(
                    file,
                    "name",
                    "must be non-empty and use only letters, digits, '_' and '-'",
                ))
            }
        };
        let description = match top.get("description") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(schema(file, "description", "must be a string")),
        };
        let output = match shared.get("output") {
            None => PathBuf::from("runs"),
            Some(Value::String(s)) => PathBuf::from(s),
            Some(_) => return Err(schema(file, "output", "must be a path")),
        };
        let Some(entries) = top.get("entries").and_then(Value::as_mapping) else {
            return Err(schema(file, "entries", "must map entry names to entries"));
        };
        if entries.is_empty() {
            return Err(invalid(file, "entries", "a study needs at least one entry"));
        }
        let shared = Value::Mapping(shared);
        let mut raw = Vec::new();
        for (k, v) in entries {
            let Some(entry) = key_str(k).filter(|n| plain_name(n) && !n.contains('-')) else {
                return Err(invalid(
                    file,
                    "entries",
                    format!(
                        "entry name {k:?} must be non-empty and use only letters, digits and '_' ('-' joins an entry and its variant in folder names)"
                    ),
                ));
            };
            if entry.starts_with("seed") {
                return Err(invalid(
                    file,
                    format!("entries.{entry}"),
                    "an entry's name may not start with `seed` (the folders of further seeds do)",
                ));
            }
            raw.push(RawEntry::read(file, entry, v)?);
        }
        let order = dependency_order(file, &raw)?;
        let mut checked: Vec<Entry> = Vec::new();
        for i in order {
            let r = &raw[i];
            let kind = match &r.body {
                RawBody::ModelDir(d) => EntryKind::ModelDir(d.clone()),
                RawBody::Runs {
                    entry,
                    refs,
                    variants,
                } => {
                    let inherited = inherited_variants(file, &r.name, refs, &checked)?;
                    if inherited.is_some() && !variants.is_empty() {
                        return Err(invalid(
                            file,
                            format!("entries.{}.variants", r.name),
                            "an entry that takes from an entry with variants gets one run per variant of it, so it cannot list its own",
                        ));
                    }
                    let ctx = PointContext {
                        file,
                        study: &name,
                        section: &section,
                        entry_name: &r.name,
                        shared: &shared,
                        entry,
                        refs,
                    };
                    let points = if !variants.is_empty() {
                        variants
                            .iter()
                            .map(|(v, over)| ctx.point(Some((v, over)), None))
                            .collect::<Result<Vec<_>, _>>()?
                    } else if let Some(names) = inherited {
                        names
                            .into_iter()
                            .map(|v| ctx.point(None, Some(v)))
                            .collect::<Result<Vec<_>, _>>()?
                    } else {
                        vec![ctx.point(None, None)?]
                    };
                    EntryKind::Runs {
                        refs: refs.clone(),
                        points,
                    }
                }
            };
            checked.push(Entry {
                name: r.name.clone(),
                kind,
            });
        }
        check_pinned_seeds(file, &checked)?;
        Ok(Study {
            file: file.to_path_buf(),
            name,
            description,
            section,
            output,
            entries: checked,
        })
    }

    /// The entry called `name`.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// `<results>/<setting>/`.
    pub fn setting_dir(&self) -> PathBuf {
        self.section.results.join(&self.section.setting)
    }
}
