//! The openCypher parser on arbitrary text: it must return a syntax error or an AST, never
//! panic or overflow the stack (deep nesting is bounded by `MAX_NESTING_DEPTH`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nereid_cypher::parse(text);
    }
});
