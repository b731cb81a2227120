//! YAML value helpers of the study loader: merging an entry onto the shared parts and
//! finding which layer (shared, entry, variant) wrote a field.
use serde_norway::Value;

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

pub(super) fn key_str(k: &Value) -> Option<&str> {
    k.as_str()
}

/// How deep `path` (field names, indices dropped) reaches into `value`.
pub(super) fn reach(value: &Value, path: &[&str]) -> usize {
    let mut v = value;
    for (i, p) in path.iter().enumerate() {
        match v.as_mapping().and_then(|m| m.get(*p)) {
            Some(next) => v = next,
            None => return i,
        }
    }
    path.len()
}
