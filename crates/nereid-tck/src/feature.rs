//! The Gherkin subset the openCypher TCK uses, parsed by hand, and the expansion of a feature
//! into runnable cases.
//!
//! The `gherkin` crate (0.16) was tried first: it rejects `expressions/literals/Literals6.feature`,
//! so this small parser covers exactly what the vendored files use (see the TCK README):
//! `Feature:`, `Background:`, `Scenario:`, `Scenario Outline:` with one `Examples:` table,
//! tags, `#` comments (also between table rows), docstrings (`"""`, dedented by the column of
//! the opening delimiter, tabs included), tables with Gherkin cell escapes (`\|`, `\\`, `\n`),
//! CRLF line ends, and `<placeholder>` substitution in titles, step texts, docstrings and cells.
//!
//! A case is identified by file, scenario line and (for outlines) the 1-based example row.
//!
//! This is the repository's only reader of `.feature` files: the TCK run and the tests that
//! check the parser and the temporal library alone all go through it.

use std::fmt;

/// Given / When / Then; `And` and `But` take the kind of the step before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Given,
    When,
    Then,
}

/// A step as written, before it is matched against the step vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct RawStep {
    pub kind: StepKind,
    /// The text after the keyword, trimmed.
    pub text: String,
    pub line: usize,
    pub docstring: Option<String>,
    /// Rows of cells, unescaped; comment rows are dropped.
    pub table: Option<Vec<Vec<String>>>,
}

/// A `Scenario:` or `Scenario Outline:` as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioDef {
    pub line: usize,
    pub name: String,
    pub tags: Vec<String>,
    pub steps: Vec<RawStep>,
    /// `Some` for an outline: the `Examples:` table, header first.
    pub examples: Option<Vec<Vec<String>>>,
}

/// A parsed `.feature` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Path relative to the TCK root, with `/` separators, e.g. `features/clauses/match/Match1.feature`.
    pub path: String,
    pub name: String,
    pub background: Vec<RawStep>,
    pub scenarios: Vec<ScenarioDef>,
}

/// Where a case comes from: file, scenario line, example row (1-based, outlines only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId {
    pub path: String,
    pub line: usize,
    pub example: Option<usize>,
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.example {
            Some(row) => write!(f, "{}:{}:{}", self.path, self.line, row),
            None => write!(f, "{}:{}", self.path, self.line),
        }
    }
}

impl CaseId {
    /// Parses the `path:line[:row]` form used in the expected-failures file.
    pub fn parse(text: &str) -> Option<CaseId> {
        let mut parts = text.rsplitn(3, ':').collect::<Vec<_>>();
        parts.reverse();
        match parts.as_slice() {
            [path, line, row] if !path.is_empty() => {
                if let (Ok(line), Ok(row)) = (line.parse(), row.parse()) {
                    return Some(CaseId {
                        path: (*path).to_owned(),
                        line,
                        example: Some(row),
                    });
                }
                // `a:b:c` where only the last part is a number: the path holds a colon.
                let path = format!("{path}:{line}");
                Some(CaseId {
                    path,
                    line: row.parse().ok()?,
                    example: None,
                })
            }
            [path, line] if !path.is_empty() => Some(CaseId {
                path: (*path).to_owned(),
                line: line.parse().ok()?,
                example: None,
            }),
            _ => None,
        }
    }

    /// The first two folders under `features/`, e.g. (`clauses`, `match`).
    pub fn folders(&self) -> (String, String) {
        let rest = self.path.strip_prefix("features/").unwrap_or(&self.path);
        let mut parts = rest.split('/');
        let top = parts.next().unwrap_or("").to_owned();
        let second = match (parts.next(), parts.next()) {
            (Some(dir), Some(_file)) => dir.to_owned(),
            _ => String::new(),
        };
        (top, second)
    }
}

/// One runnable test case: background steps followed by the scenario's, placeholders filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: CaseId,
    pub name: String,
    pub tags: Vec<String>,
    pub steps: Vec<RawStep>,
}

/// A parse failure with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Where table rows currently go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TableTarget {
    None,
    LastStep,
    Examples,
}

struct OpenDocstring {
    indent: usize,
    start_line: usize,
    lines: Vec<String>,
}

