//! Loading the vendored TCK and running one case against a fresh in-memory [`Database`].
//!
//! A case runs its steps in order: graph setup, `having executed` queries (which must
//! succeed), parameters and procedures, then `When executing query`, preceded by a side-effect
//! snapshot. `Then` steps check the latest query's outcome; the side-effect steps (and every
//! expected error) compare a new snapshot with the one before the query.

use std::collections::BTreeMap;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nereid_common::{CancelToken, Error, ErrorCode, Phase};
use nereid_engine::{Database, QueryResult};
use nereid_value::Map;

use crate::compare::{compare_tables, resolve};
use crate::feature::{parse_feature, Case, CaseId, Feature};
use crate::side_effects::{SideEffects, Snapshot};
use crate::steps::{classify, ExpectedError, ExpectedPhase, ExpectedTable, Step};

/// The vendored TCK: parsed features and the named graphs' creation scripts.
#[derive(Debug, Clone)]
pub struct Tck {
    pub root: PathBuf,
    pub features: Vec<Feature>,
    /// Graph name → creation script.
    pub graphs: BTreeMap<String, String>,
}

impl Tck {
    /// Reads `root/features/**.feature` and `root/graphs/<name>/<name>.cypher`.
    pub fn load(root: &Path) -> Result<Tck, String> {
        let features_dir = root.join("features");
        if !features_dir.is_dir() {
            return Err(format!("{} is not a directory", features_dir.display()));
        }
        let mut files = Vec::new();
        collect_features(&features_dir, &mut files)?;
        files.sort();
        let mut features = Vec::with_capacity(files.len());
        for file in files {
            let rel = file
                .strip_prefix(root)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let source =
                fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            features.push(parse_feature(&rel, &source).map_err(|e| format!("{rel}: {e}"))?);
        }
        let mut graphs = BTreeMap::new();
        let graphs_dir = root.join("graphs");
        if graphs_dir.is_dir() {
            let entries =
                fs::read_dir(&graphs_dir).map_err(|e| format!("{}: {e}", graphs_dir.display()))?;
            for entry in entries {
                let dir = entry.map_err(|e| e.to_string())?.path();
                let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                    continue;
                };
                let script = dir.join(format!("{name}.cypher"));
                if script.is_file() {
                    let text = fs::read_to_string(&script)
                        .map_err(|e| format!("{}: {e}", script.display()))?;
                    graphs.insert(name, text);
                }
            }
        }
        Ok(Tck {
            root: root.to_owned(),
            features,
            graphs,
        })
    }

    /// Every case of every feature, in file order.
    pub fn cases(&self) -> Vec<Case> {
        self.features.iter().flat_map(Feature::cases).collect()
    }
}

fn collect_features(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_features(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

/// Splits a graph script into statements: each ends with `;` outside a string literal.
pub fn split_statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = script.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        current.push(next);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    current.push(c);
                }
                ';' => {
                    if !current.trim().is_empty() {
                        out.push(current.trim().to_owned());
                    }
                    current.clear();
                }
                c => current.push(c),
            },
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// Limits and options for one case.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Deadline given to every query's cancel token, so a runaway query cannot hang the run.
    pub query_timeout: Duration,
    /// A case taking longer than this fails (the issue: no case may take over a second).
    pub time_limit: Duration,
    /// The named graph `Given any graph` loads; `None` = the empty graph. Such scenarios must
    /// pass whatever the graph holds (the reference harness uses `binary-tree-1`).
    pub any_graph: Option<String>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            query_timeout: Duration::from_secs(5),
            time_limit: Duration::from_secs(1),
            any_graph: None,
        }
    }
}

/// What happened to one case.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: CaseId,
    pub name: String,
    pub elapsed: Duration,
    /// `Err(reason)`: the first line is the short reason, further lines give detail.
    pub result: Result<(), String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }

    /// The first line of the failure reason.
    pub fn short_reason(&self) -> Option<&str> {
        self.result
            .as_ref()
            .err()
            .map(|r| r.lines().next().unwrap_or(""))
    }
}

/// Runs one case; never panics (an engine panic is a failure of that case).
pub fn run_case(case: &Case, tck: &Tck, config: &RunConfig) -> Outcome {
    let start = Instant::now();
    let result =
        catch_unwind(AssertUnwindSafe(|| run_steps(case, tck, config))).unwrap_or_else(|payload| {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            Err(format!("panic: {msg}"))
        });
    let elapsed = start.elapsed();
    let result = match result {
        Ok(()) if elapsed > config.time_limit => Err(format!(
            "slow: took {} ms (limit {} ms)",
            elapsed.as_millis(),
            config.time_limit.as_millis()
        )),
        other => other,
    };
    Outcome {
        id: case.id.clone(),
        name: case.name.clone(),
        elapsed,
        result,
    }
}

