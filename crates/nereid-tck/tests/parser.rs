//! The parser alone against the openCypher TCK: parses every query the TCK runs (`When
//! executing query:`, `When executing control query:` and `And having executed:`
//! docstrings of every case, as [`nereid_tck`]'s feature reader expands them) and checks the
//! parser's verdict:
//!
//! - a query whose scenario expects no compile-time error must parse (setup and control
//!   queries always), and so must one whose expected compile-time error is semantic
//!   (`VariableAlreadyBound`, `UndefinedVariable`, …): the engine reports those;
//! - a query whose scenario expects `SyntaxError at compile time` with one of the literal or
//!   syntax detail codes (`UnexpectedSyntax`, `InvalidNumberLiteral`, …) must be rejected with
//!   exactly that code. Some of these look semantic (a pattern predicate in RETURN, `YIELD *`
//!   after an in-query CALL) but the TCK files them as syntax, so the parser rejects them.
//!
//! The TCK is found as the TCK run finds it ([`nereid_tck::default_tck_dir`]); the test fails
//! if it is missing. It lives here rather than in `nereid-cypher` because the reader is this
//! crate's, and this crate already depends on the parser through the engine.

use nereid_common::ErrorCode;
use nereid_tck::feature::CaseId;
use nereid_tck::runner::Tck;
use nereid_tck::steps::{classify, ExpectedError, ExpectedPhase, Step};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Setup,
    Main,
    Control,
}

struct Query {
    case: CaseId,
    scenario: String,
    role: Role,
    text: String,
    /// The error the case expects, if any.
    error: Option<ExpectedError>,
}

/// Every query of every case, with the role its step gives it. A background's setup
/// queries come once per case that runs them.
fn collect_queries() -> Vec<Query> {
    let root = nereid_tck::default_tck_dir();
    let tck = Tck::load(&root).unwrap_or_else(|e| {
        panic!(
            "the openCypher TCK is missing or unreadable at {}: {e}",
            root.display()
        )
    });
    assert!(
        tck.features.len() > 200,
        "expected the 220 TCK feature files, found {}",
        tck.features.len()
    );
    let mut queries = Vec::new();
    for case in tck.cases() {
        let steps: Vec<Step> = case
            .steps
            .iter()
            .map(|s| classify(s).unwrap_or_else(|e| panic!("{}: {e}", case.id)))
            .collect();
        let error = steps.iter().find_map(|s| match s {
            Step::Error(e) => Some(e.clone()),
            _ => None,
        });
        for step in steps {
            let (role, text) = match step {
                Step::HavingExecuted(q) => (Role::Setup, q),
                Step::ExecuteQuery(q) => (Role::Main, q),
                Step::ControlQuery(q) => (Role::Control, q),
                _ => continue,
            };
            queries.push(Query {
                case: case.id.clone(),
                scenario: case.name.clone(),
                role,
                text,
                error: error.clone(),
            });
        }
    }
    queries
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
    let queries = collect_queries();
    assert!(
        queries.len() > 4000,
        "too few TCK queries: {}",
        queries.len()
    );
    let results = parse_all(queries.iter().map(|q| q.text.clone()).collect());
    let count = |role| queries.iter().filter(|q| q.role == role).count();
    let (main, setup, control) = (count(Role::Main), count(Role::Setup), count(Role::Control));
    // Every runnable TCK case has exactly one query under test (see ../shared/tck/README.md).
    assert_eq!(main, 3897, "queries under test");

    let mut must_parse = 0;
    let mut wrongly_rejected = Vec::new();
    let mut other_compile_errors = 0;
    let mut other_compile_errors_parsed = 0;
    let mut parser_expected = 0;
    let mut parser_matched = 0;
    let mut parser_missed = Vec::new();
    for (query, result) in queries.iter().zip(&results) {
        let compile_error = query
            .error
            .as_ref()
            .filter(|e| matches!(e.phase, ExpectedPhase::CompileTime | ExpectedPhase::AnyTime));
        let parser_code = compile_error
            .and_then(|e| PARSER_CODES.iter().find(|(d, _)| *d == e.detail))
            .map(|(_, code)| *code);
        let location = format!("{} {}", query.case, query.scenario);
        match (query.role, compile_error, parser_code) {
            (Role::Main, Some(_), Some(code)) => {
                parser_expected += 1;
                match result {
                    Err(e) if e.code == code => parser_matched += 1,
                    other => parser_missed.push(format!(
                        "{location}\n    query: {}\n    expected {code:?}, got {other:?}",
                        query.text
                    )),
                }
            }
            (Role::Main, Some(_), None) => {
                // Semantic errors (VariableAlreadyBound, …) are the engine's to report: the
                // query must get past the parser for that.
                other_compile_errors += 1;
                match result {
                    Ok(()) => other_compile_errors_parsed += 1,
                    Err(e) => wrongly_rejected.push(format!(
                        "{location}\n    query: {}\n    the TCK expects {:?} from the engine, the parser said: {e}",
                        query.text,
                        compile_error.map(|e| &e.detail)
                    )),
                }
            }
            _ => {
                must_parse += 1;
                if let Err(e) = result {
                    wrongly_rejected
                        .push(format!("{location}\n    query: {}\n    {e}", query.text));
                }
            }
        }
    }
    eprintln!(
        "TCK parse: {} queries ({main} under test, {setup} setup, {control} control) in {:?}\n  must parse: {}/{} parsed\n  parser-level compile errors: {}/{} rejected with the exact code\n  other compile-time errors (semantic, the engine's job): {}/{} parsed",
        queries.len(),
        started.elapsed(),
        must_parse - wrongly_rejected.len(),
        must_parse,
        parser_matched,
        parser_expected,
        other_compile_errors_parsed,
        other_compile_errors,
    );
    assert!(
        wrongly_rejected.is_empty(),
        "{} TCK queries that must get past the parser were rejected:\n{}",
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
