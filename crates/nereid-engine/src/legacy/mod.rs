//! The first engine (analysis and planning in one pass, slot rows), kept running while the
//! staged engine (`bind` → `plan` → `optimize` → `physical` → `exec`) replaces it.

pub mod exec;
pub mod expr;
pub mod pattern;
pub mod planner;
