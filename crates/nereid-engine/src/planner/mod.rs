//! The planner: a [`BoundStatement`] becomes a [`LogicalPlan`] — the straightforward plan,
//! in the order the query is written, that the optimizer then improves.
//!
//! Clauses become operators over the plan so far. A MATCH is lowered pattern part by
//! pattern part: a scan of the part's first node (or the first node already bound), then
//! expansions rightwards and then leftwards in written order, label and property
//! constraints as filters right after the operator that binds them, the WHERE as one
//! filter at the end. An expansion towards a node that is already bound expands to a fresh
//! variable and filters for equality (the `ExpandInto` rule makes that an expand-into).
//! This plan is correct on its own; every optimizer rule can be switched off.

pub mod cardinality;
mod pattern;

use nereid_common::{Error, Result};

use crate::bind::{
    BoundClause, BoundProjection, BoundQuery, BoundStatement, BoundSubquery, ProjectionBody,
    SubqueryBody,
};
use crate::plan::{Expr, LogicalPlan, Op, SortKey, Subquery, Var, VarTable};

/// What the planner knows of the data when it picks where a pattern starts.
pub trait Estimates {
    /// Nodes carrying `label` (0 for a label the store does not know).
    fn label_count(&self, label: &str) -> u64;
    fn node_count(&self) -> u64;
    /// Relationships of type `ty` (0 for an unknown type).
    fn type_count(&self, ty: &str) -> u64;
    fn rel_count(&self) -> u64;
    /// Relationships of type `ty` whose start (`Dir::Out`) or end (`Dir::In`) node
    /// carries `label`.
    fn type_end_label_count(&self, ty: &str, dir: nereid_storage::Dir, label: &str) -> u64;
    /// Nodes carrying `label` with a value of `key`, and the distinct values among them, where
    /// a property index on (`label`, `key`) keeps these counts; `None` where none does.
    fn key_values(&self, label: &str, key: &str) -> Option<(u64, u64)> {
        let _ = (label, key);
        None
    }
    /// Relationships of type `ty` from a node carrying `start` to one carrying `end`, where
    /// the store counts them; `None` where it does not.
    fn label_pair_count(&self, ty: &str, start: &str, end: &str) -> Option<u64> {
        let _ = (ty, start, end);
        None
    }
    /// Nodes by their number of relationships of type `ty` going `dir` (`Out` or `In`), in
    /// powers of two, where the store counts them; `None` where it does not.
    fn degree_histogram(
        &self,
        ty: &str,
        dir: nereid_storage::Dir,
    ) -> Option<nereid_storage::DegreeHistogram> {
        let _ = (ty, dir);
        None
    }
}

/// No statistics: every node looks alike, patterns start where they are written.
#[cfg(test)]
pub struct NoEstimates;

#[cfg(test)]
impl Estimates for NoEstimates {
    fn label_count(&self, _: &str) -> u64 {
        1
    }
    fn node_count(&self) -> u64 {
        1
    }
    fn type_count(&self, _: &str) -> u64 {
        1
    }
    fn rel_count(&self) -> u64 {
        1
    }
    fn type_end_label_count(&self, _: &str, _: nereid_storage::Dir, _: &str) -> u64 {
        0
    }
}

/// Plans a bound statement.
pub fn plan(stmt: BoundStatement, estimates: &dyn Estimates) -> Result<LogicalPlan> {
    let BoundStatement {
        query,
        vars,
        subqueries,
        params,
        columns,
    } = stmt;
    let mut p = Planner {
        vars,
        estimates,
        subqueries: &subqueries,
    };
    let root = p.query(&query, &[])?;
    let mut planned = Vec::with_capacity(subqueries.len());
    for s in &subqueries {
        let arg = Op::Argument {
            vars: s.args.clone(),
        };
        planned.push(match &s.body {
            SubqueryBody::Pattern {
                parts,
                predicate,
                output,
            } => {
                let mut op = p.pattern(arg, parts, predicate.clone(), &s.args)?;
                let out = output.as_ref().map(|(v, e)| {
                    op = Op::Project {
                        input: Box::new(std::mem::replace(&mut op, Op::Argument { vars: vec![] })),
                        items: vec![(*v, e.clone())],
                    };
                    *v
                });
                Subquery {
                    plan: op,
                    output: out,
                }
            }
            SubqueryBody::Query { query, output } => Subquery {
                plan: p.query(query, &s.args)?,
                output: *output,
            },
        });
    }
    Ok(LogicalPlan {
        root,
        subqueries: planned,
        vars: p.vars,
        columns,
        params,
    })
}

