//! The logical plan: a tree of [`Op`]s over variables.
//!
//! Every operator except [`Op::Argument`] has an input and produces, for each input row,
//! zero or more output rows that carry the input's variables plus the ones the operator
//! binds (Memgraph's and Neo4j's pipeline model: `NodeScan` over an input is a nested loop,
//! so `MATCH (a), (b)` is `NodeScan b` over `NodeScan a` over `Argument`). Operators that
//! run a nested plan per input row (`Optional`, `Merge`, subquery expressions) start that
//! plan at an `Argument` leaf, which produces the outer row.
//!
//! Aggregation, `Produce` and `Union` end the scope of the variables below them: only
//! their own outputs are visible above. Every other operator passes its input's variables
//! through. The binder guarantees that expressions only name visible variables;
//! [`super::validate`] checks it after every optimizer rule.

use std::collections::BTreeSet;

use nereid_storage::Dir;

use super::expr::{AggCall, Expr, PathHop};
use super::vars::Var;

/// One key of a sort.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

/// One end of a range seek.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RangeBound {
    pub value: Expr,
    pub inclusive: bool,
}

/// How a [`Op::NodeSeek`] finds nodes by a property value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seek {
    /// `key = value`
    Eq(Expr),
    /// `key IN list`: one equality probe per distinct element.
    In(Expr),
    /// `lower < key < upper`, either end optional (not both absent).
    Range {
        lower: Option<RangeBound>,
        upper: Option<RangeBound>,
    },
    /// `key STARTS WITH prefix`
    Prefix(Expr),
}

impl Seek {
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Seek::Eq(e) | Seek::In(e) | Seek::Prefix(e) => vec![e],
            Seek::Range { lower, upper } => lower.iter().chain(upper).map(|b| &b.value).collect(),
        }
    }
}

/// The key under which `NodeSeek` looks nodes up by their Neptune id.
pub const ID_KEY: &str = "~id";

/// One relationship of a multiway intersection: `(from)-[rel:types]-(to)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Leg {
    pub from: Var,
    pub rel: Var,
    /// Direction from `from` towards the intersected node.
    pub dir: Dir,
    pub types: Vec<String>,
}

/// Where the properties of a created element come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropSource {
    None,
    /// A map literal: entries evaluated one by one.
    Entries(Vec<(String, Expr)>),
    /// Any other expression, which must give a map (a parameter, usually).
    Map(Expr),
}

impl PropSource {
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            PropSource::None => Vec::new(),
            PropSource::Entries(e) => e.iter().map(|(_, x)| x).collect(),
            PropSource::Map(e) => vec![e],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateNode {
    pub var: Var,
    /// Bound before (or earlier in the same clause): reuse, do not create.
    pub existing: bool,
    pub labels: Vec<String>,
    pub props: PropSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateRel {
    pub var: Var,
    pub start: Var,
    pub end: Var,
    pub rel_type: String,
    pub props: PropSource,
}

/// One pattern part to create: nodes first, then relationships, then the path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreatePart {
    pub nodes: Vec<CreateNode>,
    pub rels: Vec<CreateRel>,
    /// `p = (…)`: the path variable and how to assemble it.
    pub path: Option<(Var, Var, Vec<PathHop>)>,
}

/// A change of `SET` or `REMOVE` (and of MERGE's `ON CREATE`/`ON MATCH`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetItem {
    Property {
        target: Expr,
        key: String,
        value: Expr,
    },
    /// `n = map`
    Replace {
        target: Expr,
        value: Expr,
    },
    /// `n += map`
    MergeMap {
        target: Expr,
        value: Expr,
    },
    AddLabels {
        target: Expr,
        labels: Vec<String>,
    },
    RemoveLabels {
        target: Expr,
        labels: Vec<String>,
    },
    RemoveProperty {
        target: Expr,
        key: String,
    },
}

impl SetItem {
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            SetItem::Property { target, value, .. }
            | SetItem::Replace { target, value }
            | SetItem::MergeMap { target, value } => vec![target, value],
            SetItem::AddLabels { target, .. }
            | SetItem::RemoveLabels { target, .. }
            | SetItem::RemoveProperty { target, .. } => vec![target],
        }
    }
}