/// `SyntaxError/VariableAlreadyBound at compile time: message` (first line of the message).
fn describe_error(e: &Error) -> String {
    let info = e.info();
    let message = e.message.lines().next().unwrap_or("");
    let message: String = message.chars().take(160).collect();
    let kind = if info.tck_detail.is_empty() {
        format!("{:?}", e.code)
    } else {
        format!("{}/{}", info.tck_type, info.tck_detail)
    };
    format!("{kind} at {}: {message}", e.phase.as_str())
}

fn describe_expected(e: &ExpectedError) -> String {
    let phase = match e.phase {
        ExpectedPhase::CompileTime => "compile time",
        ExpectedPhase::Runtime => "runtime",
        ExpectedPhase::AnyTime => "any time",
    };
    format!("{}/{} at {phase}", e.error_type, e.detail)
}

/// Whether an engine error is the expected one. Wildcards (`Error`, `any time`, `*`) are
/// honoured on the expected side only; an error the TCK does not classify (empty detail:
/// timeouts, cancels, internal failures, unsupported features) never matches.
pub fn error_matches(expected: &ExpectedError, actual: &Error) -> bool {
    let info = actual.info();
    if info.tck_detail.is_empty()
        || matches!(
            actual.code,
            ErrorCode::TimeLimitExceeded | ErrorCode::CancelledByUser | ErrorCode::InternalFailure
        )
    {
        return false;
    }
    let type_ok = expected.error_type == "Error" || expected.error_type == info.tck_type;
    let phase_ok = match expected.phase {
        ExpectedPhase::AnyTime => true,
        ExpectedPhase::CompileTime => actual.phase == Phase::CompileTime,
        ExpectedPhase::Runtime => actual.phase == Phase::Runtime,
    };
    let detail_ok = expected.detail == "*" || expected.detail == info.tck_detail;
    type_ok && phase_ok && detail_ok
}

fn check_table(expected: &ExpectedTable, result: &QueryResult) -> Result<(), String> {
    let rows = result
        .rows
        .iter()
        .map(|row| row.iter().map(|v| resolve(v, result)).collect())
        .collect::<Result<Vec<Vec<_>>, String>>()
        .map_err(|e| format!("bad result: {e}"))?;
    if let Some(row) = rows.iter().find(|r| r.len() != result.columns.len()) {
        return Err(format!(
            "bad result: a row has {} values for {} columns",
            row.len(),
            result.columns.len()
        ));
    }
    compare_tables(
        &expected.columns,
        &expected.rows,
        &result.columns,
        &rows,
        expected.ordering,
    )
}

/// Runs a named graph's creation script.
fn load_graph(
    db: &Database,
    tck: &Tck,
    name: &str,
    token: &dyn Fn() -> CancelToken,
) -> Result<(), String> {
    let script = tck
        .graphs
        .get(name)
        .ok_or_else(|| format!("unknown graph {name:?}"))?;
    for statement in split_statements(script) {
        db.execute(&statement, &Map::new(), &token())
            .map_err(|e| format!("loading graph {name} failed: {}", describe_error(&e)))?;
    }
    Ok(())
}