/// Parses one feature file. `path` is stored as given (relative to the TCK root).
pub fn parse_feature(path: &str, source: &str) -> Result<Feature, ParseError> {
    let mut feature = Feature {
        path: path.to_owned(),
        name: String::new(),
        background: Vec::new(),
        scenarios: Vec::new(),
    };
    // `None` while in the feature header, `Some(None)` in the background, `Some(Some(i))` in
    // scenario `i`.
    let mut section: Option<Option<usize>> = None;
    let mut pending_tags: Vec<String> = Vec::new();
    let mut table_target = TableTarget::None;
    let mut docstring: Option<OpenDocstring> = None;
    let mut seen_feature = false;

    for (index, raw_line) in source.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };

        if let Some(doc) = docstring.as_mut() {
            if line.trim() == "\"\"\"" {
                let text = doc.lines.join("\n");
                let step = current_steps(&mut feature, section)
                    .and_then(|steps| steps.last_mut())
                    .ok_or_else(|| err("docstring without a step".into()))?;
                step.docstring = Some(text);
                docstring = None;
                table_target = TableTarget::None;
            } else {
                doc.lines.push(dedent(line, doc.indent));
            }
            continue;
        }

        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('@') {
            pending_tags.extend(trimmed.split_whitespace().map(str::to_owned));
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Feature:") {
            if seen_feature {
                return Err(err("a second Feature:".into()));
            }
            seen_feature = true;
            feature.name = rest.trim().to_owned();
            continue;
        }
        if !seen_feature {
            return Err(err(format!("text before Feature: {trimmed:?}")));
        }
        if trimmed.starts_with("Background:") {
            if section.is_some() {
                return Err(err("Background: must come before the scenarios".into()));
            }
            section = Some(None);
            table_target = TableTarget::None;
            continue;
        }
        let outline = trimmed.strip_prefix("Scenario Outline:");
        let plain = trimmed.strip_prefix("Scenario:");
        if let Some(name) = outline.or(plain) {
            feature.scenarios.push(ScenarioDef {
                line: line_no,
                name: name.trim().to_owned(),
                tags: std::mem::take(&mut pending_tags),
                steps: Vec::new(),
                examples: outline.map(|_| Vec::new()),
            });
            section = Some(Some(feature.scenarios.len() - 1));
            table_target = TableTarget::None;
            continue;
        }
        if trimmed.starts_with("Examples:") {
            let scenario = match section {
                Some(Some(i)) => &mut feature.scenarios[i],
                _ => return Err(err("Examples: outside a scenario".into())),
            };
            match &scenario.examples {
                Some(rows) if rows.is_empty() => {}
                Some(_) => return Err(err("a second Examples: block".into())),
                None => return Err(err("Examples: in a Scenario (not an outline)".into())),
            }
            table_target = TableTarget::Examples;
            continue;
        }
        if trimmed.starts_with('|') {
            let row = parse_row(trimmed).map_err(err)?;
            match table_target {
                TableTarget::Examples => {
                    if let Some(Some(i)) = section {
                        if let Some(rows) = feature.scenarios[i].examples.as_mut() {
                            rows.push(row);
                        }
                    }
                }
                TableTarget::LastStep => {
                    let step = current_steps(&mut feature, section)
                        .and_then(|steps| steps.last_mut())
                        .ok_or_else(|| err("table without a step".into()))?;
                    step.table.get_or_insert_with(Vec::new).push(row);
                }
                TableTarget::None => return Err(err("table row in an unexpected place".into())),
            }
            continue;
        }
        if trimmed == "\"\"\"" {
            let has_step = current_steps(&mut feature, section)
                .and_then(|steps| steps.last())
                .is_some_and(|s| s.docstring.is_none() && s.table.is_none());
            if !has_step || table_target != TableTarget::LastStep {
                return Err(err("docstring in an unexpected place".into()));
            }
            let indent = line.chars().take_while(|c| c.is_whitespace()).count();
            docstring = Some(OpenDocstring {
                indent,
                start_line: line_no,
                lines: Vec::new(),
            });
            continue;
        }
        if let Some((keyword, text)) = split_step(trimmed) {
            // A scenario's first `And` continues the background's last step.
            let background_kind = feature.background.last().map(|s| s.kind);
            let steps = current_steps(&mut feature, section)
                .ok_or_else(|| err("step outside a scenario".into()))?;
            let kind = match keyword {
                Some(kind) => kind,
                None => steps
                    .last()
                    .map(|s| s.kind)
                    .or(background_kind)
                    .ok_or_else(|| err("And/But as the first step".into()))?,
            };
            steps.push(RawStep {
                kind,
                text: text.to_owned(),
                line: line_no,
                docstring: None,
                table: None,
            });
            table_target = TableTarget::LastStep;
            continue;
        }
        if section.is_none() {
            // Free text after `Feature:` is its description.
            continue;
        }
        return Err(err(format!("unrecognised line {trimmed:?}")));
    }
    if let Some(doc) = docstring {
        return Err(ParseError {
            line: doc.start_line,
            message: "unterminated docstring".into(),
        });
    }
    if !seen_feature {
        return Err(ParseError {
            line: 1,
            message: "no Feature:".into(),
        });
    }
    for scenario in &feature.scenarios {
        if let Some(rows) = &scenario.examples {
            if rows.is_empty() {
                return Err(ParseError {
                    line: scenario.line,
                    message: "outline without an Examples: table".into(),
                });
            }
            if rows.iter().any(|r| r.len() != rows[0].len()) {
                return Err(ParseError {
                    line: scenario.line,
                    message: "Examples: rows differ in width".into(),
                });
            }
        }
    }
    Ok(feature)
}

