//! Cypher's built-in functions and operators over [`nereid_common::Value`].
pub(crate) mod args;
pub mod format;
pub mod ops;
