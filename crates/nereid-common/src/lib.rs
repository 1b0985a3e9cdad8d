//! What every nereid crate shares, and nothing heavier: the single [`ErrorCode`] table that
//! maps every error to its Neptune exception, HTTP status, openCypher TCK classification and
//! Bolt status, the coded [`Error`] itself, and the [`CancelToken`] that timeouts and user
//! cancels share.
//!
//! The Cypher value lives in `nereid-value` and the temporal types in `nereid-temporal`, so
//! that crates needing only errors (the parser, SigV4) do not link the time-zone database.

pub mod cancel;
pub mod error;

pub use cancel::{CancelReason, CancelToken};
pub use error::{Error, ErrorCode, ErrorInfo, Phase, Result};
