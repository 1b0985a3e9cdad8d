//! The run's printed summary: passed and failed per top-level and second-level folder, the
//! total, and the grouped failure reasons that tell what to fix first.

use std::collections::BTreeMap;

use crate::runner::Outcome;

/// Passed and failed counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
}

impl Tally {
    fn add(&mut self, passed: bool) {
        if passed {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

/// Counts per folder: top-level (`clauses`) and second-level (`clauses/match`).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub top: BTreeMap<String, Tally>,
    pub second: BTreeMap<String, Tally>,
    pub total: Tally,
}

impl Summary {
    pub fn of(outcomes: &[Outcome]) -> Summary {
        let mut s = Summary::default();
        for o in outcomes {
            let (top, second) = o.id.folders();
            let passed = o.passed();
            s.top.entry(top.clone()).or_default().add(passed);
            s.second
                .entry(format!("{top}/{second}"))
                .or_default()
                .add(passed);
            s.total.add(passed);
        }
        s
    }

    /// A fixed-width table: each top-level folder followed by its second-level folders.
    pub fn table(&self) -> String {
        let mut out = format!("{:<44} {:>7} {:>7}\n", "folder", "passed", "failed");
        for (top, tally) in &self.top {
            out.push_str(&format!(
                "{top:<44} {:>7} {:>7}\n",
                tally.passed, tally.failed
            ));
            let prefix = format!("{top}/");
            for (second, tally) in self.second.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                out.push_str(&format!(
                    "  {second:<42} {:>7} {:>7}\n",
                    tally.passed, tally.failed
                ));
            }
        }
        out.push_str(&format!(
            "{:<44} {:>7} {:>7}\n",
            "total", self.total.passed, self.total.failed
        ));
        out
    }
}

/// Groups failure reasons by their leading words (values and names stripped), most
/// frequent first, so the biggest causes stand out.
pub fn reason_groups(outcomes: &[Outcome]) -> Vec<(String, usize)> {
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for reason in outcomes.iter().filter_map(Outcome::short_reason) {
        *groups.entry(reason_key(reason)).or_default() += 1;
    }
    let mut list: Vec<(String, usize)> = groups.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list
}

/// `expected X, got SyntaxError/UnexpectedSyntax at compile time: line 3 …` →
/// `expected X, got SyntaxError/UnexpectedSyntax at compile time`.
fn reason_key(reason: &str) -> String {
    let cut = reason
        .find(": ")
        .and_then(|first| {
            // Keep the category (`unexpected error: Type/Detail at phase`), drop the message.
            reason[first + 2..]
                .find(": ")
                .map(|second| first + 2 + second)
        })
        .unwrap_or(reason.len());
    let key = &reason[..cut];
    if key.starts_with("wrong rows")
        || key.starts_with("wrong row count")
        || key.starts_with("wrong row ")
    {
        return "wrong result rows".into();
    }
    if key.starts_with("wrong columns") {
        return "wrong column names".into();
    }
    if key.starts_with("slow:") {
        return "slow (over the time limit)".into();
    }
    if key.starts_with("wrong side effects") {
        return "wrong side effects".into();
    }
    key.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::CaseId;
    use std::time::Duration;

    fn outcome(id: &str, result: Result<(), &str>) -> Outcome {
        Outcome {
            id: CaseId::parse(id).unwrap(),
            name: String::new(),
            elapsed: Duration::ZERO,
            result: result.map_err(str::to_owned),
        }
    }

    #[test]
    fn tallies_per_folder_and_total() {
        let outcomes = vec![
            outcome("features/clauses/match/Match1.feature:3", Ok(())),
            outcome("features/clauses/match/Match1.feature:9", Err("x")),
            outcome("features/clauses/create/Create1.feature:3", Ok(())),
            outcome("features/expressions/list/List1.feature:5:1", Err("y")),
        ];
        let s = Summary::of(&outcomes);
        assert_eq!(
            s.total,
            Tally {
                passed: 2,
                failed: 2
            }
        );
        assert_eq!(
            s.top["clauses"],
            Tally {
                passed: 2,
                failed: 1
            }
        );
        assert_eq!(
            s.second["clauses/match"],
            Tally {
                passed: 1,
                failed: 1
            }
        );
        assert_eq!(
            s.second["expressions/list"],
            Tally {
                passed: 0,
                failed: 1
            }
        );
        let table = s.table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[1].starts_with("clauses "));
        assert!(lines[2].starts_with("  clauses/create"));
        assert!(lines.last().unwrap().starts_with("total"));
    }

    #[test]
    fn reasons_group_by_category_without_messages() {
        let outcomes = vec![
            outcome(
                "features/a/A.feature:1",
                Err("unexpected error: SyntaxError/UnexpectedSyntax at compile time: at line 1"),
            ),
            outcome(
                "features/a/A.feature:2",
                Err("unexpected error: SyntaxError/UnexpectedSyntax at compile time: at line 7"),
            ),
            outcome(
                "features/a/A.feature:3",
                Err("wrong rows: 1 of 2 differ\n  missing | 1 |"),
            ),
            outcome("features/a/A.feature:4", Ok(())),
        ];
        let groups = reason_groups(&outcomes);
        assert_eq!(
            groups,
            vec![
                (
                    "unexpected error: SyntaxError/UnexpectedSyntax at compile time".to_owned(),
                    2
                ),
                ("wrong result rows".to_owned(), 1)
            ]
        );
    }
}
