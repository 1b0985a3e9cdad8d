//! The one error type of this crate: a [`TemporalErrorKind`] saying what went wrong, in the
//! terms a caller's error table needs, and a message for the user.
//!
//! The crate knows nothing of nereid's `ErrorCode` table (it must not link it, nor be linked
//! by everything that does); `nereid-value` maps each kind to its code.

/// What kind of failure a [`TemporalError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemporalErrorKind {
    /// A value of the right type outside its domain: text that is not ISO 8601, an unknown
    /// zone, `{month: 13}`, a field the type does not have, a date out of range.
    InvalidValue,
    /// A value of the wrong type: `{year: '1984'}`, a duration added to a duration's place.
    WrongType,
    /// Duration arithmetic left the 64-bit range.
    Overflow,
    /// A duration divided by zero.
    DivisionByZero,
    /// A broken invariant inside this crate: a bug, reported rather than a panic.
    Internal,
}

/// A temporal operation that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemporalError {
    pub kind: TemporalErrorKind,
    pub message: String,
}

impl TemporalError {
    pub fn new(kind: TemporalErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn overflow(message: impl Into<String>) -> Self {
        Self::new(TemporalErrorKind::Overflow, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(TemporalErrorKind::Internal, message)
    }
}

pub type Result<T, E = TemporalError> = std::result::Result<T, E>;
