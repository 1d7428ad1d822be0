//! One error type for every use case. Each dialect maps it to its own wire
//! shape in exactly one place.

use std::collections::BTreeMap;

/// Field name → human-readable problems, in the order found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub BTreeMap<String, Vec<String>>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first problem, used as the summary line of an error body.
    pub fn first_message(&self) -> &str {
        self.0
            .values()
            .flat_map(|messages| messages.first())
            .next()
            .map(String::as_str)
            .unwrap_or("The given data was invalid.")
    }

    /// The same problems with fields named as a dialect names them
    /// (`name` → `title`); `from.sub` becomes `to.sub`.
    pub fn renamed(self, names: &[(&str, &str)]) -> Self {
        let rename = |field: String| {
            for (from, to) in names {
                if field == *from {
                    return (*to).to_owned();
                }
                if let Some(rest) = field.strip_prefix(from).and_then(|r| r.strip_prefix('.')) {
                    return format!("{to}.{rest}");
                }
            }
            field
        };
        let mut renamed = Self::new();
        for (field, messages) in self.0 {
            let field = rename(field);
            for message in messages {
                renamed.add(field.clone(), message);
            }
        }
        renamed
    }

    /// `Ok(())` when nothing was found, else the collected problems.
    pub fn into_result(self) -> Result<(), CoreError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Validation(self))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No credential, or one that is unknown, expired or revoked.
    #[error("Unauthenticated.")]
    Unauthenticated,
    /// The caller can see the resource but may not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// Absent, or outside the caller's reach: the two are never told apart.
    #[error("{0} not found.")]
    NotFound(&'static str),
    #[error("{}", .0.first_message())]
    Validation(ValidationErrors),
    /// The request clashes with the current state (a duplicate, a busy thread).
    #[error("{0}")]
    Conflict(String),
    /// Past a size limit or quota; the message names it (413).
    #[error("{0}")]
    TooLarge(String),
    #[error("Too many requests.")]
    RateLimited { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(ValidationErrors::single(field, message))
    }

    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }

    /// Validation problems with their fields renamed (see
    /// [`ValidationErrors::renamed`]); other errors unchanged.
    pub fn renamed(self, names: &[(&str, &str)]) -> Self {
        match self {
            Self::Validation(errors) => Self::Validation(errors.renamed(names)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_keeps_messages_and_sub_fields() {
        let mut errors = ValidationErrors::new();
        errors.add("name", "too long");
        errors.add("metadata.k", "value too long");
        errors.add("names", "untouched");
        let renamed = errors.renamed(&[("name", "title"), ("metadata", "meta")]);
        let fields: Vec<_> = renamed.0.keys().map(String::as_str).collect();
        assert_eq!(fields, ["meta.k", "names", "title"]);
        assert_eq!(renamed.0["title"], ["too long"]);
    }
}

/// What a storage backend can report. Unique-constraint violations are told
/// apart so that the core can answer them as validation problems.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        CoreError::Internal(Box::new(err))
    }
}
