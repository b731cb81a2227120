use thiserror::Error;

/// Errors raised when a width configuration does not describe a valid network.
#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    /// A field has the wrong number of entries (e.g. 12 conv widths for VGG-16).
    #[error("{field}: expected {expected} entries, found {found}")]
    WrongLength {
        field: String,
        expected: usize,
        found: usize,
    },
    /// A width or class count is zero or negative.
    #[error("{field}: must be at least 1, found {value}")]
    NonPositive { field: String, value: i64 },
    /// Any other inconsistency between fields.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

pub(crate) fn check_len<T>(field: &str, v: &[T], expected: usize) -> Result<(), ModelError> {
    if v.len() != expected {
        return Err(ModelError::WrongLength {
            field: field.to_string(),
            expected,
            found: v.len(),
        });
    }
    Ok(())
}

pub(crate) fn check_positive(field: &str, values: &[i64]) -> Result<(), ModelError> {
    for (i, &v) in values.iter().enumerate() {
        if v < 1 {
            let field = if values.len() > 1 {
                format!("{field}[{i}]")
            } else {
                field.to_string()
            };
            return Err(ModelError::NonPositive { field, value: v });
        }
    }
    Ok(())
}
