//! The plan-validity check: run after the planner and after every optimizer rule, so a
//! rule that breaks a plan is caught at the rule, not as a wrong answer.
//!
//! A plan is valid when every operator reads only variables its input makes visible, binds
//! only variables that are not visible yet (`into` expansions bind only the relationship),
//! every nested plan starts from an `Argument` whose variables its parent supplies, and
//! union branches agree on their columns.

use std::collections::BTreeSet;

use super::logical::Op;
use super::vars::Var;
use super::{LogicalPlan, VarTable};

/// Checks the whole statement: the root and every subquery.
pub fn validate(plan: &LogicalPlan) -> Result<(), String> {
    check(&plan.root, &BTreeSet::new(), &plan.vars)?;
    for (i, s) in plan.subqueries.iter().enumerate() {
        let args = match leaf(&s.plan) {
            Op::Argument { vars } => vars.iter().copied().collect(),
            _ => BTreeSet::new(),
        };
        let out = check(&s.plan, &args, &plan.vars).map_err(|e| format!("subquery {i}: {e}"))?;
        if let Some(o) = s.output {
            if !out.contains(&o) {
                return Err(format!("subquery {i} does not produce its output {o}"));
            }
        }
    }
    Ok(())
}

/// The leftmost leaf (where rows enter the pipeline).
pub fn leaf(op: &Op) -> &Op {
    match op.input() {
        Some(i) => leaf(i),
        None => op,
    }
}

fn name(vars: &VarTable, v: Var) -> String {
    format!("`{}` ({v})", vars.display(v))
}

/// Checks `op` given the variables its `Argument` leaves may hold; returns the variables
/// visible in its output.
fn check(op: &Op, outer: &BTreeSet<Var>, vars: &VarTable) -> Result<BTreeSet<Var>, String> {
    let input_vars = match op {
        Op::Argument { vars: args } => {
            if let Some(v) = args.iter().find(|v| !outer.contains(v)) {
                return Err(format!(
                    "Argument holds {} which its parent does not supply",
                    name(vars, *v)
                ));
            }
            return Ok(args.iter().copied().collect());
        }
        Op::Union { branches, .. } => {
            let mut columns: Option<Vec<String>> = None;
            for b in branches {
                check(b, outer, vars)?;
                let Op::Produce { columns: cols, .. } = b else {
                    return Err("a union branch does not end in ProduceResults".into());
                };
                let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
                match &columns {
                    None => columns = Some(names),
                    Some(c) if *c != names => {
                        return Err("union branches have different columns".into())
                    }
                    _ => {}
                }
            }
            return Ok(op.output_vars());
        }
        Op::Index { .. } => return Ok(BTreeSet::new()),
        other => match other.input() {
            Some(i) => check(i, outer, vars)?,
            None => BTreeSet::new(),
        },
    };
    let ctx = |msg: String| format!("{}: {msg}", op.name());
    // Nested plans see the input row.
    match op {
        Op::Optional {
            inner, vars: nulls, ..
        } => {
            let out = check(inner, &input_vars, vars).map_err(&ctx)?;
            if let Some(v) = nulls.iter().find(|v| !out.contains(v)) {
                return Err(ctx(format!(
                    "the nested plan does not bind {}",
                    name(vars, *v)
                )));
            }
        }
        Op::Merge { pattern, .. } => {
            check(pattern, &input_vars, vars).map_err(&ctx)?;
        }
        Op::Apply {
            inner, vars: cols, ..
        } => {
            let out = check(inner, &input_vars, vars).map_err(&ctx)?;
            if let Some(v) = cols.iter().find(|v| !out.contains(v)) {
                return Err(ctx(format!(
                    "the subquery does not return {}",
                    name(vars, *v)
                )));
            }
        }
        _ => {}
    }
    // CREATE and MERGE also read what they bind themselves (ON CREATE / ON MATCH items,
    // properties of a relationship between nodes created by the same pattern).
    let own: Vec<Var> = match op {
        Op::Create { .. } | Op::Merge { .. } => op.defines(),
        _ => Vec::new(),
    };
    for v in op.uses() {
        if !input_vars.contains(&v) && !own.contains(&v) {
            return Err(ctx(format!("reads {} which is not bound", name(vars, v))));
        }
    }
    let defined = op.defines();
    let mut seen = BTreeSet::new();
    for v in &defined {
        if !seen.insert(*v) {
            return Err(ctx(format!("binds {} twice", name(vars, *v))));
        }
        // Produce names visible variables; an aggregation may group by a visible variable
        // as itself (a subquery's outer variables).
        let identity_key = matches!(op, Op::Aggregate { keys, .. }
            if keys.iter().any(|(k, e)| k == v && *e == crate::plan::Expr::Var(*v)));
        let rebinds = input_vars.contains(v) && !matches!(op, Op::Produce { .. }) && !identity_key;
        if rebinds {
            return Err(ctx(format!(
                "binds {} which is already bound",
                name(vars, *v)
            )));
        }
    }
    // What `Op::output_vars` computes, from the input's set already at hand (asking the
    // operator would walk the whole plan below it again: quadratic in the plan's depth).
    Ok(match op {
        Op::Aggregate { .. } | Op::RelAggregate { .. } | Op::Produce { .. } => {
            defined.into_iter().collect()
        }
        _ => {
            let mut out = input_vars;
            out.extend(defined);
            out
        }
    })
}
