//! The checked-in list of expected failures (`expected-failures.txt`), the verdict of a run
//! against it, and bless mode, which rewrites it.
//!
//! One case per line: `features/path/File.feature:LINE[:EXAMPLE_ROW]  reason`. `#` lines and
//! blank lines are comments. A run fails on a failure that is not listed and on a listed
//! case that passes, so the list can only shrink.

use std::collections::{BTreeMap, BTreeSet};

use crate::feature::CaseId;
use crate::runner::Outcome;

/// Listed cases and their reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedFailures {
    pub entries: BTreeMap<CaseId, String>,
}

const HEADER: &str = "\
# openCypher TCK cases that are known to fail, one per line: case id, then the reason.
# The TCK run fails on any failure not listed here and on any listed case that passes.
# Regenerate with: NEREID_TCK_BLESS=1 cargo test -p nereid-tck --test tck
# (existing reasons are kept; new entries get the first line of the failure).
";

impl ExpectedFailures {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<ExpectedFailures, String> {
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let id = CaseId::parse(id)
                .ok_or_else(|| format!("expected-failures line {}: bad case id {id:?}", i + 1))?;
            if entries
                .insert(id.clone(), reason.trim().to_owned())
                .is_some()
            {
                return Err(format!(
                    "expected-failures line {}: {id} listed twice",
                    i + 1
                ));
            }
        }
        Ok(ExpectedFailures { entries })
    }

    /// The file's text, sorted by case.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER);
        for (id, reason) in &self.entries {
            if reason.is_empty() {
                out.push_str(&format!("{id}\n"));
            } else {
                out.push_str(&format!("{id}  {reason}\n"));
            }
        }
        out
    }

    pub fn contains(&self, id: &CaseId) -> bool {
        self.entries.contains_key(id)
    }

    /// Bless: failing cases that ran are listed (keeping an existing reason, else the first
    /// line of the failure), passing ones removed. Entries for cases that did not run are
    /// kept when the run was filtered and dropped after a full run (they name no case).
    pub fn blessed(&self, outcomes: &[Outcome], full_run: bool) -> ExpectedFailures {
        let ran: BTreeSet<&CaseId> = outcomes.iter().map(|o| &o.id).collect();
        let mut entries: BTreeMap<CaseId, String> = if full_run {
            BTreeMap::new()
        } else {
            self.entries
                .iter()
                .filter(|(id, _)| !ran.contains(id))
                .map(|(id, r)| (id.clone(), r.clone()))
                .collect()
        };
        for outcome in outcomes {
            if let Some(reason) = outcome.short_reason() {
                let reason = self
                    .entries
                    .get(&outcome.id)
                    .filter(|r| !r.is_empty())
                    .cloned()
                    .unwrap_or_else(|| single_line(reason));
                entries.insert(outcome.id.clone(), reason);
            }
        }
        ExpectedFailures { entries }
    }
}

fn single_line(reason: &str) -> String {
    let line: String = reason
        .replace(['\r', '\n', '\t'], " ")
        .chars()
        .take(200)
        .collect();
    line.trim().to_owned()
}

/// How a run compares with the list.
#[derive(Debug, Default)]
pub struct Verdict<'a> {
    /// Failed and not listed.
    pub new_failures: Vec<&'a Outcome>,
    /// Listed and passed.
    pub unexpected_passes: Vec<&'a Outcome>,
    /// Listed but no such case exists (only judged on a full run).
    pub unknown_entries: Vec<CaseId>,
}

impl Verdict<'_> {
    pub fn ok(&self) -> bool {
        self.new_failures.is_empty()
            && self.unexpected_passes.is_empty()
            && self.unknown_entries.is_empty()
    }
}

/// Compares the outcomes with the list. `full_run` says whether every case ran (no filter).
pub fn verdict<'a>(
    outcomes: &'a [Outcome],
    expected: &ExpectedFailures,
    full_run: bool,
) -> Verdict<'a> {
    let mut v = Verdict::default();
    for outcome in outcomes {
        match (outcome.passed(), expected.contains(&outcome.id)) {
            (false, false) => v.new_failures.push(outcome),
            (true, true) => v.unexpected_passes.push(outcome),
            _ => {}
        }
    }
    if full_run {
        let ran: BTreeSet<&CaseId> = outcomes.iter().map(|o| &o.id).collect();
        v.unknown_entries = expected
            .entries
            .keys()
            .filter(|id| !ran.contains(id))
            .cloned()
            .collect();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(id: &str, result: Result<(), &str>) -> Outcome {
        Outcome {
            id: CaseId::parse(id).unwrap(),
            name: String::new(),
            elapsed: Duration::ZERO,
            result: result.map_err(str::to_owned),
        }
    }

    const FILE: &str =
        "# comment\n\nfeatures/a/A.feature:3  known bug\nfeatures/a/A.feature:9:2\tother reason\n";

    #[test]
    fn parse_and_render_round_trip() {
        let list = ExpectedFailures::parse(FILE).unwrap();
        assert_eq!(list.entries.len(), 2);
        assert_eq!(
            list.entries[&CaseId::parse("features/a/A.feature:9:2").unwrap()],
            "other reason"
        );
        assert_eq!(ExpectedFailures::parse(&list.render()).unwrap(), list);
        assert!(ExpectedFailures::parse("nonsense reason").is_err());
        assert!(ExpectedFailures::parse("features/a:1 x\nfeatures/a:1 y").is_err());
    }

    #[test]
    fn new_failures_and_unexpected_passes_fail_the_run() {
        let list = ExpectedFailures::parse(FILE).unwrap();
        let outcomes = vec![
            outcome("features/a/A.feature:3", Err("still broken")),
            outcome("features/a/A.feature:9:2", Ok(())),
            outcome("features/a/A.feature:12", Err("new bug\ndetail")),
            outcome("features/a/A.feature:15", Ok(())),
        ];
        let v = verdict(&outcomes, &list, true);
        assert_eq!(v.new_failures.len(), 1);
        assert_eq!(v.new_failures[0].id.line, 12);
        assert_eq!(v.unexpected_passes.len(), 1);
        assert_eq!(v.unexpected_passes[0].id.example, Some(2));
        assert!(v.unknown_entries.is_empty());
        assert!(!v.ok());

        let matching = vec![
            outcome("features/a/A.feature:3", Err("x")),
            outcome("features/a/A.feature:9:2", Err("y")),
        ];
        assert!(verdict(&matching, &list, true).ok());
        // A filtered run does not judge the cases it skipped; a full run flags stale ones.
        let partial = vec![outcome("features/a/A.feature:3", Err("x"))];
        assert!(verdict(&partial, &list, false).ok());
        assert_eq!(verdict(&partial, &list, true).unknown_entries.len(), 1);
    }

    #[test]
    fn bless_keeps_reasons_adds_first_lines_and_drops_passes() {
        let list = ExpectedFailures::parse(FILE).unwrap();
        let outcomes = vec![
            outcome("features/a/A.feature:3", Err("different text now")),
            outcome("features/a/A.feature:9:2", Ok(())),
            outcome("features/a/A.feature:12", Err("new bug\ndetail")),
        ];
        let blessed = list.blessed(&outcomes, true);
        let text = blessed.render();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            vec![
                "features/a/A.feature:3  known bug",
                "features/a/A.feature:12  new bug"
            ]
        );
        // A filtered bless keeps entries of cases that did not run.
        let partial = list.blessed(&outcomes[2..], false);
        assert_eq!(partial.entries.len(), 3);
    }
}
