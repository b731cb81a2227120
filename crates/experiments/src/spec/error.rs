use std::fmt;
use std::path::PathBuf;

/// A spec that cannot be used, with the file and the field (or line and column) at fault.
#[derive(Debug)]
pub enum SpecError {
    NotFound {
        file: PathBuf,
    },
    Io {
        file: PathBuf,
        reason: String,
    },
    /// YAML syntax error.
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Unknown key, wrong type or missing field.
    Schema {
        file: PathBuf,
        field: String,
        message: String,
    },
    /// A value out of range or inconsistent with another.
    Invalid {
        file: PathBuf,
        field: String,
        message: String,
    },
}

impl SpecError {
    /// The field this error names, if it names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            SpecError::Schema { field, .. } | SpecError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The same error with its field path rewritten by `f` (a study names an entry's
    /// fields from the study's top level).
    pub fn map_field(self, f: impl FnOnce(&str) -> String) -> Self {
        match self {
            SpecError::Schema {
                file,
                field,
                message,
            } => SpecError::Schema {
                field: f(&field),
                file,
                message,
            },
            SpecError::Invalid {
                file,
                field,
                message,
            } => SpecError::Invalid {
                field: f(&field),
                file,
                message,
            },
            other => other,
        }
    }

    pub(crate) fn syntax(file: &std::path::Path, e: &serde_norway::Error) -> Self {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let message = strip_location(&e.to_string());
        // Not a syntax error but a value no YAML type holds (e.g. an integer of 2^64),
        // reported under its field path: "train.epochs: invalid type: integer ...".
        if let Some((field, rest)) = message.split_once(": invalid type: integer ") {
            let number = rest.split('`').nth(1).unwrap_or(rest);
            return SpecError::Schema {
                file: file.to_path_buf(),
                field: field.to_string(),
                message: format!("the integer {number} is out of range"),
            };
        }
        let message = match message.as_str() {
            "repetition limit exceeded" => {
                "aliases expand to too many nodes (repetition limit exceeded)".to_string()
            }
            _ => message,
        };
        SpecError::Syntax {
            file: file.to_path_buf(),
            line,
            column,
            message,
        }
    }

    pub(crate) fn from_serde(
        file: &std::path::Path,
        e: serde_path_to_error::Error<serde_norway::Error>,
    ) -> Self {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let file = file.to_path_buf();
        let message = strip_location(&inner.to_string());
        // serde_norway starts some messages with the field path the error names already.
        let message = message
            .strip_prefix(&format!("{path}: "))
            .map_or(message.clone(), str::to_string);
        SpecError::Schema {
            file,
            field: if path == "." {
                "(top level)".into()
            } else {
                path
            },
            message,
        }
    }
}

/// serde_norway appends " at line L column C" to messages; the field path says more.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::NotFound { file } => write!(
                f,
                "spec {} not found (looked for it as a path and under experiments/)",
                file.display()
            ),
            SpecError::Io { file, reason } => {
                write!(f, "cannot read spec {}: {reason}", file.display())
            }
            SpecError::Syntax {
                file,
                line,
                column,
                message,
            } if *line == 0 => write!(f, "{}: YAML error: {message}", file.display()),
            SpecError::Syntax {
                file,
                line,
                column,
                message,
            } => write!(
                f,
                "{}:{line}:{column}: YAML syntax error: {message}",
                file.display()
            ),
            SpecError::Schema {
                file,
                field,
                message,
            }
            | SpecError::Invalid {
                file,
                field,
                message,
            } => {
                write!(f, "{}: field `{field}`: {message}", file.display())
            }
        }
    }
}

impl std::error::Error for SpecError {}
