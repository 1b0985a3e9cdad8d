//! Plans as text: one line per operator, children indented below their parent, with the
//! operator's arguments in a Cypher-like notation. Optimizer tests compare plan shapes
//! with it, and EXPLAIN builds on it.

use std::fmt::Write;

use nereid_cypher::ast::{BinaryOp, Quantifier, UnaryOp};
use nereid_storage::Dir;

use super::expr::{AggCall, Expr, MapItem};
use super::logical::{Op, PropSource, Seek, SetItem, SortKey};
use super::vars::{Var, VarTable};
use super::LogicalPlan;

/// The whole plan, subqueries after the root.
pub fn plan_to_string(plan: &LogicalPlan) -> String {
    let mut out = String::new();
    write_op(&plan.root, &plan.vars, 0, &mut out);
    for (i, s) in plan.subqueries.iter().enumerate() {
        let _ = writeln!(out, "subquery {i}:");
        write_op(&s.plan, &plan.vars, 1, &mut out);
    }
    out
}

/// One operator tree.
pub fn op_to_string(op: &Op, vars: &VarTable) -> String {
    let mut out = String::new();
    write_op(op, vars, 0, &mut out);
    out
}

fn write_op(op: &Op, vars: &VarTable, depth: usize, out: &mut String) {
    let _ = writeln!(
        out,
        "{}{} {}",
        "  ".repeat(depth),
        op.name(),
        details(op, vars)
    );
    for c in op.children() {
        write_op(c, vars, depth + 1, out);
    }
}

fn v(vars: &VarTable, var: Var) -> String {
    vars.display(var)
}

fn list(vars: &VarTable, vs: &[Var]) -> String {
    vs.iter()
        .map(|x| v(vars, *x))
        .collect::<Vec<_>>()
        .join(", ")
}

fn labels(ls: &[String]) -> String {
    ls.iter().map(|l| format!(":{l}")).collect()
}

fn types(ts: &[String]) -> String {
    if ts.is_empty() {
        String::new()
    } else {
        format!(":{}", ts.join("|"))
    }
}

fn arrow(dir: Dir, inner: &str) -> String {
    match dir {
        Dir::Out => format!("-[{inner}]->"),
        Dir::In => format!("<-[{inner}]-"),
        Dir::Both => format!("-[{inner}]-"),
    }
}

fn range(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) => format!("*{min}..{m}"),
        None => format!("*{min}.."),
    }
}