/// A logical operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// One row holding `vars`: the outer row of a nested plan, or the empty row at the top.
    Argument {
        vars: Vec<Var>,
    },
    /// Binds `var` to every node carrying all of `labels` (every node when empty).
    NodeScan {
        input: Box<Op>,
        var: Var,
        labels: Vec<String>,
    },
    /// Binds `rel` to every relationship of type `rel_type` and `start`/`end` to its
    /// nodes, which must carry `start_labels`/`end_labels`: the relationship vector in id
    /// order, for a one-hop pattern whose ends the statistics say every such relationship
    /// joins anyway (no node-by-node expansion).
    RelScan {
        input: Box<Op>,
        rel: Var,
        start: Var,
        end: Var,
        rel_type: String,
        start_labels: Vec<String>,
        end_labels: Vec<String>,
    },
    /// Binds `var` to the nodes carrying `labels` whose property `key` matches `seek`,
    /// found through the store's property index (`key` [`ID_KEY`]: by Neptune id).
    NodeSeek {
        input: Box<Op>,
        var: Var,
        labels: Vec<String>,
        key: String,
        seek: Seek,
    },
    /// `(from)-[rel:types]->(to)` for a bound `from`: binds `rel` and `to` (or, `into`,
    /// only the relationships that end at the already bound `to`). `to` must carry
    /// `to_labels`; `rel` must differ from every relationship held by `unique`
    /// (relationship uniqueness within one MATCH).
    Expand {
        input: Box<Op>,
        from: Var,
        rel: Var,
        to: Var,
        dir: Dir,
        types: Vec<String>,
        to_labels: Vec<String>,
        into: bool,
        unique: Vec<Var>,
    },
    /// `(from)-[rel:types*min..max]->(to)`: binds `rel` to the list of relationships of each
    /// relationship-unique path (none repeated, none in `unique`) and `to` to its end.
    /// Every relationship must have the properties `rel_props`. With `reversed` the pattern
    /// was written from `to` to `from`, and the list is given in that written order.
    VarExpand {
        input: Box<Op>,
        from: Var,
        rel: Var,
        to: Var,
        dir: Dir,
        types: Vec<String>,
        to_labels: Vec<String>,
        min: u64,
        max: Option<u64>,
        into: bool,
        unique: Vec<Var>,
        rel_props: Vec<(String, Expr)>,
        reversed: bool,
    },
    /// `shortestPath((from)-[rel:types*min..max]->(to))` between two bound nodes (all of
    /// them with `all`): binds `rel` to the relationships of each shortest path.
    ShortestPath {
        input: Box<Op>,
        from: Var,
        rel: Var,
        to: Var,
        dir: Dir,
        types: Vec<String>,
        min: u64,
        max: Option<u64>,
        all: bool,
        rel_props: Vec<(String, Expr)>,
    },
    /// Worst-case-optimal extension: binds `to` to every node adjacent to each leg's `from`
    /// (intersecting their sorted adjacency), and each leg's `rel` to a relationship that
    /// joins them. `to` must carry `to_labels`; relationships differ from each other and
    /// from `unique`.
    Intersect {
        input: Box<Op>,
        to: Var,
        to_labels: Vec<String>,
        legs: Vec<Leg>,
        unique: Vec<Var>,
    },
    /// Binds `var` to the number of relationships of `types` going `dir` from the bound
    /// `node` whose other end carries `other_labels`; a node with none gives no row.
    /// `count(*)` per node of a one-hop pattern, read from the adjacency without a row per
    /// relationship.
    Degree {
        input: Box<Op>,
        node: Var,
        var: Var,
        dir: Dir,
        types: Vec<String>,
        other_labels: Vec<String>,
    },
    Filter {
        input: Box<Op>,
        predicate: Expr,
    },
    /// Adds `items` (evaluated in order; later items may not read earlier ones).
    Project {
        input: Box<Op>,
        items: Vec<(Var, Expr)>,
    },
    Unwind {
        input: Box<Op>,
        expr: Expr,
        var: Var,
    },
    /// Groups by `keys` and computes `aggs` per group; only keys and aggregates remain
    /// visible. Without keys there is exactly one group, even over no rows.
    Aggregate {
        input: Box<Op>,
        keys: Vec<(Var, Expr)>,
        aggs: Vec<(Var, AggCall)>,
    },
    /// `Aggregate` over a `RelScan` in one operator: for each input row, every
    /// relationship `rel` of `rel_type` from `start` (carrying `start_labels`) to `end`
    /// (carrying `end_labels`), grouped by `keys` with `aggs`, whose expressions read only
    /// `rel`'s properties and the bare `rel`, `start` and `end` — read from the store's
    /// records in bulk, no row per relationship. Only keys and aggregates remain visible;
    /// without keys there is exactly one group, as for `Aggregate`.
    RelAggregate {
        input: Box<Op>,
        rel: Var,
        start: Var,
        end: Var,
        rel_type: String,
        start_labels: Vec<String>,
        end_labels: Vec<String>,
        keys: Vec<(Var, Expr)>,
        aggs: Vec<(Var, AggCall)>,
    },
    /// Keeps the first row of each distinct combination of `vars`.
    Distinct {
        input: Box<Op>,
        vars: Vec<Var>,
    },
    Sort {
        input: Box<Op>,
        keys: Vec<SortKey>,
    },
    /// `Sort` then `Skip`/`Limit`, keeping only `skip + limit` rows while sorting.
    TopK {
        input: Box<Op>,
        keys: Vec<SortKey>,
        skip: Option<Expr>,
        limit: Expr,
    },
    Skip {
        input: Box<Op>,
        count: Expr,
    },
    Limit {
        input: Box<Op>,
        count: Expr,
    },
    /// `OPTIONAL MATCH`: for each input row, the rows of `inner` (which starts at an
    /// `Argument` holding the input row), or the input row with `vars` null when there are
    /// none.
    Optional {
        input: Box<Op>,
        inner: Box<Op>,
        vars: Vec<Var>,
    },
    /// `CALL { … }` (and `FOREACH`): for each input row, the rows of `inner` (which starts
    /// at an `Argument` holding the imported variables and ends in `Produce`) with `vars`,
    /// its columns, added. With no `vars` (a unit subquery) `inner` runs to its end and the
    /// input row passes once. When `inner` writes, all input rows are read first.
    Apply {
        input: Box<Op>,
        inner: Box<Op>,
        vars: Vec<Var>,
    },
    /// Result rows of every branch (each ends in `Produce` with the same column names),
    /// deduplicated when `distinct`.
    Union {
        branches: Vec<Op>,
        distinct: bool,
    },
    /// Creates `parts` once per input row (after reading all input rows).
    Create {
        input: Box<Op>,
        parts: Vec<CreatePart>,
    },
    /// For each input row: the rows of `pattern` (starting at an `Argument`) with
    /// `on_match` applied, or else the pattern created (`create`) with `on_create` applied.
    Merge {
        input: Box<Op>,
        pattern: Box<Op>,
        create: CreatePart,
        on_create: Vec<SetItem>,
        on_match: Vec<SetItem>,
    },
    /// `SET` / `REMOVE` items, applied per input row after reading all input rows.
    Set {
        input: Box<Op>,
        items: Vec<SetItem>,
    },
    /// `DELETE` / `DETACH DELETE` of the values of `exprs`, after reading all input rows.
    Delete {
        input: Box<Op>,
        exprs: Vec<Expr>,
        detach: bool,
    },
    /// `CALL procedure(args) YIELD …`: output column `i` of the procedure to `var`.
    Call {
        input: Box<Op>,
        procedure: String,
        args: Vec<Expr>,
        yields: Vec<(usize, Var)>,
        /// The procedure has no outputs: input rows pass unchanged.
        void: bool,
    },
    /// `CREATE INDEX` / `DROP INDEX` (the whole query).
    Index {
        create: bool,
        label: String,
        key: String,
    },
    /// The result: named columns, in order.
    Produce {
        input: Box<Op>,
        columns: Vec<(String, Var)>,
    },
}

