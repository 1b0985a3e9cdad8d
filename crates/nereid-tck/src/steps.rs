//! The TCK's step vocabulary: the 16 step patterns of the README, matched and with their
//! arguments parsed (tables into values, signatures into procedure declarations), so a case
//! either becomes a list of [`Step`]s or fails before anything runs.

use nereid_engine::TableProcedure;

use crate::compare::Ordering;
use crate::feature::{RawStep, StepKind};
use crate::notation::{parse_value, TckValue};
use crate::side_effects::SideEffects;

/// The phase an expected error names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedPhase {
    CompileTime,
    Runtime,
    /// `any time`: a wildcard.
    AnyTime,
}

/// `Then a <type> should be raised at <phase>: <detail>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedError {
    /// `Error` is the wildcard.
    pub error_type: String,
    pub phase: ExpectedPhase,
    /// `*` is the wildcard.
    pub detail: String,
}

/// An expected result table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedTable {
    pub ordering: Ordering,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<TckValue>>,
}

/// One step, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    EmptyGraph,
    AnyGraph,
    NamedGraph(String),
    HavingExecuted(String),
    Parameters(Vec<(String, TckValue)>),
    Procedure(ProcedureDecl),
    ExecuteQuery(String),
    ControlQuery(String),
    Result(ExpectedTable),
    ResultEmpty,
    Error(ExpectedError),
    NoSideEffects,
    SideEffects(SideEffects),
}

/// A procedure declared by `there exists a procedure`, values already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureDecl {
    pub name: String,
    pub inputs: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub rows: Vec<Vec<TckValue>>,
}

impl ProcedureDecl {
    /// The engine's form; fails if a cell is a graph element.
    pub fn to_engine(&self) -> Result<TableProcedure, String> {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(TckValue::to_value)
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TableProcedure {
            name: self.name.clone(),
            inputs: self.inputs.clone(),
            outputs: self.outputs.clone(),
            rows,
        })
    }
}

fn docstring(step: &RawStep) -> Result<String, String> {
    step.docstring
        .clone()
        .ok_or_else(|| format!("line {}: step needs a docstring", step.line))
}

fn table(step: &RawStep) -> Result<&Vec<Vec<String>>, String> {
    step.table
        .as_ref()
        .ok_or_else(|| format!("line {}: step needs a table", step.line))
}

fn parse_cell(cell: &str, line: usize) -> Result<TckValue, String> {
    parse_value(cell).map_err(|e| format!("line {line}: bad value: {e}"))
}

fn expected_table(step: &RawStep, ordering: Ordering) -> Result<Step, String> {
    let rows = table(step)?;
    let Some((header, data)) = rows.split_first() else {
        return Err(format!("line {}: result table without a header", step.line));
    };
    let rows = data
        .iter()
        .map(|row| {
            if row.len() != header.len() {
                return Err(format!(
                    "line {}: row width differs from the header",
                    step.line
                ));
            }
            row.iter().map(|c| parse_cell(c, step.line)).collect()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Step::Result(ExpectedTable {
        ordering,
        columns: header.clone(),
        rows,
    }))
}

/// `name :: TYPE, name :: TYPE` (possibly empty).
fn parse_fields(text: &str) -> Result<Vec<(String, String)>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|field| {
            let (name, ty) = field
                .split_once("::")
                .ok_or_else(|| format!("bad procedure field {field:?}"))?;
            Ok((name.trim().to_owned(), ty.trim().to_owned()))
        })
        .collect()
}

