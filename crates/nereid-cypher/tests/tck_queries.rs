//! Parses every query the openCypher TCK runs (`When executing query:`, `When executing
//! control query:` and `And having executed:` docstrings, with outline placeholders
//! substituted from each `Examples:` row) and checks the parser's verdict:
//!
//! - a query whose scenario expects no compile-time error must parse (setup and control
//!   queries always);
//! - a query whose scenario expects `SyntaxError at compile time` with one of the literal or
//!   syntax detail codes (`UnexpectedSyntax`, `InvalidNumberLiteral`, …) must be rejected with
//!   exactly that code, except for the few listed in [`LEFT_TO_ENGINE`], which need semantic
//!   information and are the engine's job.
//!
//! The TCK lives in `../shared/tck` relative to the repository root; the test fails if it is
//! missing.

use std::fs;
use std::path::{Path, PathBuf};

use nereid_common::ErrorCode;

/// Detail codes the parser itself is responsible for.
const PARSER_CODES: &[(&str, ErrorCode)] = &[
    ("UnexpectedSyntax", ErrorCode::UnexpectedSyntax),
    ("InvalidNumberLiteral", ErrorCode::InvalidNumberLiteral),
    ("InvalidUnicodeLiteral", ErrorCode::InvalidUnicodeLiteral),
    (
        "InvalidUnicodeCharacter",
        ErrorCode::InvalidUnicodeCharacter,
    ),
    ("IntegerOverflow", ErrorCode::IntegerOverflow),
    ("FloatingPointOverflow", ErrorCode::FloatingPointOverflow),
    // `[:T..]` and `[*-2]` are malformed ranges the grammar cannot even express.
    (
        "InvalidRelationshipPattern",
        ErrorCode::InvalidRelationshipPattern,
    ),
];

/// Scenarios (file name and scenario number) that expect a parser-level code but whose
/// rejection needs information the parser does not have; the engine reports them.
const LEFT_TO_ENGINE: &[(&str, &str, &str)] = &[];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Setup,
    Main,
    Control,
}

struct Case {
    file: String,
    scenario: String,
    line: usize,
    role: Role,
    query: String,
    /// `(phase, detail)` of the expected error, if any.
    error: Option<(String, String)>,
}

fn tck_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tck/features")
}

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the TCK directory {}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            feature_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
}

/// Gherkin table cell unescaping: `\|`, `\\`, `\n`.
fn unescape_cell(cell: &str) -> String {
    let mut out = String::new();
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('|') => out.push('|'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn table_row(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    // Split on unescaped pipes.
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            '|' => {
                cells.push(unescape_cell(current.trim()));
                current.clear();
            }
            _ => current.push(c),
        }
    }
    cells
}

struct Scenario {
    name: String,
    line: usize,
    steps: Vec<(Role, String)>,
    error: Option<(String, String)>,
    examples: Vec<Vec<String>>,
}

fn parse_feature(text: &str) -> Vec<Scenario> {
    let lines: Vec<&str> = text.lines().collect();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut pending_role: Option<Role> = None;
    let mut in_examples = false;
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let line = raw.trim();
        i += 1;
        if line.starts_with("Scenario") {
            scenarios.push(Scenario {
                name: line.to_string(),
                line: i,
                steps: Vec::new(),
                error: None,
                examples: Vec::new(),
            });
            in_examples = false;
            continue;
        }
        let Some(current) = scenarios.last_mut() else {
            continue;
        };
        if line == "\"\"\"" {
            let indent = &raw[..raw.len() - raw.trim_start().len()];
            let mut body = Vec::new();
            while i < lines.len() && lines[i].trim() != "\"\"\"" {
                let l = lines[i];
                body.push(l.strip_prefix(indent).unwrap_or(l.trim_start()));
                i += 1;
            }
            i += 1;
            if let Some(role) = pending_role.take() {
                current.steps.push((role, body.join("\n")));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with("Examples:") {
            in_examples = true;
            continue;
        }
        if in_examples && line.starts_with('|') {
            current.examples.push(table_row(line));
            continue;
        }
        let step = line
            .split_once(' ')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        pending_role = match step {
            "executing query:" => Some(Role::Main),
            "executing control query:" => Some(Role::Control),
            "having executed:" => Some(Role::Setup),
            _ => None,
        };
        if let Some(rest) = step.strip_prefix("a ").or_else(|| step.strip_prefix("an ")) {
            if let Some((_, tail)) = rest.split_once(" should be raised at ") {
                if let Some((phase, detail)) = tail.split_once(": ") {
                    current.error = Some((phase.to_string(), detail.trim().to_string()));
                }
            }
        }
    }
    scenarios
}

fn collect_cases() -> Vec<Case> {
    let dir = tck_dir();
    assert!(
        dir.is_dir(),
        "the openCypher TCK is missing: expected it at {}",
        dir.display()
    );
    let mut files = Vec::new();
    feature_files(&dir, &mut files);
    assert!(
        files.len() > 200,
        "expected the 220 TCK feature files, found {}",
        files.len()
    );
    let mut cases = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).expect("TCK feature files are UTF-8");
        let file = path
            .strip_prefix(&dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        for scenario in parse_feature(&text) {
            let rows: Vec<Vec<(String, String)>> = match scenario.examples.split_first() {
                Some((header, rows)) => rows
                    .iter()
                    .map(|row| header.iter().cloned().zip(row.iter().cloned()).collect())
                    .collect(),
                None => vec![Vec::new()],
            };
            for row in rows {
                for (role, query) in &scenario.steps {
                    let mut query = query.clone();
                    for (name, value) in &row {
                        query = query.replace(&format!("<{name}>"), value);
                    }
                    cases.push(Case {
                        file: file.clone(),
                        scenario: scenario.name.clone(),
                        line: scenario.line,
                        role: *role,
                        query,
                        error: scenario.error.clone(),
                    });
                }
            }
        }
    }
    cases
}