pub(crate) struct Planner<'e> {
    pub vars: VarTable,
    pub estimates: &'e dyn Estimates,
    /// The statement's subqueries as bound (what a `COUNT { … }` in a predicate counts).
    pub subqueries: &'e [BoundSubquery],
}

fn boxed(op: Op) -> Box<Op> {
    Box::new(op)
}

impl Planner<'_> {
    /// Plans a query whose rows start from an `Argument` holding `outer` (variables that
    /// stay visible, and constant, throughout: an expression subquery's outer row).
    fn query(&mut self, q: &BoundQuery, outer: &[Var]) -> Result<Op> {
        self.query_from(q, outer, outer)
    }

    /// Plans a query whose rows start from an `Argument` holding `args`, of which
    /// `constant` stay visible throughout.
    fn query_from(&mut self, q: &BoundQuery, args: &[Var], constant: &[Var]) -> Result<Op> {
        let outer = constant;
        let mut branches = Vec::with_capacity(q.branches.len());
        for b in &q.branches {
            let mut op = Op::Argument {
                vars: args.to_vec(),
            };
            for c in &b.clauses {
                op = self.clause(op, c, outer)?;
            }
            branches.push(Op::Produce {
                input: boxed(op),
                columns: b.columns.clone(),
            });
        }
        if branches.len() == 1 {
            return branches
                .pop()
                .ok_or_else(|| Error::internal("a query without branches"));
        }
        Ok(Op::Union {
            branches,
            distinct: q.distinct,
        })
    }

    fn clause(&mut self, op: Op, c: &BoundClause, outer: &[Var]) -> Result<Op> {
        Ok(match c {
            BoundClause::Match(m) => {
                let visible: Vec<Var> = op.output_vars().into_iter().collect();
                if m.optional {
                    let inner = self.pattern(
                        Op::Argument {
                            vars: visible.clone(),
                        },
                        &m.parts,
                        m.predicate.clone(),
                        &visible,
                    )?;
                    Op::Optional {
                        input: boxed(op),
                        inner: boxed(inner),
                        vars: m.new_vars.clone(),
                    }
                } else {
                    self.pattern(op, &m.parts, m.predicate.clone(), &visible)?
                }
            }
            BoundClause::Unwind { expr, var } => Op::Unwind {
                input: boxed(op),
                expr: expr.clone(),
                var: *var,
            },
            BoundClause::Projection(p) => self.projection(op, p, outer),
            BoundClause::Create(parts) => Op::Create {
                input: boxed(op),
                parts: parts.clone(),
            },
            BoundClause::Merge(m) => {
                let visible: Vec<Var> = op.output_vars().into_iter().collect();
                let pattern = self.pattern(
                    Op::Argument {
                        vars: visible.clone(),
                    },
                    std::slice::from_ref(&m.part),
                    None,
                    &visible,
                )?;
                Op::Merge {
                    input: boxed(op),
                    pattern: boxed(pattern),
                    create: m.create.clone(),
                    on_create: m.on_create.clone(),
                    on_match: m.on_match.clone(),
                }
            }
            BoundClause::Set(items) => Op::Set {
                input: boxed(op),
                items: items.clone(),
            },
            BoundClause::Delete { exprs, detach } => Op::Delete {
                input: boxed(op),
                exprs: exprs.clone(),
                detach: *detach,
            },
            BoundClause::Call(c) => {
                let call = Op::Call {
                    input: boxed(op),
                    procedure: c.procedure.clone(),
                    args: c.args.clone(),
                    yields: c.yields.clone(),
                    void: c.void,
                };
                match &c.where_ {
                    Some(w) => Op::Filter {
                        input: boxed(call),
                        predicate: w.clone(),
                    },
                    None => call,
                }
            }
            BoundClause::CallSubquery(c) => {
                // Its variables are its own: an aggregation in it groups by nothing outer.
                let inner = self.query_from(&c.query, &c.imports, &[])?;
                Op::Apply {
                    input: boxed(op),
                    inner: boxed(inner),
                    vars: c.columns.iter().map(|(_, v)| *v).collect(),
                }
            }
            BoundClause::Index { create, label, key } => Op::Index {
                create: *create,
                label: label.clone(),
                key: key.clone(),
            },
        })
    }

    /// `WITH` / `RETURN`: projection or aggregation, then DISTINCT, ORDER BY, SKIP, LIMIT
    /// and the WHERE of a WITH.
    fn projection(&mut self, input: Op, p: &BoundProjection, outer: &[Var]) -> Op {
        let mut op = match &p.body {
            ProjectionBody::Plain(items) => Op::Project {
                input: boxed(input),
                items: items.clone(),
            },
            ProjectionBody::Aggregate { keys, aggs, post } => {
                // In a subquery the outer row's variables stay visible: they are constant
                // within one run, so grouping by them changes nothing.
                let visible = input.output_vars();
                let mut keys = keys.clone();
                for v in outer.iter().filter(|v| visible.contains(v)) {
                    keys.push((*v, Expr::Var(*v)));
                }
                let agg = Op::Aggregate {
                    input: boxed(input),
                    keys,
                    aggs: aggs.clone(),
                };
                if post.is_empty() {
                    agg
                } else {
                    Op::Project {
                        input: boxed(agg),
                        items: post.clone(),
                    }
                }
            }
        };
        if p.distinct {
            op = Op::Distinct {
                input: boxed(op),
                vars: p.columns.iter().map(|(_, v)| *v).collect(),
            };
        }
        if !p.order_by.is_empty() {
            op = Op::Sort {
                input: boxed(op),
                keys: p.order_by.iter().map(SortKey::clone).collect(),
            };
        }
        if let Some(s) = &p.skip {
            op = Op::Skip {
                input: boxed(op),
                count: s.clone(),
            };
        }
        if let Some(l) = &p.limit {
            op = Op::Limit {
                input: boxed(op),
                count: l.clone(),
            };
        }
        if let Some(w) = &p.where_ {
            op = Op::Filter {
                input: boxed(op),
                predicate: w.clone(),
            };
        }
        op
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::display::plan_to_string;
    use crate::procedures::Procedures;

    struct Counts;

    impl Estimates for Counts {
        fn label_count(&self, label: &str) -> u64 {
            match label {
                "Big" => 1000,
                "Small" => 10,
                _ => 0,
            }
        }
        fn node_count(&self) -> u64 {
            5000
        }
        fn type_count(&self, _: &str) -> u64 {
            0
        }
        fn rel_count(&self) -> u64 {
            0
        }
        fn type_end_label_count(&self, _: &str, _: nereid_storage::Dir, _: &str) -> u64 {
            0
        }
    }

    fn planned(q: &str, e: &dyn Estimates) -> String {
        let statement = nereid_cypher::parse(q).unwrap();
        let bound = crate::bind::bind(q, &statement.query, &Procedures::default()).unwrap();
        plan_to_string(&plan(bound, e).unwrap())
    }

    /// The innermost scan of a plan (the last line naming one).
    fn first_scan(plan: &str) -> String {
        plan.lines()
            .rfind(|l| l.contains("Scan"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    #[test]
    fn a_pattern_starts_at_its_most_selective_node() {
        let q = "MATCH (a:Big)-[:R]->(b:Small)<-[:R]-(c) RETURN a, b, c";
        assert_eq!(
            first_scan(&planned(q, &Counts)),
            "NodeByLabelScan (b:Small)"
        );
        // Without statistics it starts where it is written.
        assert_eq!(
            first_scan(&planned(q, &NoEstimates)),
            "NodeByLabelScan (a:Big)"
        );
        // Property equalities can outweigh a smaller label; an id beats everything.
        let q = "MATCH (a:Big {k: 1, j: 2, m: 3})-[:R]->(b:Small) RETURN a";
        assert!(first_scan(&planned(q, &Counts)).contains("(a:Big)"));
        let q = "MATCH (a:Small)-[:R]->(b {`~id`: 'x'}) RETURN a";
        assert!(first_scan(&planned(q, &Counts)).contains("AllNodesScan"));
    }

    /// The benchmark's shape: 2,000 companies, 100,000 persons, 1,000 cities; 85,000
    /// WORKS_AT and 100,000 LIVES_IN relationships.
    struct Social;

    impl Estimates for Social {
        fn label_count(&self, label: &str) -> u64 {
            match label {
                "Company" => 2_000,
                "Person" => 100_000,
                "City" => 1_000,
                _ => 0,
            }
        }
        fn node_count(&self) -> u64 {
            103_000
        }
        fn type_count(&self, ty: &str) -> u64 {
            match ty {
                "WORKS_AT" => 85_000,
                "LIVES_IN" => 100_000,
                _ => 0,
            }
        }
        fn rel_count(&self) -> u64 {
            185_000
        }
        fn type_end_label_count(&self, ty: &str, dir: nereid_storage::Dir, label: &str) -> u64 {
            use nereid_storage::Dir;
            match (ty, dir, label) {
                ("WORKS_AT", Dir::Out, "Person") | ("WORKS_AT", Dir::In, "Company") => 85_000,
                ("LIVES_IN", Dir::Out, "Person") | ("LIVES_IN", Dir::In, "City") => 100_000,
                _ => 0,
            }
        }
    }

    #[test]
    fn a_one_hop_pattern_over_a_whole_type_scans_its_relationships() {
        let scan = |q: &str| planned(q, &Social).contains("RelationshipTypeScan");
        assert!(scan(
            "MATCH (p:Person)-[:LIVES_IN]->(c:City) RETURN c.name, count(*)"
        ));
        assert!(scan("MATCH (c:City)<-[r:LIVES_IN]-(p) RETURN count(r)"));
        // A seek makes expanding cheaper; a label not every relationship has, an
        // undirected or variable-length step, or a second hop: expand instead.
        assert!(!scan(
            "MATCH (p:Person {id: 5})-[:LIVES_IN]->(c:City) RETURN c"
        ));
        assert!(!scan("MATCH (p:Company)-[:LIVES_IN]->(c:City) RETURN c"));
        assert!(!scan("MATCH (p:Person)-[:LIVES_IN]-(c:City) RETURN c"));
        assert!(!scan(
            "MATCH (p:Person)-[:LIVES_IN*1..2]->(c:City) RETURN c"
        ));
        assert!(!scan(
            "MATCH (c:Company)<-[:WORKS_AT]-(p:Person)-[:LIVES_IN]->(x:City) RETURN c"
        ));
    }

    #[test]
    fn a_pattern_starts_where_the_whole_chain_costs_least() {
        // Cost from Company: 2k + 85k (its employees) + 85k (their cities); from City:
        // 1k + 100k + 85k; from Person: 100k + 100k + 85k.
        let q = "MATCH (c:Company)<-[:WORKS_AT]-(p:Person)-[:LIVES_IN]->(city:City) RETURN c";
        assert_eq!(
            first_scan(&planned(q, &Social)),
            "NodeByLabelScan (c:Company)"
        );
        // A range on persons that an index can seek: 30k persons, then 30k + 25.5k rows.
        let q = "MATCH (c:Company)<-[:WORKS_AT]-(p:Person)-[:LIVES_IN]->(city:City) \
                 WHERE p.age > 60 RETURN c";
        assert_eq!(
            first_scan(&planned(q, &Social)),
            "NodeByLabelScan (p:Person)"
        );
        // A predicate that cannot seek still costs the whole scan.
        let q = "MATCH (c:Company)<-[:WORKS_AT]-(p:Person)-[:LIVES_IN]->(city:City) \
                 WHERE p.age % 7 = 1 RETURN c";
        assert_eq!(
            first_scan(&planned(q, &Social)),
            "NodeByLabelScan (c:Company)"
        );
    }

    /// A chain whose types mostly join other labels: 1,000,000 `T` relationships, of
    /// which the 1,000 leaving `A` nodes all end at `B` nodes; 1,000 `U` from `B` to `C`.
    /// Indexes count the distinct values of `P.city` (10) and `P.email` (all different).
    struct Ends;

    impl Estimates for Ends {
        fn label_count(&self, label: &str) -> u64 {
            match label {
                "A" | "B" | "C" => 1_000,
                "P" => 100_000,
                _ => 0,
            }
        }
        fn node_count(&self) -> u64 {
            1_000_000
        }
        fn type_count(&self, ty: &str) -> u64 {
            match ty {
                "T" => 1_000_000,
                "U" => 1_000,
                _ => 0,
            }
        }
        fn rel_count(&self) -> u64 {
            1_001_000
        }
        fn type_end_label_count(&self, ty: &str, dir: nereid_storage::Dir, label: &str) -> u64 {
            use nereid_storage::Dir;
            match (ty, dir, label) {
                ("T", Dir::Out, "A") | ("T", Dir::In, "B") => 1_000,
                ("U", Dir::Out, "B") | ("U", Dir::In, "C") => 1_000,
                _ => 0,
            }
        }
        fn key_values(&self, label: &str, key: &str) -> Option<(u64, u64)> {
            match (label, key) {
                ("P", "city") => Some((100_000, 10)),
                ("P", "email") => Some((100_000, 100_000)),
                _ => None,
            }
        }
    }

    /// The innermost seek or scan of a plan: where it starts.
    fn start(plan: &str) -> String {
        plan.lines()
            .rfind(|l| l.contains("Scan") || l.contains("Seek"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    #[test]
    fn an_equality_on_a_key_with_more_distinct_values_is_the_better_start() {
        let q = "MATCH (a:P {city: 'x'})-[:R]->(b:P {email: 'y'}) RETURN a";
        assert!(
            start(&planned(q, &Ends)).contains("(b:P)"),
            "{}",
            planned(q, &Ends)
        );
        // Without the counts both keep a tenth: it starts where it is written.
        assert!(start(&planned(q, &NoEstimates)).contains("(a:P)"));
        // The same through WHERE, and an IN list of many values of the rarer key.
        let q = "MATCH (a:P)-[:R]->(b:P) WHERE a.city = 'x' AND b.email = 'y' RETURN a";
        assert!(start(&planned(q, &Ends)).contains("(b:P)"));
        let q = "MATCH (a:P)-[:R]->(b:P) WHERE a.email IN [1, 2, 3] AND b.city = 'y' RETURN a";
        assert!(start(&planned(q, &Ends)).contains("(a:P)"));
    }

    #[test]
    fn the_labels_at_each_end_of_a_type_weigh_in_the_order_of_a_chain() {
        // From `c` (written first) the second step fans out to T's 1,000 relationships per
        // `B` node; from `a`, T's counts by end label say one relationship per `A` node,
        // so starting there is cheaper. Average degrees alone would start at `c`.
        let q = "MATCH (c:C {k: 1})<-[:U]-(b:B)<-[:T]-(a:A {k: 1}) RETURN a";
        let plan = planned(q, &Ends);
        assert!(start(&plan).contains("(a:A)"), "{plan}");
    }

    /// 10,000 `P` nodes joined by 100,000 `F` relationships: 9,900 nodes follow 4 to 7
    /// others, 100 follow 512 to 1,023 (their out-degree histogram); every node is followed.
    struct Skewed;

    impl Estimates for Skewed {
        fn label_count(&self, label: &str) -> u64 {
            if label == "P" {
                10_000
            } else {
                0
            }
        }
        fn node_count(&self) -> u64 {
            10_000
        }
        fn type_count(&self, ty: &str) -> u64 {
            if ty == "F" {
                100_000
            } else {
                0
            }
        }
        fn rel_count(&self) -> u64 {
            100_000
        }
        fn type_end_label_count(&self, ty: &str, _: nereid_storage::Dir, label: &str) -> u64 {
            self.type_count(ty).min(self.label_count(label) * 10)
        }
        fn degree_histogram(
            &self,
            ty: &str,
            dir: nereid_storage::Dir,
        ) -> Option<nereid_storage::DegreeHistogram> {
            let mut h = nereid_storage::DegreeHistogram::default();
            match (ty, dir) {
                ("F", nereid_storage::Dir::Out) => {
                    h.0[2] = 9_900;
                    h.0[9] = 100;
                }
                ("F", nereid_storage::Dir::In) => h.0[3] = 10_000,
                _ => {}
            }
            Some(h)
        }
    }

    #[test]
    fn a_degree_predicate_the_histogram_finds_rare_makes_its_node_the_start() {
        // About 83 of the 10,000 follow more than 600: from `b`, 10,000 scanned then ~830
        // rows; from `a`, 10,000 then half of 100,000 expanded. Were the degree predicate
        // to keep half, as one the model cannot read, the two would tie, and `a` is
        // written first.
        for q in [
            "MATCH (a:P)-[:F]->(b:P) WHERE a.k % 7 = 1 AND COUNT { (b)-[:F]->() } > 600 RETURN a",
            "MATCH (a:P)-[:F]->(b:P) WHERE a.k % 7 = 1 AND 600 < size([(b)-[:F]->() | 1]) RETURN a",
        ] {
            let plan = planned(q, &Skewed);
            assert!(start(&plan).contains("(b:P)"), "{q}\n{plan}");
        }
        // Nearly every node follows more than 2: no cheaper start than the written one. No
        // node is followed by 16 or more (in-degrees are 8 to 15): `b` again.
        let plan = planned(
            "MATCH (a:P)-[:F]->(b:P) WHERE COUNT { (b)-[:F]->() } > 2 RETURN a",
            &Skewed,
        );
        assert!(start(&plan).contains("(a:P)"), "{plan}");
        let plan = planned(
            "MATCH (a:P)-[:F]->(b:P) WHERE COUNT { (b)<-[:F]-() } >= 16 RETURN a",
            &Skewed,
        );
        assert!(start(&plan).contains("(b:P)"), "{plan}");
        // No node is without followers: a pattern predicate saying so makes `b` the start,
        // where a predicate the model cannot read would keep half and tie.
        let plan = planned(
            "MATCH (a:P)-[:F]->(b:P) WHERE a.k % 7 = 1 AND NOT (b)<-[:F]-() RETURN a",
            &Skewed,
        );
        assert!(start(&plan).contains("(b:P)"), "{plan}");
        // A count compared with something else keeps half, as any predicate the model
        // cannot read: enough to start at `b`, as the histogram says not to for `> 2`.
        let plan = planned(
            "MATCH (a:P)-[:F]->(b:P) WHERE COUNT { (b)-[:F]->() } > b.k RETURN a",
            &Skewed,
        );
        assert!(start(&plan).contains("(b:P)"), "{plan}");
    }
}