/// `test.my.proc(a :: INTEGER?) :: (b :: STRING?)` plus its table.
fn procedure(signature: &str, step: &RawStep) -> Result<ProcedureDecl, String> {
    let bad = || format!("line {}: bad procedure signature {signature:?}", step.line);
    let (name, rest) = signature.split_once('(').ok_or_else(bad)?;
    let (inputs, rest) = rest.split_once(')').ok_or_else(bad)?;
    let rest = rest.trim().strip_prefix("::").ok_or_else(bad)?.trim();
    let outputs = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(bad)?;
    let inputs = parse_fields(inputs)?;
    let outputs = parse_fields(outputs)?;
    let rows = table(step)?;
    let (header, data) = match rows.split_first() {
        Some((header, data)) => (header.as_slice(), data),
        None => (&[][..], &[][..]),
    };
    let declared: Vec<&str> = inputs
        .iter()
        .chain(&outputs)
        .map(|(n, _)| n.as_str())
        .collect();
    if header
        .iter()
        .map(String::as_str)
        .ne(declared.iter().copied())
    {
        return Err(format!(
            "line {}: procedure table header {header:?} does not list {declared:?}",
            step.line
        ));
    }
    let rows = data
        .iter()
        .map(|row| {
            if row.len() != header.len() {
                return Err(format!(
                    "line {}: row width differs from the header",
                    step.line
                ));
            }
            row.iter().map(|c| parse_cell(c, step.line)).collect()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProcedureDecl {
        name: name.trim().to_owned(),
        inputs,
        outputs,
        rows,
    })
}

/// `a TypeError should be raised at runtime: InvalidArgumentType`
fn expected_error(text: &str) -> Option<ExpectedError> {
    let rest = text
        .strip_prefix("an ")
        .or_else(|| text.strip_prefix("a "))?;
    let (error_type, rest) = rest.split_once(" should be raised at ")?;
    let (phase, detail) = rest.split_once(':')?;
    let phase = match phase.trim() {
        "compile time" => ExpectedPhase::CompileTime,
        "runtime" => ExpectedPhase::Runtime,
        "any time" => ExpectedPhase::AnyTime,
        _ => return None,
    };
    let detail = detail.trim();
    if error_type.trim().is_empty() || detail.is_empty() {
        return None;
    }
    Some(ExpectedError {
        error_type: error_type.trim().to_owned(),
        phase,
        detail: detail.to_owned(),
    })
}

/// Matches a step against the vocabulary.
pub fn classify(step: &RawStep) -> Result<Step, String> {
    let text = step.text.as_str();
    let unknown = || format!("line {}: unknown step {:?} {text:?}", step.line, step.kind);
    let ordering = |ordered_rows, unordered_lists| Ordering {
        ordered_rows,
        unordered_lists,
    };
    match step.kind {
        StepKind::Given => Ok(match text {
            "an empty graph" => Step::EmptyGraph,
            "any graph" => Step::AnyGraph,
            "having executed:" => Step::HavingExecuted(docstring(step)?),
            "parameters are:" => {
                let rows = table(step)?;
                let params = rows
                    .iter()
                    .map(|row| match row.as_slice() {
                        [name, value] => Ok((name.clone(), parse_cell(value, step.line)?)),
                        _ => Err(format!("line {}: a parameter row needs 2 cells", step.line)),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Step::Parameters(params)
            }
            _ => {
                if let Some(name) = text
                    .strip_prefix("the ")
                    .and_then(|t| t.strip_suffix(" graph"))
                {
                    Step::NamedGraph(name.to_owned())
                } else if let Some(sig) = text.strip_prefix("there exists a procedure ") {
                    let sig = sig.strip_suffix(':').ok_or_else(unknown)?.trim();
                    Step::Procedure(procedure(sig, step)?)
                } else {
                    return Err(unknown());
                }
            }
        }),
        StepKind::When => Ok(match text {
            "executing query:" => Step::ExecuteQuery(docstring(step)?),
            "executing control query:" => Step::ControlQuery(docstring(step)?),
            _ => return Err(unknown()),
        }),
        StepKind::Then => match text {
            "the result should be, in any order:" => expected_table(step, ordering(false, false)),
            "the result should be, in order:" => expected_table(step, ordering(true, false)),
            "the result should be (ignoring element order for lists):" => {
                expected_table(step, ordering(false, true))
            }
            "the result should be, in order (ignoring element order for lists):" => {
                expected_table(step, ordering(true, true))
            }
            "the result should be empty" => Ok(Step::ResultEmpty),
            "no side effects" => Ok(Step::NoSideEffects),
            "the side effects should be:" => Ok(Step::SideEffects(
                SideEffects::from_table(table(step)?)
                    .map_err(|e| format!("line {}: {e}", step.line))?,
            )),
            _ => expected_error(text).map(Step::Error).ok_or_else(unknown),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: StepKind, text: &str, doc: Option<&str>, table: Option<&[&[&str]]>) -> RawStep {
        RawStep {
            kind,
            text: text.to_owned(),
            line: 1,
            docstring: doc.map(str::to_owned),
            table: table.map(|t| {
                t.iter()
                    .map(|r| r.iter().map(|c| c.to_string()).collect())
                    .collect()
            }),
        }
    }

    #[test]
    fn graphs_and_queries() {
        assert_eq!(
            classify(&raw(StepKind::Given, "an empty graph", None, None)),
            Ok(Step::EmptyGraph)
        );
        assert_eq!(
            classify(&raw(StepKind::Given, "any graph", None, None)),
            Ok(Step::AnyGraph)
        );
        assert_eq!(
            classify(&raw(StepKind::Given, "the binary-tree-1 graph", None, None)),
            Ok(Step::NamedGraph("binary-tree-1".into()))
        );
        assert_eq!(
            classify(&raw(
                StepKind::When,
                "executing query:",
                Some("RETURN 1"),
                None
            )),
            Ok(Step::ExecuteQuery("RETURN 1".into()))
        );
        assert!(classify(&raw(StepKind::When, "executing query:", None, None)).is_err());
        assert!(classify(&raw(
            StepKind::When,
            "executing something:",
            Some("x"),
            None
        ))
        .is_err());
    }

    #[test]
    fn errors_with_both_articles_and_wildcards() {
        let e = classify(&raw(
            StepKind::Then,
            "an ArgumentError should be raised at runtime: NumberOutOfRange",
            None,
            None,
        ))
        .unwrap();
        assert_eq!(
            e,
            Step::Error(ExpectedError {
                error_type: "ArgumentError".into(),
                phase: ExpectedPhase::Runtime,
                detail: "NumberOutOfRange".into()
            })
        );
        let Ok(Step::Error(e)) = classify(&raw(
            StepKind::Then,
            "a Error should be raised at any time: *",
            None,
            None,
        )) else {
            panic!("not an error step")
        };
        assert_eq!(e.phase, ExpectedPhase::AnyTime);
        assert!(classify(&raw(
            StepKind::Then,
            "a X should be raised at lunch: Y",
            None,
            None
        ))
        .is_err());
    }

    #[test]
    fn procedures_with_and_without_columns() {
        let step = raw(
            StepKind::Given,
            "there exists a procedure test.my.proc(name :: STRING?, id :: INTEGER?) :: (city :: STRING?) :",
            None,
            Some(&[&["name", "id", "city"], &["'a'", "1", "'x'"], &["null", "2", "null"]]),
        );
        let Ok(Step::Procedure(p)) = classify(&step) else {
            panic!("not a procedure")
        };
        assert_eq!(p.name, "test.my.proc");
        assert_eq!(
            p.inputs,
            vec![
                ("name".into(), "STRING?".into()),
                ("id".into(), "INTEGER?".into())
            ]
        );
        assert_eq!(p.outputs, vec![("city".into(), "STRING?".into())]);
        assert_eq!(p.rows.len(), 2);
        let engine = p.to_engine().unwrap();
        assert_eq!(engine.rows[0][1], nereid_value::Value::Int(1));

        let void = raw(
            StepKind::Given,
            "there exists a procedure test.doNothing() :: ():",
            None,
            Some(&[&[]]),
        );
        let Ok(Step::Procedure(p)) = classify(&void) else {
            panic!("not a procedure")
        };
        assert!(p.inputs.is_empty() && p.outputs.is_empty() && p.rows.is_empty());

        let wrong_header = raw(
            StepKind::Given,
            "there exists a procedure test.p(a :: INTEGER?) :: (b :: INTEGER?):",
            None,
            Some(&[&["b", "a"]]),
        );
        assert!(classify(&wrong_header).is_err());
    }

    #[test]
    fn result_tables_and_parameters_parse_their_values() {
        let step = raw(
            StepKind::Then,
            "the result should be, in order (ignoring element order for lists):",
            None,
            Some(&[&["a", "count(*)"], &["[1, 2]", "2"]]),
        );
        let Ok(Step::Result(t)) = classify(&step) else {
            panic!("not a result")
        };
        assert!(t.ordering.ordered_rows && t.ordering.unordered_lists);
        assert_eq!(t.columns, vec!["a".to_owned(), "count(*)".to_owned()]);
        assert_eq!(t.rows[0][1], TckValue::Int(2));
        let bad = raw(
            StepKind::Then,
            "the result should be, in any order:",
            None,
            Some(&[&["a"], &["[1"]]),
        );
        assert!(classify(&bad).is_err());
        let params = raw(
            StepKind::Given,
            "parameters are:",
            None,
            Some(&[&["x", "'a'"], &["y", "{k: 1}"]]),
        );
        let Ok(Step::Parameters(p)) = classify(&params) else {
            panic!("not parameters")
        };
        assert_eq!(p[0], ("x".into(), TckValue::String("a".into())));
    }
}
