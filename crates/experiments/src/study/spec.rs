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

use crate::spec::{parse_value, PruneMethod, Spec, SpecError};

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

fn schema(file: &Path, field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::Schema {
        file: file.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

fn invalid(file: &Path, field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        file: file.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

/// `over` merged onto `base`: mappings merge key by key, any other value replaces.
pub fn deep_merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(old) => deep_merge(old, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Mapping(out)
        }
        (_, o) => o.clone(),
    }
}

fn key_str(k: &Value) -> Option<&str> {
    k.as_str()
}

/// How deep `path` (field names, indices dropped) reaches into `value`.
fn reach(value: &Value, path: &[&str]) -> usize {
    let mut v = value;
    for (i, p) in path.iter().enumerate() {
        match v.as_mapping().and_then(|m| m.get(*p)) {
            Some(next) => v = next,
            None => return i,
        }
    }
    path.len()
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

/// An entry as written, before merging.
struct RawEntry {
    name: String,
    body: RawBody,
}

enum RawBody {
    ModelDir(PathBuf),
    Runs {
        /// The entry's own fields, `variants` and the references taken out.
        entry: Value,
        refs: Refs,
        variants: Vec<(String, Value)>,
    },
}

impl RawEntry {
    fn read(file: &Path, name: &str, v: &Value) -> Result<RawEntry, SpecError> {
        let field = format!("entries.{name}");
        let Some(m) = v.as_mapping() else {
            return Err(schema(file, &field, "an entry is a mapping"));
        };
        if let Some(dir) = m.get("model_dir") {
            if m.len() > 1 {
                return Err(schema(
                    file,
                    &field,
                    "an entry with `model_dir` names an existing model folder and nothing else",
                ));
            }
            let Some(d) = dir.as_str() else {
                return Err(schema(file, format!("{field}.model_dir"), "must be a path"));
            };
            return Ok(RawEntry {
                name: name.into(),
                body: RawBody::ModelDir(PathBuf::from(d)),
            });
        }
        let mut entry = m.clone();
        let mut variants = Vec::new();
        if let Some(vs) = entry.remove("variants") {
            let Some(vm) = vs.as_mapping() else {
                return Err(schema(
                    file,
                    format!("{field}.variants"),
                    "maps variant names to what each changes",
                ));
            };
            if vm.is_empty() {
                return Err(invalid(
                    file,
                    format!("{field}.variants"),
                    "is empty (leave it out for an entry of one point)",
                ));
            }
            for (k, over) in vm {
                let Some(vname) = key_str(k).filter(|n| plain_name(n)) else {
                    return Err(invalid(
                        file,
                        format!("{field}.variants"),
                        format!("variant name {k:?} must use only letters, digits, '_' and '-'"),
                    ));
                };
                if !over.is_mapping() {
                    return Err(schema(
                        file,
                        format!("{field}.variants.{vname}"),
                        "a variant is a mapping of the fields it changes",
                    ));
                }
                if over
                    .as_mapping()
                    .is_some_and(|o| o.contains_key("variants"))
                {
                    return Err(schema(
                        file,
                        format!("{field}.variants.{vname}.variants"),
                        "variants do not nest",
                    ));
                }
                variants.push((vname.to_string(), over.clone()));
            }
        }
        let mut refs = Refs::default();
        if let Some(Value::Mapping(prune)) = entry.get_mut("prune") {
            refs.from = take_ref(file, &field, prune, "from")?;
            refs.widths_from = take_ref(file, &field, prune, "widths_from")?;
            refs.macs_from = take_ref(file, &field, prune, "macs_from")?;
        }
        for (vname, over) in &variants {
            let touches = over
                .get("prune")
                .and_then(Value::as_mapping)
                .is_some_and(|p| {
                    ["from", "widths_from", "macs_from"]
                        .iter()
                        .any(|k| p.contains_key(*k))
                });
            if touches {
                return Err(invalid(
                    file,
                    format!("{field}.variants.{vname}.prune"),
                    "a variant changes options, not what the entry takes from other entries",
                ));
            }
        }
        Ok(RawEntry {
            name: name.into(),
            body: RawBody::Runs {
                entry: Value::Mapping(entry),
                refs,
                variants,
            },
        })
    }

    fn refs(&self) -> Option<&Refs> {
        match &self.body {
            RawBody::Runs { refs, .. } => Some(refs),
            RawBody::ModelDir(_) => None,
        }
    }
}

/// Removes `prune.<key>` and reads it as an entry name or `{entry, seed}`.
fn take_ref(
    file: &Path,
    field: &str,
    prune: &mut Mapping,
    key: &str,
) -> Result<Option<EntryRef>, SpecError> {
    let Some(v) = prune.remove(key) else {
        return Ok(None);
    };
    let f = format!("{field}.prune.{key}");
    match &v {
        Value::String(s) => Ok(Some(EntryRef {
            entry: s.clone(),
            seed: None,
        })),
        Value::Mapping(m) => {
            let entry = m.get("entry").and_then(Value::as_str);
            let seed = m.get("seed").map(Value::as_u64);
            let known = m
                .keys()
                .all(|k| matches!(k.as_str(), Some("entry") | Some("seed")));
            match (entry, seed, known) {
                (Some(e), None | Some(Some(_)), true) => Ok(Some(EntryRef {
                    entry: e.to_string(),
                    seed: seed.flatten(),
                })),
                _ => Err(schema(
                    file,
                    f,
                    "names an entry of this study: `<entry>` or `{entry: <entry>, seed: <seed>}`",
                )),
            }
        }
        _ => Err(schema(
            file,
            f,
            "names an entry of this study: `<entry>` or `{entry: <entry>, seed: <seed>}` (a study takes files through entries; an existing model folder is an entry `{model_dir: <path>}`)",
        )),
    }
}

/// Entry indices so that each comes after the entries it takes from; unknown names and
/// cycles are errors naming the field.
fn dependency_order(file: &Path, raw: &[RawEntry]) -> Result<Vec<usize>, SpecError> {
    let index = |n: &str| raw.iter().position(|r| r.name == n);
    let names: Vec<&str> = raw.iter().map(|r| r.name.as_str()).collect();
    let mut deps: Vec<Vec<usize>> = Vec::new();
    for r in raw {
        let mut d = Vec::new();
        if let Some(refs) = r.refs() {
            for (f, er) in refs.all() {
                let field = format!("entries.{}.{f}", r.name);
                if er.entry == r.name {
                    return Err(invalid(file, field, "an entry cannot take from itself"));
                }
                match index(&er.entry) {
                    Some(i) => d.push(i),
                    None => {
                        return Err(invalid(
                            file,
                            field,
                            format!(
                                "unknown entry `{}` (entries: {})",
                                er.entry,
                                names.join(", ")
                            ),
                        ))
                    }
                }
            }
        }
        deps.push(d);
    }
    // Depth-first topological sort, keeping the written order where it is free.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
        out: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Open => {
                let start = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(i);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks[i] = Mark::Open;
        stack.push(i);
        for &d in &deps[i] {
            visit(d, deps, marks, stack, out)?;
        }
        stack.pop();
        marks[i] = Mark::Done;
        out.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; raw.len()];
    let mut out = Vec::new();
    for i in 0..raw.len() {
        let mut stack = Vec::new();
        if let Err(cycle) = visit(i, &deps, &mut marks, &mut stack, &mut out) {
            let path: Vec<&str> = cycle.iter().map(|&c| raw[c].name.as_str()).collect();
            return Err(invalid(
                file,
                format!("entries.{}.prune", raw[cycle[0]].name),
                format!(
                    "entries take from each other in a cycle: {}",
                    path.join(" -> ")
                ),
            ));
        }
    }
    Ok(out)
}

/// The variant names an entry inherits from the varied entries it takes from (`None`
/// when it takes from none). Two differently varied sources are an error.
/// A variant's name and the seeds its point runs.
type VariantSeeds = (String, Vec<u64>);

fn inherited_variants(
    file: &Path,
    name: &str,
    refs: &Refs,
    done: &[Entry],
) -> Result<Option<Vec<VariantSeeds>>, SpecError> {
    let mut found: Option<(String, Vec<VariantSeeds>)> = None;
    for (f, r) in refs.all() {
        let Some(EntryKind::Runs { points, .. }) =
            done.iter().find(|e| e.name == r.entry).map(|e| &e.kind)
        else {
            continue;
        };
        let names: Vec<VariantSeeds> = points
            .iter()
            .filter_map(|p| Some((p.variant.clone()?, p.seeds.clone())))
            .collect();
        if names.is_empty() {
            continue;
        }
        let same = |a: &[VariantSeeds], b: &[VariantSeeds]| {
            a.iter().map(|x| &x.0).eq(b.iter().map(|x| &x.0))
        };
        match &found {
            Some((other, prev)) if !same(prev, &names) => {
                return Err(invalid(
                    file,
                    format!("entries.{name}.{f}"),
                    format!(
                        "takes from `{}` and `{other}`, whose variants differ; an entry follows the variants of one source",
                        r.entry
                    ),
                ))
            }
            Some(_) => {}
            None => found = Some((r.entry.clone(), names)),
        }
    }
    Ok(found.map(|(_, n)| n))
}

/// A pinned `{entry, seed}` names a seed the entry runs.
fn check_pinned_seeds(file: &Path, entries: &[Entry]) -> Result<(), SpecError> {
    for e in entries {
        let EntryKind::Runs { refs, .. } = &e.kind else {
            continue;
        };
        for (f, r) in refs.all() {
            let (Some(seed), Some(target)) = (r.seed, entries.iter().find(|t| t.name == r.entry))
            else {
                continue;
            };
            if let EntryKind::Runs { points, .. } = &target.kind {
                if points.iter().any(|p| !p.seeds.contains(&seed)) {
                    return Err(invalid(
                        file,
                        format!("entries.{}.{f}.seed", e.name),
                        format!("`{}` does not run seed {seed}", r.entry),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What building an entry's points needs.
struct PointContext<'a> {
    file: &'a Path,
    study: &'a str,
    section: &'a StudySection,
    entry_name: &'a str,
    shared: &'a Value,
    entry: &'a Value,
    refs: &'a Refs,
}

impl PointContext<'_> {
    /// The point of one variant (`own`: the entry's own variant and its fields;
    /// `inherited`: a variant name followed from a source entry, with the seeds that
    /// point runs: the entry runs them too unless it lists `seeds` itself), checked as
    /// a spec.
    fn point(
        &self,
        own: Option<(&String, &Value)>,
        inherited: Option<VariantSeeds>,
    ) -> Result<Point, SpecError> {
        let mut value = deep_merge(self.shared, self.entry);
        if let Some((_, over)) = own {
            value = deep_merge(&value, over);
        }
        if let (Some((_, seeds)), Value::Mapping(m)) = (&inherited, &mut value) {
            if self.entry.get("seeds").is_none() {
                let seeds: Vec<Value> = seeds.iter().map(|&s| s.into()).collect();
                m.insert("seeds".into(), Value::Sequence(seeds));
            }
        }
        let variant = own.map(|(v, _)| v.clone()).or(inherited.map(|(v, _)| v));
        let folder = variant_folder(self.entry_name, variant.as_deref());
        if let Value::Mapping(m) = &mut value {
            if !m.contains_key("name") {
                m.insert("name".into(), format!("{}_{folder}", self.study).into());
            }
        }
        let field = |k: &str| format!("entries.{}.prune.{k}", self.entry_name);
        let method_text = value
            .get("prune")
            .and_then(|p| p.get("method"))
            .and_then(Value::as_str);
        if self.refs.macs_from.is_some() && budget_section(method_text).is_none() {
            return Err(invalid(
                self.file,
                field("macs_from"),
                "applies to slimming and uniform_l1_norm (it sizes their budget to the MACs another entry removed)",
            ));
        }
        // The trial spec: references filled with placeholders of the right kind.
        let placeholder = self.section.results.join(&self.section.setting).join("_");
        let trial = fill_refs(
            value.clone(),
            self.refs,
            &placeholder,
            &placeholder.join("model.json"),
            Some(50.0),
        );
        let origin = |f: &str| -> String {
            let parts: Vec<&str> = f
                .split('.')
                .map(|p| p.split('[').next().unwrap_or(p))
                .collect();
            let in_variant = own.map_or(0, |(_, o)| reach(o, &parts));
            let in_entry = reach(self.entry, &parts);
            let in_shared = reach(self.shared, &parts);
            match own {
                Some((v, _)) if in_variant > 0 && in_variant >= in_entry.max(in_shared) => {
                    format!("entries.{}.variants.{v}.{f}", self.entry_name)
                }
                _ if in_entry > 0 && in_entry >= in_shared => {
                    format!("entries.{}.{f}", self.entry_name)
                }
                _ if in_shared > 0 => f.to_string(),
                _ => format!("entries.{}.{f}", self.entry_name),
            }
        };
        let spec = Spec::from_value(trial, self.file).map_err(|e| e.map_field(origin))?;
        let method = spec.prune.as_ref().map(|p| p.method);
        if let (Some(r), Some(section)) = (&self.refs.macs_from, budget_section(method_text)) {
            let own_budget = spec
                .prune
                .as_ref()
                .and_then(|p| p.slimming.as_ref())
                .is_some_and(|s| s.fraction.is_some());
            let merged_pct = value
                .get("prune")
                .and_then(|p| p.get(section))
                .and_then(|s| s.get("macs_pruned_pct"))
                .is_some();
            if own_budget || merged_pct {
                return Err(invalid(
                    self.file,
                    field("macs_from"),
                    format!(
                        "sizes the budget to `{}`'s MACs; leave out prune.{section}.fraction and macs_pruned_pct",
                        r.entry
                    ),
                ));
            }
        }
        if self.refs.from.is_some() && method == Some(PruneMethod::Scratch) {
            return Err(invalid(
                self.file,
                field("from"),
                "does not apply to scratch (it trains the widths from random initialisation)",
            ));
        }
        if method.is_none() && self.refs.from.is_some() {
            return Err(invalid(
                self.file,
                field("from"),
                "an entry without a prune method trains; it starts from nothing",
            ));
        }
        Ok(Point {
            variant,
            value,
            seeds: spec.seeds.clone(),
            method,
        })
    }
}

/// The prune section holding the MACs budget `macs_from` fills, by method.
fn budget_section(method: Option<&str>) -> Option<&'static str> {
    match method? {
        "slimming" => Some("slimming"),
        "uniform_l1_norm" => Some("uniform"),
        _ => None,
    }
}

/// `value` with the references filled in: `prune.from` and `prune.widths_from` as
/// paths, the method's `macs_pruned_pct` (`prune.slimming.` or `prune.uniform.`) as a
/// number.
pub fn fill_refs(
    mut value: Value,
    refs: &Refs,
    from: &Path,
    widths_from: &Path,
    macs_pct: Option<f64>,
) -> Value {
    let Some(top) = value.as_mapping_mut() else {
        return value;
    };
    let Some(Value::Mapping(prune)) = top.get_mut("prune") else {
        return value;
    };
    if refs.from.is_some() {
        prune.insert("from".into(), from.to_string_lossy().into_owned().into());
    }
    if refs.widths_from.is_some() {
        prune.insert(
            "widths_from".into(),
            widths_from.to_string_lossy().into_owned().into(),
        );
    }
    let section = budget_section(prune.get("method").and_then(Value::as_str));
    if let (Some(_), Some(pct), Some(section)) = (&refs.macs_from, macs_pct, section) {
        let slim = prune
            .entry(section.into())
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let Value::Mapping(s) = slim {
            s.insert("macs_pruned_pct".into(), pct.into());
        }
    }
    value
}