fn current_steps(
    feature: &mut Feature,
    section: Option<Option<usize>>,
) -> Option<&mut Vec<RawStep>> {
    match section {
        None => None,
        Some(None) => Some(&mut feature.background),
        Some(Some(i)) => feature.scenarios.get_mut(i).map(|s| &mut s.steps),
    }
}

/// `Given x` → (Some(Given), "x"); `And x` → (None, "x").
fn split_step(line: &str) -> Option<(Option<StepKind>, &str)> {
    const KEYWORDS: [(&str, Option<StepKind>); 6] = [
        ("Given ", Some(StepKind::Given)),
        ("When ", Some(StepKind::When)),
        ("Then ", Some(StepKind::Then)),
        ("And ", None),
        ("But ", None),
        ("* ", None),
    ];
    KEYWORDS
        .iter()
        .find_map(|(kw, kind)| line.strip_prefix(kw).map(|rest| (*kind, rest.trim())))
}

/// Removes up to `indent` leading whitespace characters (Gherkin's docstring rule).
fn dedent(line: &str, indent: usize) -> String {
    let start = line
        .char_indices()
        .enumerate()
        .find(|(removed, (_, c))| *removed == indent || !c.is_whitespace())
        .map_or(line.len(), |(_, (i, _))| i);
    line[start..].to_owned()
}

/// Splits a table row into unescaped, trimmed cells. `|` alone is a row with no cells.
fn parse_row(line: &str) -> Result<Vec<String>, String> {
    let mut chars = line.chars();
    if chars.next() != Some('|') {
        return Err("a table row must start with |".into());
    }
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut closed = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                closed = false;
                match chars.next() {
                    Some('|') => cell.push('|'),
                    Some('\\') => cell.push('\\'),
                    Some('n') => cell.push('\n'),
                    Some(other) => {
                        cell.push('\\');
                        cell.push(other);
                    }
                    None => cell.push('\\'),
                }
            }
            '|' => {
                cells.push(cell.trim().to_owned());
                cell.clear();
                closed = true;
            }
            c => {
                if !c.is_whitespace() {
                    closed = false;
                }
                cell.push(c);
            }
        }
    }
    if !closed {
        return Err("table row does not end with |".into());
    }
    Ok(cells)
}

/// Replaces every `<name>` of the header with the row's value.
fn substitute(text: &str, header: &[String], row: &[String]) -> String {
    let mut out = text.to_owned();
    for (name, value) in header.iter().zip(row) {
        let placeholder = format!("<{name}>");
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, value);
        }
    }
    out
}

fn substitute_step(step: &RawStep, header: &[String], row: &[String]) -> RawStep {
    RawStep {
        kind: step.kind,
        text: substitute(&step.text, header, row),
        line: step.line,
        docstring: step.docstring.as_ref().map(|d| substitute(d, header, row)),
        table: step.table.as_ref().map(|t| {
            t.iter()
                .map(|r| r.iter().map(|c| substitute(c, header, row)).collect())
                .collect()
        }),
    }
}

