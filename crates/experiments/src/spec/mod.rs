//! The YAML experiment spec: types, strict parsing and validation.
//!
//! Parsing is strict: unknown keys, wrong types and YAML syntax errors are reported with
//! the spec file, the field path (e.g. `train.lr_schedule.milestones[2]`) and, for syntax,
//! line and column. After [`Spec::load`] succeeds, every value is in range, so the rest
//! of the program trusts the types.

mod error;
pub mod network;
mod pruning;
mod types;
mod validate;

use std::path::{Path, PathBuf};

pub use error::SpecError;
pub use pruning::{Pruning, Target};
pub use types::*;

/// Directory where bare spec names are looked up.
pub const SPEC_DIR: &str = "experiments";

/// Finds a spec: `arg` as a path if it exists, else `experiments/<arg>` (with `.yaml`
/// added when missing).
pub fn resolve_spec_path(arg: &str) -> Result<PathBuf, SpecError> {
    let direct = PathBuf::from(arg);
    if direct.is_file() {
        return Ok(direct);
    }
    let mut candidates = vec![Path::new(SPEC_DIR).join(arg)];
    if !arg.ends_with(".yaml") && !arg.ends_with(".yml") {
        candidates.push(Path::new(SPEC_DIR).join(format!("{arg}.yaml")));
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or(SpecError::NotFound { file: direct })
}

impl Spec {
    /// Reads, parses and validates the spec at `path`.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecError::Io {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates spec text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Spec, SpecError> {
        too_large_or_deep(text, file)?;
        // Syntax first, on an untyped value, so a syntax error is reported by line and
        // column rather than under whichever field the typed parser was in.
        if let Err(e) = serde_norway::from_str::<serde_norway::Value>(text) {
            return Err(SpecError::syntax(file, &e));
        }
        let de = serde_norway::Deserializer::from_str(text);
        let spec: Spec =
            serde_path_to_error::deserialize(de).map_err(|e| SpecError::from_serde(file, e))?;
        Self::checked(spec, file)
    }

    /// Deserializes and validates a spec from an already parsed YAML value (a study's
    /// entry merged with its shared fields); error fields are paths inside `value`.
    pub fn from_value(value: serde_norway::Value, file: &Path) -> Result<Spec, SpecError> {
        let spec: Spec =
            serde_path_to_error::deserialize(value).map_err(|e| SpecError::from_serde(file, e))?;
        Self::checked(spec, file)
    }

    fn checked(spec: Spec, file: &Path) -> Result<Spec, SpecError> {
        validate::validate(&spec).map_err(|(field, message)| SpecError::Invalid {
            file: file.to_path_buf(),
            field,
            message,
        })?;
        Ok(spec)
    }
}

/// Checks spec text for size and nesting before it is parsed (see [`MAX_SPEC_BYTES`],
/// [`MAX_FLOW_DEPTH`]) and returns its untyped YAML value, or the syntax error by line and
/// column.
pub fn parse_value(text: &str, file: &Path) -> Result<serde_norway::Value, SpecError> {
    too_large_or_deep(text, file)?;
    serde_norway::from_str::<serde_norway::Value>(text).map_err(|e| SpecError::syntax(file, &e))
}

/// Longest spec text accepted, in bytes.
pub const MAX_SPEC_BYTES: usize = 1 << 20;
/// Deepest nesting of flow collections (`[`, `{`) accepted. The parser's time grows
/// with the square of the depth (100,000 levels took 17 s to refuse), so deeper text is
/// refused before parsing.
pub const MAX_FLOW_DEPTH: usize = 64;

fn too_large_or_deep(text: &str, file: &Path) -> Result<(), SpecError> {
    let syntax = |line, column, message: String| SpecError::Syntax {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    if text.len() > MAX_SPEC_BYTES {
        return Err(syntax(
            0,
            0,
            format!(
                "{} bytes, more than the {MAX_SPEC_BYTES} a spec may hold",
                text.len()
            ),
        ));
    }
    // Flow collections may span lines, so the depth carries over.
    let mut depth = 0usize;
    for (no, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        for (col, ch) in line.chars().enumerate() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(ch),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Err(syntax(
                            no + 1,
                            col + 1,
                            format!("collections nested deeper than {MAX_FLOW_DEPTH} levels"),
                        ));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}