fn sort_keys(keys: &[SortKey], vars: &VarTable) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "{}{}",
                expr_to_string(&k.expr, vars),
                if k.descending { " DESC" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `key AS k, …, func(args) AS a, …`
fn aggregation(keys: &[(Var, Expr)], aggs: &[(Var, AggCall)], vars: &VarTable) -> String {
    let e = |x: &Expr| expr_to_string(x, vars);
    let mut parts: Vec<String> = keys
        .iter()
        .map(|(var, x)| format!("{} AS {}", e(x), v(vars, *var)))
        .collect();
    for (var, a) in aggs {
        let args: Vec<String> = a.args.iter().map(e).collect();
        let args = if a.func == super::AggFunc::CountStar {
            "*".to_owned()
        } else {
            args.join(", ")
        };
        parts.push(format!(
            "{}({}{args}) AS {}",
            a.func.name(),
            if a.distinct { "DISTINCT " } else { "" },
            v(vars, *var)
        ));
    }
    parts.join(", ")
}

/// The operator's arguments, as EXPLAIN shows them.
pub fn details(op: &Op, vars: &VarTable) -> String {
    let e = |x: &Expr| expr_to_string(x, vars);
    match op {
        Op::Argument { vars: args } => list(vars, args),
        Op::NodeScan { var, labels: l, .. } => format!("({}{})", v(vars, *var), labels(l)),
        Op::RelScan {
            rel,
            start,
            end,
            rel_type,
            start_labels,
            end_labels,
            ..
        } => format!(
            "({}{})-[{}:{}]->({}{})",
            v(vars, *start),
            labels(start_labels),
            v(vars, *rel),
            rel_type,
            v(vars, *end),
            labels(end_labels)
        ),
        Op::NodeSeek {
            var,
            labels: l,
            key,
            seek,
            ..
        } => {
            let s = match seek {
                Seek::Eq(x) => format!("{key} = {}", e(x)),
                Seek::In(x) => format!("{key} IN {}", e(x)),
                Seek::Prefix(x) => format!("{key} STARTS WITH {}", e(x)),
                Seek::Range { lower, upper } => {
                    let mut parts = Vec::new();
                    if let Some(b) = lower {
                        parts.push(format!(
                            "{key} {} {}",
                            if b.inclusive { ">=" } else { ">" },
                            e(&b.value)
                        ));
                    }
                    if let Some(b) = upper {
                        parts.push(format!(
                            "{key} {} {}",
                            if b.inclusive { "<=" } else { "<" },
                            e(&b.value)
                        ));
                    }
                    parts.join(" AND ")
                }
            };
            format!("({}{}) WHERE {s}", v(vars, *var), labels(l))
        }
        Op::Expand {
            from,
            rel,
            to,
            dir,
            types: t,
            to_labels,
            unique,
            ..
        } => format!(
            "({}){}({}{}){}",
            v(vars, *from),
            arrow(*dir, &format!("{}{}", v(vars, *rel), types(t))),
            v(vars, *to),
            labels(to_labels),
            uniq(vars, unique)
        ),
        Op::VarExpand {
            from,
            rel,
            to,
            dir,
            types: t,
            to_labels,
            min,
            max,
            unique,
            rel_props,
            ..
        } => format!(
            "({}){}({}{}){}{}",
            v(vars, *from),
            arrow(
                *dir,
                &format!("{}{}{}", v(vars, *rel), types(t), range(*min, *max))
            ),
            v(vars, *to),
            labels(to_labels),
            props(rel_props, vars),
            uniq(vars, unique)
        ),
        Op::ShortestPath {
            from,
            rel,
            to,
            dir,
            types: t,
            min,
            max,
            ..
        } => format!(
            "({}){}({})",
            v(vars, *from),
            arrow(
                *dir,
                &format!("{}{}{}", v(vars, *rel), types(t), range(*min, *max))
            ),
            v(vars, *to)
        ),
        Op::Intersect {
            to,
            to_labels,
            legs,
            unique,
            ..
        } => {
            let legs: Vec<String> = legs
                .iter()
                .map(|l| {
                    format!(
                        "({}){}",
                        v(vars, l.from),
                        arrow(l.dir, &format!("{}{}", v(vars, l.rel), types(&l.types)))
                    )
                })
                .collect();
            format!(
                "{} ({}{}){}",
                legs.join(" & "),
                v(vars, *to),
                labels(to_labels),
                uniq(vars, unique)
            )
        }
        Op::Degree {
            node,
            var,
            dir,
            types: t,
            other_labels,
            ..
        } => format!(
            "count(({}){}({})) AS {}",
            v(vars, *node),
            arrow(*dir, &types(t)),
            labels(other_labels),
            v(vars, *var)
        ),
        Op::Filter { predicate, .. } => e(predicate),
        Op::Project { items, .. } => items
            .iter()
            .map(|(var, x)| format!("{} AS {}", e(x), v(vars, *var)))
            .collect::<Vec<_>>()
            .join(", "),
        Op::Unwind { expr, var, .. } => format!("{} AS {}", e(expr), v(vars, *var)),
        Op::RelAggregate {
            rel,
            start,
            end,
            rel_type,
            start_labels,
            end_labels,
            keys,
            aggs,
            ..
        } => format!(
            "({}{})-[{}:{}]->({}{}) {}",
            v(vars, *start),
            labels(start_labels),
            v(vars, *rel),
            rel_type,
            v(vars, *end),
            labels(end_labels),
            aggregation(keys, aggs, vars)
        ),
        Op::Aggregate { keys, aggs, .. } => aggregation(keys, aggs, vars),
        Op::Distinct { vars: d, .. } => list(vars, d),
        Op::Sort { keys, .. } => sort_keys(keys, vars),
        Op::TopK {
            keys, skip, limit, ..
        } => {
            let skip = skip
                .as_ref()
                .map(|s| format!(" SKIP {}", e(s)))
                .unwrap_or_default();
            format!("{}{skip} LIMIT {}", sort_keys(keys, vars), e(limit))
        }
        Op::Skip { count, .. } | Op::Limit { count, .. } => e(count),
        Op::Optional { vars: n, .. } | Op::Apply { vars: n, .. } => list(vars, n),
        Op::Union { distinct, .. } => {
            if *distinct {
                "DISTINCT".into()
            } else {
                "ALL".into()
            }
        }
        Op::Create { parts, .. } => parts
            .iter()
            .map(|p| {
                let nodes: Vec<String> = p
                    .nodes
                    .iter()
                    .filter(|n| !n.existing)
                    .map(|n| {
                        format!(
                            "({}{}{})",
                            v(vars, n.var),
                            labels(&n.labels),
                            source(&n.props, vars)
                        )
                    })
                    .collect();
                let rels: Vec<String> = p
                    .rels
                    .iter()
                    .map(|r| {
                        format!(
                            "({})-[{}:{}{}]->({})",
                            v(vars, r.start),
                            v(vars, r.var),
                            r.rel_type,
                            source(&r.props, vars),
                            v(vars, r.end)
                        )
                    })
                    .collect();
                nodes.into_iter().chain(rels).collect::<Vec<_>>().join(", ")
            })
            .collect::<Vec<_>>()
            .join(", "),
        Op::Merge { .. } => String::new(),
        Op::Set { items, .. } => items
            .iter()
            .map(|i| set_item(i, vars))
            .collect::<Vec<_>>()
            .join(", "),
        Op::Delete { exprs, detach, .. } => format!(
            "{}{}",
            if *detach { "DETACH " } else { "" },
            exprs.iter().map(e).collect::<Vec<_>>().join(", ")
        ),
        Op::Call {
            procedure, args, ..
        } => format!(
            "{procedure}({})",
            args.iter().map(e).collect::<Vec<_>>().join(", ")
        ),
        Op::Index { create, label, key } => format!(
            "{} :{label}({key})",
            if *create { "CREATE" } else { "DROP" }
        ),
        Op::Produce { columns, .. } => columns
            .iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn uniq(vars: &VarTable, unique: &[Var]) -> String {
    if unique.is_empty() {
        String::new()
    } else {
        format!(" unique from {}", list(vars, unique))
    }
}

fn props(p: &[(String, Expr)], vars: &VarTable) -> String {
    if p.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = p
        .iter()
        .map(|(k, x)| format!("{k}: {}", expr_to_string(x, vars)))
        .collect();
    format!(" {{{}}}", inner.join(", "))
}

fn source(p: &PropSource, vars: &VarTable) -> String {
    match p {
        PropSource::None => String::new(),
        PropSource::Entries(e) => props(e, vars),
        PropSource::Map(x) => format!(" {}", expr_to_string(x, vars)),
    }
}

fn set_item(i: &SetItem, vars: &VarTable) -> String {
    let e = |x: &Expr| expr_to_string(x, vars);
    match i {
        SetItem::Property { target, key, value } => format!("{}.{key} = {}", e(target), e(value)),
        SetItem::Replace { target, value } => format!("{} = {}", e(target), e(value)),
        SetItem::MergeMap { target, value } => format!("{} += {}", e(target), e(value)),
        SetItem::AddLabels { target, labels: l } => format!("{}{}", e(target), labels(l)),
        SetItem::RemoveLabels { target, labels: l } => format!("REMOVE {}{}", e(target), labels(l)),
        SetItem::RemoveProperty { target, key } => format!("REMOVE {}.{key}", e(target)),
    }
}

fn binop(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or => "OR",
        BinaryOp::Xor => "XOR",
        BinaryOp::And => "AND",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Pow => "^",
        BinaryOp::Eq => "=",
        BinaryOp::Ne => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::Le => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::Ge => ">=",
        BinaryOp::In => "IN",
        BinaryOp::StartsWith => "STARTS WITH",
        BinaryOp::EndsWith => "ENDS WITH",
        BinaryOp::Contains => "CONTAINS",
        BinaryOp::RegexMatch => "=~",
    }
}

/// An expression in a Cypher-like notation (variables by name, hidden ones by role).
pub fn expr_to_string(e: &Expr, vars: &VarTable) -> String {
    let s = |x: &Expr| expr_to_string(x, vars);
    match e {
        Expr::Lit(l) => match &l.0 {
            nereid_value::Value::String(x) => format!("{x:?}"),
            other => other.to_string(),
        },
        Expr::Param(p) => format!("${p}"),
        Expr::Var(x) => v(vars, *x),
        Expr::List(items) => format!("[{}]", items.iter().map(s).collect::<Vec<_>>().join(", ")),
        Expr::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, x)| format!("{k}: {}", s(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Prop(b, k) => format!("{}.{k}", s(b)),
        Expr::Index(a, b) => format!("{}[{}]", s(a), s(b)),
        Expr::Slice(a, b, c) => format!(
            "{}[{}..{}]",
            s(a),
            b.as_deref().map(s).unwrap_or_default(),
            c.as_deref().map(s).unwrap_or_default()
        ),
        Expr::Unary(UnaryOp::Not, x) => format!("NOT {}", s(x)),
        Expr::Unary(UnaryOp::Neg, x) => format!("-{}", s(x)),
        Expr::Unary(UnaryOp::Plus, x) => format!("+{}", s(x)),
        Expr::And(a, b) => format!("({} AND {})", s(a), s(b)),
        Expr::Or(a, b) => format!("({} OR {})", s(a), s(b)),
        Expr::Xor(a, b) => format!("({} XOR {})", s(a), s(b)),
        Expr::Binary(op, a, b) => format!("{} {} {}", s(a), binop(*op), s(b)),
        Expr::Comparison(a, rest) => {
            let mut out = s(a);
            for (op, x) in rest {
                let _ = write!(out, " {} {}", binop(*op), s(x));
            }
            out
        }
        Expr::IsNull(x) => format!("{} IS NULL", s(x)),
        Expr::IsNotNull(x) => format!("{} IS NOT NULL", s(x)),
        Expr::HasLabels(x, l) => format!("{}{}", s(x), labels(l)),
        Expr::Scalar(f, args) => format!(
            "{}({})",
            f.0.name,
            args.iter().map(s).collect::<Vec<_>>().join(", ")
        ),
        Expr::Graph(f, args) => format!(
            "{}({})",
            f.name(),
            args.iter().map(s).collect::<Vec<_>>().join(", ")
        ),
        Expr::Case {
            operand,
            whens,
            else_,
        } => {
            let mut out = "CASE".to_owned();
            if let Some(o) = operand {
                let _ = write!(out, " {}", s(o));
            }
            for (w, t) in whens {
                let _ = write!(out, " WHEN {} THEN {}", s(w), s(t));
            }
            if let Some(x) = else_ {
                let _ = write!(out, " ELSE {}", s(x));
            }
            out + " END"
        }
        Expr::ListComp {
            var,
            list,
            where_,
            map,
        } => format!(
            "[{} IN {}{}{}]",
            v(vars, *var),
            s(list),
            where_
                .as_deref()
                .map(|w| format!(" WHERE {}", s(w)))
                .unwrap_or_default(),
            map.as_deref()
                .map(|m| format!(" | {}", s(m)))
                .unwrap_or_default()
        ),
        Expr::Quantified {
            quantifier,
            var,
            list,
            where_,
        } => format!(
            "{}({} IN {}{})",
            match quantifier {
                Quantifier::All => "all",
                Quantifier::Any => "any",
                Quantifier::None => "none",
                Quantifier::Single => "single",
            },
            v(vars, *var),
            s(list),
            where_
                .as_deref()
                .map(|w| format!(" WHERE {}", s(w)))
                .unwrap_or_default()
        ),
        Expr::Reduce {
            acc,
            init,
            var,
            list,
            expr,
        } => format!(
            "reduce({} = {}, {} IN {} | {})",
            v(vars, *acc),
            s(init),
            v(vars, *var),
            s(list),
            s(expr)
        ),
        Expr::MapProjection(b, items) => format!(
            "{}{{{}}}",
            s(b),
            items
                .iter()
                .map(|i| match i {
                    MapItem::Property(k) => format!(".{k}"),
                    MapItem::Entry(k, x) => format!("{k}: {}", s(x)),
                    MapItem::AllProperties => ".*".to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Path { start, hops } => {
            let mut out = format!("path({}", v(vars, *start));
            for h in hops {
                let _ = write!(out, ", {}, {}", v(vars, h.rel), v(vars, h.node));
            }
            out + ")"
        }
        Expr::Exists { sub, .. } => format!("exists(subquery {})", sub.0),
        Expr::Count { sub, .. } => format!("count(subquery {})", sub.0),
        Expr::Collect { sub, .. } => format!("collect(subquery {})", sub.0),
    }
}
