//! Shared vocabulary of nereid: the Cypher [`Value`] with its equality, equivalence and
//! ordering rules, node and relationship ids, the single [`ErrorCode`] table that maps every
//! error to its Neptune exception, HTTP status and openCypher TCK classification, and the
//! [`CancelToken`] that timeouts and user cancels share.

pub mod cancel;
pub mod error;
pub mod temporal;
pub mod value;

pub use cancel::{CancelReason, CancelToken};
pub use error::{Error, ErrorCode, ErrorInfo, Phase, Result};
pub use value::{Map, NodeId, Path, RelId, Value};
