//! The error of a policy value out of its range, shared by every part of the policy.

/// A policy value out of its allowed range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The field, e.g. `idle_threshold_secs` or `categories[3].name`.
    pub field: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for PolicyError {}
