//! An entry's points: the shared parts, the entry and a variant merged and checked as a
//! single-run spec, with the variants and seeds it follows from the entries it takes from.
use std::path::Path;

use serde_norway::{Mapping, Value};

use super::yaml::{deep_merge, reach};
use super::{invalid, variant_folder, Entry, EntryKind, Point, Refs, StudySection};
use crate::spec::{PruneMethod, Spec, SpecError};

/// A variant's name and the seeds its point runs.
pub(super) type VariantSeeds = (String, Vec<u64>);

/// The variant names an entry inherits from the varied entries it takes from (`None`
/// when it takes from none). Two differently varied sources are an error.
pub(super) fn inherited_variants(
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
pub(super) fn check_pinned_seeds(file: &Path, entries: &[Entry]) -> Result<(), SpecError> {
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
pub(super) struct PointContext<'a> {
    pub(super) file: &'a Path,
    pub(super) study: &'a str,
    pub(super) section: &'a StudySection,
    pub(super) entry_name: &'a str,
    pub(super) shared: &'a Value,
    pub(super) entry: &'a Value,
    pub(super) refs: &'a Refs,
}

impl PointContext<'_> {
    /// The point of one variant (`own`: the entry's own variant and its fields;
    /// `inherited`: a variant name followed from a source entry, with the seeds that
    /// point runs: the entry runs them too unless it lists `seeds` itself), checked as
    /// a spec.
    pub(super) fn point(
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
