//! The openCypher TCK runner: the vendored feature files (`../shared/tck`) run as written, in
//! process, against [`nereid_engine::Database`].
//!
//! ```text
//! .feature ─► feature (parse, expand outlines) ─► steps (classify, parse tables)
//!          ─► runner (fresh in-memory Database per case) ─► compare / side_effects
//!          ─► expectations (expected-failures.txt, bless) ─► report (per-folder table)
//! ```
//!
//! The test target `tests/tck.rs` (`cargo test -p nereid-tck --test tck`) drives it; see its
//! docs for the environment variables. Two more targets read the same features through
//! [`feature`] and [`steps`] to test one stage alone: `tests/parser.rs` parses every TCK query
//! with `nereid-cypher` and checks the expected syntax errors, and `tests/temporal_library.rs`
//! evaluates the temporal scenarios on `nereid-temporal` without the engine.

pub mod compare;
pub mod expectations;
pub mod feature;
pub mod notation;
pub mod report;
pub mod runner;
pub mod side_effects;
pub mod steps;

use std::path::PathBuf;

/// Where the vendored TCK lives: `$NEREID_TCK_DIR`, else `../shared/tck` next to the
/// repository root.
pub fn default_tck_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NEREID_TCK_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("..")
        .join("shared")
        .join("tck")
}
