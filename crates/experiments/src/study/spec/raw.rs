//! Entries as written: their references to other entries taken out, and the order in
//! which they can be built (each after the entries it takes from).
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use super::yaml::key_str;
use super::{invalid, plain_name, schema, EntryRef, Refs};
use crate::spec::SpecError;

/// An entry as written, before merging.
pub(super) struct RawEntry {
    pub(super) name: String,
    pub(super) body: RawBody,
}

pub(super) enum RawBody {
    ModelDir(PathBuf),
    Runs {
        /// The entry's own fields, `variants` and the references taken out.
        entry: Value,
        refs: Refs,
        variants: Vec<(String, Value)>,
    },
}

impl RawEntry {
    pub(super) fn read(file: &Path, name: &str, v: &Value) -> Result<RawEntry, SpecError> {
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
pub(super) fn dependency_order(file: &Path, raw: &[RawEntry]) -> Result<Vec<usize>, SpecError> {
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