impl Op {
    /// The operator's name, as EXPLAIN prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Argument { .. } => "Argument",
            Op::NodeScan { labels, .. } if labels.is_empty() => "AllNodesScan",
            Op::NodeScan { .. } => "NodeByLabelScan",
            Op::RelScan { .. } => "RelationshipTypeScan",
            Op::NodeSeek { key, .. } if key == ID_KEY => "NodeByIdSeek",
            Op::NodeSeek { .. } => "NodeIndexSeek",
            Op::Expand { into: true, .. } => "ExpandInto",
            Op::Expand { .. } => "Expand",
            Op::VarExpand { .. } => "VarLengthExpand",
            Op::ShortestPath { all: true, .. } => "AllShortestPaths",
            Op::ShortestPath { .. } => "ShortestPath",
            Op::Intersect { .. } => "ExpandIntersect",
            Op::Degree { .. } => "NodeDegree",
            Op::Filter { .. } => "Filter",
            Op::Project { .. } => "Project",
            Op::Unwind { .. } => "Unwind",
            Op::Aggregate { .. } => "Aggregate",
            Op::RelAggregate { .. } => "RelationshipTypeAggregate",
            Op::Distinct { .. } => "Distinct",
            Op::Sort { .. } => "Sort",
            Op::TopK { .. } => "TopK",
            Op::Skip { .. } => "Skip",
            Op::Limit { .. } => "Limit",
            Op::Optional { .. } => "Optional",
            Op::Apply { vars, .. } if vars.is_empty() => "UnitApply",
            Op::Apply { .. } => "Apply",
            Op::Union { .. } => "Union",
            Op::Create { .. } => "Create",
            Op::Merge { .. } => "Merge",
            Op::Set { .. } => "SetProperties",
            Op::Delete { .. } => "Delete",
            Op::Call { .. } => "ProcedureCall",
            Op::Index { .. } => "IndexDefinition",
            Op::Produce { .. } => "ProduceResults",
        }
    }

    /// The input operator, for every operator that has exactly one.
    pub fn input(&self) -> Option<&Op> {
        match self {
            Op::Argument { .. } | Op::Union { .. } | Op::Index { .. } => None,
            Op::NodeScan { input, .. }
            | Op::RelScan { input, .. }
            | Op::NodeSeek { input, .. }
            | Op::Expand { input, .. }
            | Op::VarExpand { input, .. }
            | Op::ShortestPath { input, .. }
            | Op::Intersect { input, .. }
            | Op::Degree { input, .. }
            | Op::Filter { input, .. }
            | Op::Project { input, .. }
            | Op::Unwind { input, .. }
            | Op::Aggregate { input, .. }
            | Op::RelAggregate { input, .. }
            | Op::Distinct { input, .. }
            | Op::Sort { input, .. }
            | Op::TopK { input, .. }
            | Op::Skip { input, .. }
            | Op::Limit { input, .. }
            | Op::Optional { input, .. }
            | Op::Apply { input, .. }
            | Op::Create { input, .. }
            | Op::Merge { input, .. }
            | Op::Set { input, .. }
            | Op::Delete { input, .. }
            | Op::Call { input, .. }
            | Op::Produce { input, .. } => Some(input),
        }
    }

    pub fn input_mut(&mut self) -> Option<&mut Box<Op>> {
        match self {
            Op::Argument { .. } | Op::Union { .. } | Op::Index { .. } => None,
            Op::NodeScan { input, .. }
            | Op::RelScan { input, .. }
            | Op::NodeSeek { input, .. }
            | Op::Expand { input, .. }
            | Op::VarExpand { input, .. }
            | Op::ShortestPath { input, .. }
            | Op::Intersect { input, .. }
            | Op::Degree { input, .. }
            | Op::Filter { input, .. }
            | Op::Project { input, .. }
            | Op::Unwind { input, .. }
            | Op::Aggregate { input, .. }
            | Op::RelAggregate { input, .. }
            | Op::Distinct { input, .. }
            | Op::Sort { input, .. }
            | Op::TopK { input, .. }
            | Op::Skip { input, .. }
            | Op::Limit { input, .. }
            | Op::Optional { input, .. }
            | Op::Apply { input, .. }
            | Op::Create { input, .. }
            | Op::Merge { input, .. }
            | Op::Set { input, .. }
            | Op::Delete { input, .. }
            | Op::Call { input, .. }
            | Op::Produce { input, .. } => Some(input),
        }
    }

    /// Every child plan: the input, nested plans (`Optional`, `Merge`), union branches.
    pub fn children(&self) -> Vec<&Op> {
        let mut out: Vec<&Op> = self.input().into_iter().collect();
        match self {
            Op::Optional { inner, .. } | Op::Apply { inner, .. } => out.push(inner),
            Op::Merge { pattern, .. } => out.push(pattern),
            Op::Union { branches, .. } => out.extend(branches.iter()),
            _ => {}
        }
        out
    }

    pub fn children_mut(&mut self) -> Vec<&mut Op> {
        match self {
            Op::Optional { input, inner, .. } | Op::Apply { input, inner, .. } => {
                vec![&mut **input, &mut **inner]
            }
            Op::Merge { input, pattern, .. } => vec![&mut **input, &mut **pattern],
            Op::Union { branches, .. } => branches.iter_mut().collect(),
            other => other.input_mut().into_iter().map(|b| &mut **b).collect(),
        }
    }

    /// The variables this operator binds (not those its nested plans bind internally,
    /// except what they add to its output).
    pub fn defines(&self) -> Vec<Var> {
        match self {
            Op::Argument { .. } => Vec::new(),
            Op::NodeScan { var, .. }
            | Op::NodeSeek { var, .. }
            | Op::Unwind { var, .. }
            | Op::Degree { var, .. } => {
                vec![*var]
            }
            Op::RelScan {
                rel, start, end, ..
            } => vec![*start, *rel, *end],
            Op::Expand { rel, to, into, .. } => {
                if *into {
                    vec![*rel]
                } else {
                    vec![*rel, *to]
                }
            }
            Op::VarExpand { rel, to, into, .. } => {
                if *into {
                    vec![*rel]
                } else {
                    vec![*rel, *to]
                }
            }
            Op::ShortestPath { rel, .. } => vec![*rel],
            Op::Intersect { to, legs, .. } => std::iter::once(*to)
                .chain(legs.iter().map(|l| l.rel))
                .collect(),
            Op::Project { items, .. } => items.iter().map(|(v, _)| *v).collect(),
            Op::Aggregate { keys, aggs, .. } | Op::RelAggregate { keys, aggs, .. } => keys
                .iter()
                .map(|(v, _)| *v)
                .chain(aggs.iter().map(|(v, _)| *v))
                .collect(),
            Op::Optional { vars, .. } | Op::Apply { vars, .. } => vars.clone(),
            Op::Create { parts, .. } => parts.iter().flat_map(part_defines).collect(),
            Op::Merge { create, .. } => part_defines(create),
            Op::Call { yields, .. } => yields.iter().map(|(_, v)| *v).collect(),
            Op::Produce { columns, .. } => columns.iter().map(|(_, v)| *v).collect(),
            Op::Union { branches, .. } => branches
                .first()
                .map(|b| b.output_vars().into_iter().collect())
                .unwrap_or_default(),
            Op::Filter { .. }
            | Op::Distinct { .. }
            | Op::Sort { .. }
            | Op::TopK { .. }
            | Op::Skip { .. }
            | Op::Limit { .. }
            | Op::Set { .. }
            | Op::Delete { .. }
            | Op::Index { .. } => Vec::new(),
        }
    }

    /// The expressions this operator evaluates over its input rows (not those of nested
    /// plans).
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Op::NodeSeek { seek, .. } => seek.exprs(),
            Op::VarExpand { rel_props, .. } | Op::ShortestPath { rel_props, .. } => {
                rel_props.iter().map(|(_, e)| e).collect()
            }
            Op::Filter { predicate, .. } => vec![predicate],
            Op::Project { items, .. } => items.iter().map(|(_, e)| e).collect(),
            Op::Unwind { expr, .. } => vec![expr],
            Op::Aggregate { keys, aggs, .. } | Op::RelAggregate { keys, aggs, .. } => keys
                .iter()
                .map(|(_, e)| e)
                .chain(aggs.iter().flat_map(|(_, a)| a.args.iter()))
                .collect(),
            Op::Sort { keys, .. } => keys.iter().map(|k| &k.expr).collect(),
            Op::TopK {
                keys, skip, limit, ..
            } => keys
                .iter()
                .map(|k| &k.expr)
                .chain(skip.iter())
                .chain(std::iter::once(limit))
                .collect(),
            Op::Skip { count, .. } | Op::Limit { count, .. } => vec![count],
            Op::Create { parts, .. } => parts.iter().flat_map(part_exprs).collect(),
            Op::Merge {
                create,
                on_create,
                on_match,
                ..
            } => part_exprs(create)
                .into_iter()
                .chain(on_create.iter().chain(on_match).flat_map(SetItem::exprs))
                .collect(),
            Op::Set { items, .. } => items.iter().flat_map(SetItem::exprs).collect(),
            Op::Delete { exprs, .. } | Op::Call { args: exprs, .. } => exprs.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Variables the operator itself reads from its input rows (its expressions' free
    /// variables and the variables it expands from or compares with).
    pub fn uses(&self) -> BTreeSet<Var> {
        let mut out = BTreeSet::new();
        for e in self.exprs() {
            e.collect_free_vars(&mut out);
        }
        match self {
            Op::Argument { vars } => out.extend(vars),
            Op::Expand {
                from,
                to,
                into,
                unique,
                ..
            }
            | Op::VarExpand {
                from,
                to,
                into,
                unique,
                ..
            } => {
                out.insert(*from);
                if *into {
                    out.insert(*to);
                }
                out.extend(unique);
            }
            Op::ShortestPath { from, to, .. } => {
                out.insert(*from);
                out.insert(*to);
            }
            Op::Intersect { legs, unique, .. } => {
                out.extend(legs.iter().map(|l| l.from));
                out.extend(unique);
            }
            Op::Degree { node, .. } => {
                out.insert(*node);
            }
            // Its expressions read what it binds itself, nothing of its input rows.
            Op::RelAggregate {
                rel, start, end, ..
            } => {
                for v in [rel, start, end] {
                    out.remove(v);
                }
            }
            Op::Distinct { vars, .. } => out.extend(vars),
            Op::Produce { columns, .. } => out.extend(columns.iter().map(|(_, v)| *v)),
            Op::Create { parts, .. } => {
                for p in parts {
                    out.extend(p.nodes.iter().filter(|n| n.existing).map(|n| n.var));
                }
            }
            _ => {}
        }
        out
    }

    /// The variables visible in this operator's output rows.
    pub fn output_vars(&self) -> BTreeSet<Var> {
        match self {
            Op::Argument { vars } => vars.iter().copied().collect(),
            Op::Aggregate { .. }
            | Op::RelAggregate { .. }
            | Op::Produce { .. }
            | Op::Union { .. }
            | Op::Index { .. } => self.defines().into_iter().collect(),
            other => {
                let mut vars = other.input().map(Op::output_vars).unwrap_or_default();
                vars.extend(other.defines());
                vars
            }
        }
    }

    /// Visits this operator and every operator below it, nested plans included, parents
    /// first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Op)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Whether `f` holds for this operator or any below it.
    pub fn any(&self, f: &mut dyn FnMut(&Op) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |op| {
            if !found && f(op) {
                found = true;
            }
        });
        found
    }

    /// Takes the input out, leaving an empty `Argument` in its place.
    pub fn take_input(&mut self) -> Option<Op> {
        self.input_mut()
            .map(|b| std::mem::replace(&mut **b, Op::Argument { vars: Vec::new() }))
    }
}

fn part_defines(p: &CreatePart) -> Vec<Var> {
    p.nodes
        .iter()
        .filter(|n| !n.existing)
        .map(|n| n.var)
        .chain(p.rels.iter().map(|r| r.var))
        .chain(p.path.iter().map(|(v, _, _)| *v))
        .collect()
}

fn part_exprs(p: &CreatePart) -> Vec<&Expr> {
    p.nodes
        .iter()
        .flat_map(|n| n.props.exprs())
        .chain(p.rels.iter().flat_map(|r| r.props.exprs()))
        .collect()
}