impl Feature {
    /// Expands the feature into cases: one per scenario, one per example row of an outline,
    /// each starting with the background's steps.
    pub fn cases(&self) -> Vec<Case> {
        let mut out = Vec::new();
        for scenario in &self.scenarios {
            match &scenario.examples {
                None => out.push(Case {
                    id: CaseId {
                        path: self.path.clone(),
                        line: scenario.line,
                        example: None,
                    },
                    name: scenario.name.clone(),
                    tags: scenario.tags.clone(),
                    steps: self
                        .background
                        .iter()
                        .chain(&scenario.steps)
                        .cloned()
                        .collect(),
                }),
                Some(rows) => {
                    let Some((header, data)) = rows.split_first() else {
                        continue;
                    };
                    for (i, row) in data.iter().enumerate() {
                        out.push(Case {
                            id: CaseId {
                                path: self.path.clone(),
                                line: scenario.line,
                                example: Some(i + 1),
                            },
                            name: substitute(&scenario.name, header, row),
                            tags: scenario.tags.clone(),
                            steps: self
                                .background
                                .iter()
                                .chain(&scenario.steps)
                                .map(|s| substitute_step(s, header, row))
                                .collect(),
                        });
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "#\n# header comment\nFeature: Demo - things\n\n  Background:\n    Given an empty graph\n\n  @skipStyleCheck\n  Scenario Outline: [1] Outline <x>\n    And having executed:\n\t\"\"\"\n\tCREATE (:<x>)\n\t  RETURN 1\n\t\"\"\"\n    When executing query:\n      \"\"\"\n      MATCH (n) RETURN n.<x> AS v\n      \"\"\"\n    Then the result should be, in any order:\n      | v |\n      # | 'commented' |\n      | '<x>\\|y' |\n    And no side effects\n\n    Examples:\n      | x |\n      | A |\n      #| B |\n      | C |\r\n\n  Scenario: [2] plain\r\n    When executing query:\r\n      \"\"\"\r\n      RETURN '\\\\' AS a\r\n      \"\"\"\r\n    Then the result should be empty\r\n    And the side effects should be:\r\n      | +nodes | 1 |\r\n";

    #[test]
    fn parses_outline_background_docstrings_tables_and_comments() {
        let f = parse_feature("features/x/Demo.feature", SAMPLE).unwrap();
        assert_eq!(f.name, "Demo - things");
        assert_eq!(f.background.len(), 1);
        assert_eq!(f.scenarios.len(), 2);
        let outline = &f.scenarios[0];
        assert_eq!(outline.tags, vec!["@skipStyleCheck".to_owned()]);
        assert_eq!(outline.line, 9);
        assert_eq!(
            outline.examples.as_ref().unwrap(),
            &vec![vec!["x".to_owned()], vec!["A".into()], vec!["C".into()]]
        );
        assert_eq!(
            outline.steps[0].docstring.as_deref(),
            Some("CREATE (:<x>)\n  RETURN 1")
        );
        assert_eq!(outline.steps[0].kind, StepKind::Given);
        let table = outline.steps[2].table.as_ref().unwrap();
        assert_eq!(
            table,
            &vec![vec!["v".to_owned()], vec!["'<x>|y'".to_owned()]]
        );
        let plain = &f.scenarios[1];
        assert_eq!(
            plain.steps[0].docstring.as_deref(),
            Some("RETURN '\\\\' AS a")
        );
        assert_eq!(
            plain.steps[2].table.as_ref().unwrap(),
            &vec![vec!["+nodes".to_owned(), "1".into()]]
        );
    }

    #[test]
    fn outlines_expand_with_placeholders_everywhere() {
        let f = parse_feature("features/x/Demo.feature", SAMPLE).unwrap();
        let cases = f.cases();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].id.to_string(), "features/x/Demo.feature:9:1");
        assert_eq!(cases[1].id.to_string(), "features/x/Demo.feature:9:2");
        assert_eq!(cases[2].id.to_string(), "features/x/Demo.feature:31");
        assert_eq!(cases[1].name, "[1] Outline C");
        assert_eq!(cases[1].steps[0].text, "an empty graph");
        assert_eq!(
            cases[1].steps[1].docstring.as_deref(),
            Some("CREATE (:C)\n  RETURN 1")
        );
        assert_eq!(
            cases[1].steps[2].docstring.as_deref(),
            Some("MATCH (n) RETURN n.C AS v")
        );
        assert_eq!(cases[1].steps[3].table.as_ref().unwrap()[1][0], "'C|y'");
        assert_eq!(cases[2].steps.len(), 4);
    }

    #[test]
    fn cell_escapes_follow_gherkin() {
        assert_eq!(
            parse_row(r"| 'a\\\\b\'\|' | \n |").unwrap(),
            vec![r"'a\\b\'|'".to_owned(), "".to_owned()]
        );
        assert_eq!(parse_row("|").unwrap(), Vec::<String>::new());
        assert!(parse_row("| a").is_err());
    }

    #[test]
    fn case_ids_round_trip() {
        for text in ["features/a/B.feature:12", "features/a/B.feature:12:3"] {
            assert_eq!(CaseId::parse(text).unwrap().to_string(), text);
        }
        assert!(CaseId::parse("features/a/B.feature").is_none());
        let id = CaseId::parse("features/clauses/match/Match4.feature:5").unwrap();
        assert_eq!(id.folders(), ("clauses".to_owned(), "match".to_owned()));
    }

    #[test]
    fn malformed_files_are_rejected_with_a_line() {
        let e = parse_feature(
            "f",
            "Feature: x\n  Scenario: y\n    Given a\n    \"\"\"\n    oops\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
        let e = parse_feature(
            "f",
            "Feature: x\n  Scenario: y\n    Given a\n    whatever\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
    }
}
