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
    pub(crate) fn syntax(file: &std::path::Path, e: &serde_norway::Error) -> Self {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        SpecError::Syntax {
            file: file.to_path_buf(),
            line,
            column,
            message: strip_location(&e.to_string()),
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