fn run_steps(case: &Case, tck: &Tck, config: &RunConfig) -> Result<(), String> {
    let steps = case
        .steps
        .iter()
        .map(classify)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad scenario: {e}"))?;
    let db = Database::in_memory();
    let token = || CancelToken::new(Some(Instant::now() + config.query_timeout));
    let mut params = Map::new();
    let mut before: Option<Snapshot> = None;
    let mut outcome: Option<Result<QueryResult, Error>> = None;

    let side_effects = |db: &Database, before: &Option<Snapshot>| -> Result<SideEffects, String> {
        let before = before
            .as_ref()
            .ok_or("side effects checked before `When executing query`")?;
        let after = Snapshot::take(db, &token())?;
        Ok(SideEffects::between(before, &after))
    };

    for step in &steps {
        match step {
            Step::EmptyGraph => {}
            Step::AnyGraph => {
                if let Some(name) = &config.any_graph {
                    load_graph(&db, tck, name, &token)?;
                }
            }
            Step::NamedGraph(name) => load_graph(&db, tck, name, &token)?,
            Step::HavingExecuted(query) => {
                db.execute(query, &params, &token())
                    .map_err(|e| format!("setup query failed: {}", describe_error(&e)))?;
            }
            Step::Parameters(list) => {
                for (name, value) in list {
                    let value = value
                        .to_value()
                        .map_err(|e| format!("bad parameter {name}: {e}"))?;
                    params.insert(name.clone(), value);
                }
            }
            Step::Procedure(decl) => {
                db.register_procedure(
                    decl.to_engine()
                        .map_err(|e| format!("bad procedure: {e}"))?,
                );
            }
            Step::ExecuteQuery(query) => {
                before = Some(Snapshot::take(&db, &token())?);
                outcome = Some(db.execute(query, &params, &token()));
            }
            Step::ControlQuery(query) => {
                outcome = Some(db.execute(query, &params, &token()));
            }
            Step::Result(expected) => match outcome.as_ref().ok_or("no query ran")? {
                Ok(result) => check_table(expected, result)?,
                Err(e) => return Err(format!("unexpected error: {}", describe_error(e))),
            },
            Step::ResultEmpty => match outcome.as_ref().ok_or("no query ran")? {
                Ok(result) => {
                    if !result.columns.is_empty() || !result.rows.is_empty() {
                        return Err(format!(
                            "expected an empty result, got columns {:?} and {} rows",
                            result.columns,
                            result.rows.len()
                        ));
                    }
                }
                Err(e) => return Err(format!("unexpected error: {}", describe_error(e))),
            },
            Step::Error(expected) => {
                match outcome.as_ref().ok_or("no query ran")? {
                    Ok(result) => {
                        return Err(format!(
                            "expected {}, but the query succeeded ({} rows)",
                            describe_expected(expected),
                            result.rows.len()
                        ))
                    }
                    Err(e) if !error_matches(expected, e) => {
                        return Err(format!(
                            "expected {}, got {}",
                            describe_expected(expected),
                            describe_error(e)
                        ))
                    }
                    Err(_) => {}
                }
                // A failed query must leave the graph as it was.
                let fx = side_effects(&db, &before)?;
                if fx != SideEffects::default() {
                    return Err(format!("the failed query left side effects: {fx}"));
                }
            }
            Step::NoSideEffects | Step::SideEffects(_) => {
                let expected = match step {
                    Step::SideEffects(fx) => *fx,
                    _ => SideEffects::default(),
                };
                let actual = side_effects(&db, &before)?;
                if actual != expected {
                    return Err(format!(
                        "wrong side effects: expected {expected}, got {actual}"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_on_semicolons_outside_strings() {
        let script = "CREATE (a {s: 'x;y'})\nCREATE (b);\n\nCREATE (c {t: \"\\\";\"});\n";
        assert_eq!(
            split_statements(script),
            vec![
                "CREATE (a {s: 'x;y'})\nCREATE (b)".to_owned(),
                "CREATE (c {t: \"\\\";\"})".to_owned()
            ]
        );
    }

    fn expected(ty: &str, phase: ExpectedPhase, detail: &str) -> ExpectedError {
        ExpectedError {
            error_type: ty.into(),
            phase,
            detail: detail.into(),
        }
    }

    #[test]
    fn errors_match_type_phase_and_detail() {
        let bound = Error::compile(ErrorCode::VariableAlreadyBound, "x");
        assert!(error_matches(
            &expected(
                "SyntaxError",
                ExpectedPhase::CompileTime,
                "VariableAlreadyBound"
            ),
            &bound
        ));
        // Wrong phase, type or detail.
        assert!(!error_matches(
            &expected(
                "SyntaxError",
                ExpectedPhase::Runtime,
                "VariableAlreadyBound"
            ),
            &bound
        ));
        assert!(!error_matches(
            &expected(
                "TypeError",
                ExpectedPhase::CompileTime,
                "VariableAlreadyBound"
            ),
            &bound
        ));
        assert!(!error_matches(
            &expected(
                "SyntaxError",
                ExpectedPhase::CompileTime,
                "UndefinedVariable"
            ),
            &bound
        ));
        // Wildcards on the expected side.
        assert!(error_matches(
            &expected("Error", ExpectedPhase::AnyTime, "*"),
            &bound
        ));
        let runtime = Error::new(ErrorCode::InvalidArgumentType, "x");
        assert!(error_matches(
            &expected("TypeError", ExpectedPhase::AnyTime, "InvalidArgumentType"),
            &runtime
        ));
        assert!(!error_matches(
            &expected(
                "TypeError",
                ExpectedPhase::CompileTime,
                "InvalidArgumentType"
            ),
            &runtime
        ));
    }

    #[test]
    fn unclassified_errors_never_match_even_a_wildcard() {
        let any = expected("Error", ExpectedPhase::AnyTime, "*");
        for code in [
            ErrorCode::TimeLimitExceeded,
            ErrorCode::CancelledByUser,
            ErrorCode::InternalFailure,
            ErrorCode::UnsupportedOperation,
        ] {
            assert!(!error_matches(&any, &Error::new(code, "x")), "{code:?}");
        }
    }
}

/// The vendored TCK itself: these fail (never skip) when it is missing, as the runner does.
#[cfg(test)]
mod corpus_tests {
    use super::*;
    use crate::steps::Step;

    fn load() -> Tck {
        let root = crate::default_tck_dir();
        Tck::load(&root).unwrap_or_else(|e| panic!("TCK at {}: {e}", root.display()))
    }

    fn count(cases: &[(Case, Vec<Step>)], pred: impl Fn(&Step) -> bool) -> usize {
        cases.iter().filter(|(_, s)| s.iter().any(&pred)).count()
    }

    #[test]
    fn all_220_files_expand_to_the_readme_counts() {
        let tck = load();
        assert_eq!(tck.features.len(), 220);
        let outlines = tck
            .features
            .iter()
            .flat_map(|f| &f.scenarios)
            .filter(|s| s.examples.is_some())
            .count();
        assert_eq!(outlines, 276);
        let cases = tck.cases();
        assert_eq!(cases.len(), 3897);
        assert_eq!(
            cases.iter().filter(|c| c.id.example.is_none()).count(),
            1339
        );
        let per_top = |top: &str| cases.iter().filter(|c| c.id.folders().0 == top).count();
        assert_eq!(per_top("clauses"), 1251);
        assert_eq!(per_top("expressions"), 2616);
        assert_eq!(per_top("useCases"), 30);
        let temporal = cases
            .iter()
            .filter(|c| c.id.folders() == ("expressions".into(), "temporal".into()))
            .count();
        assert_eq!(temporal, 1004);
        assert_eq!(tck.graphs.len(), 2);
    }

    #[test]
    fn every_step_of_every_case_is_understood() {
        let tck = load();
        let mut classified = Vec::new();
        for case in tck.cases() {
            let steps = case
                .steps
                .iter()
                .map(classify)
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|e| panic!("{}: {e}", case.id));
            // No placeholder survives expansion.
            assert!(!has_placeholder(&case.name), "{}: {}", case.id, case.name);
            for step in &case.steps {
                let cells = step.table.iter().flatten().flatten();
                for text in cells.chain(&step.docstring).chain([&step.text]) {
                    assert!(!has_placeholder(text), "{}: {text}", case.id);
                }
            }
            classified.push((case, steps));
        }
        // The README's breakdown of what cases check.
        assert_eq!(count(&classified, |s| matches!(s, Step::Error(_))), 695);
        assert_eq!(count(&classified, |s| matches!(s, Step::ResultEmpty)), 95);
        assert_eq!(count(&classified, |s| matches!(s, Step::Result(_))), 3140);
        assert_eq!(count(&classified, |s| matches!(s, Step::AnyGraph)), 2580);
        assert_eq!(count(&classified, |s| matches!(s, Step::EmptyGraph)), 1298);
        assert_eq!(count(&classified, |s| matches!(s, Step::NamedGraph(_))), 19);
        assert_eq!(
            count(&classified, |s| matches!(s, Step::HavingExecuted(_))),
            924
        );
        assert_eq!(count(&classified, |s| matches!(s, Step::Parameters(_))), 64);
        assert_eq!(count(&classified, |s| matches!(s, Step::Procedure(_))), 50);
        assert_eq!(
            count(&classified, |s| matches!(s, Step::ControlQuery(_))),
            33
        );
    }

    /// `<name>` with a plain identifier inside, as outline placeholders are written.
    fn has_placeholder(text: &str) -> bool {
        let mut rest = text;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            if let Some(close) = after.find('>') {
                let inner = &after[..close];
                if !inner.is_empty() && inner.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    return true;
                }
            }
            rest = after;
        }
        false
    }
}