/// Parses on a thread with a 2 MiB stack, like a default Rust thread.
fn parse_all(queries: Vec<String>) -> Vec<Result<(), nereid_common::Error>> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            queries
                .iter()
                .map(|q| nereid_cypher::parse(q).map(|_| ()))
                .collect()
        })
        .expect("spawn parser thread")
        .join()
        .expect("the parser never panics")
}

#[test]
fn tck_queries_parse_or_fail_as_expected() {
    let started = std::time::Instant::now();
    let cases = collect_cases();
    assert!(cases.len() > 4000, "too few TCK queries: {}", cases.len());
    let results = parse_all(cases.iter().map(|c| c.query.clone()).collect());

    let mut must_parse = 0;
    let mut wrongly_rejected = Vec::new();
    let mut other_compile_errors = 0;
    let mut other_compile_errors_parsed = 0;
    let mut parser_expected = 0;
    let mut parser_matched = 0;
    let mut parser_missed = Vec::new();
    for (case, result) in cases.iter().zip(&results) {
        let compile_error = case
            .error
            .as_ref()
            .filter(|(phase, _)| phase == "compile time" || phase == "any time");
        let parser_code = compile_error
            .and_then(|(_, detail)| PARSER_CODES.iter().find(|(d, _)| d == detail))
            .map(|(_, code)| *code);
        let location = format!("{}:{} {}", case.file, case.line, case.scenario);
        match (case.role, compile_error, parser_code) {
            (Role::Main, Some(_), Some(code)) => {
                parser_expected += 1;
                let left_to_engine = LEFT_TO_ENGINE
                    .iter()
                    .any(|(f, s, _)| case.file.ends_with(f) && case.scenario.contains(s));
                match result {
                    Err(e) if e.code == code => parser_matched += 1,
                    _ if left_to_engine => {}
                    other => parser_missed.push(format!(
                        "{location}\n    query: {}\n    expected {code:?}, got {other:?}",
                        case.query
                    )),
                }
            }
            (Role::Main, Some(_), None) => {
                other_compile_errors += 1;
                match result {
                    Ok(()) => other_compile_errors_parsed += 1,
                    Err(e) => eprintln!(
                        "note: rejected by the parser, the TCK expects {:?}: {location}\n    query: {}\n    {e}",
                        compile_error.map(|(_, d)| d),
                        case.query
                    ),
                }
            }
            _ => {
                must_parse += 1;
                if let Err(e) = result {
                    wrongly_rejected
                        .push(format!("{location}\n    query: {}\n    {e}", case.query));
                }
            }
        }
    }
    eprintln!(
        "TCK parse: {} queries in {:?}\n  must parse: {}/{} parsed\n  parser-level compile errors: {}/{} rejected with the exact code ({} left to the engine)\n  other compile-time errors (semantic, the engine's job): {}/{} parsed",
        cases.len(),
        started.elapsed(),
        must_parse - wrongly_rejected.len(),
        must_parse,
        parser_matched,
        parser_expected,
        LEFT_TO_ENGINE.len(),
        other_compile_errors_parsed,
        other_compile_errors,
    );
    assert!(
        wrongly_rejected.is_empty(),
        "{} TCK queries that must parse were rejected:\n{}",
        wrongly_rejected.len(),
        wrongly_rejected.join("\n")
    );
    assert!(
        parser_missed.is_empty(),
        "{} TCK syntax-error scenarios were not rejected with the expected code:\n{}",
        parser_missed.len(),
        parser_missed.join("\n")
    );
}
