//! Bound expressions: what the binder makes of an AST expression, and what every later
//! stage reads.
//!
//! Variables are [`Var`]s, functions are resolved, aggregates have been replaced by the
//! variable that receives their value, and subqueries (pattern predicates, pattern
//! comprehensions, `EXISTS { … }`) are referred to by [`SubqueryId`]. Equality and hashing
//! are structural over this tree — never over source text — so `'a b' = s` and `'ab' = s`
//! are different expressions, and two spellings of the same expression (`n.x+1`,
//! `n.x + 1`) are the same one.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use nereid_cypher::ast::{BinaryOp, Quantifier, UnaryOp};
use nereid_functions::ScalarFunction;
use nereid_value::{GroupKey, Value};

use super::vars::Var;

/// A constant. Equality is structural (`1` and `1.0` differ, NaN equals NaN); hashing
/// follows Cypher equivalence, which structural equality refines.
#[derive(Debug, Clone)]
pub struct Lit(pub Value);

impl PartialEq for Lit {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Lit {}
impl Hash for Lit {
    fn hash<H: Hasher>(&self, state: &mut H) {
        GroupKey(vec![self.0.clone()]).hash(state)
    }
}

/// A resolved scalar function; compared by identity of its catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct FnRef(pub &'static ScalarFunction);

impl PartialEq for FnRef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}
impl Eq for FnRef {}
impl Hash for FnRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state)
    }
}

/// A built-in function that needs the graph (everything else is in `nereid_functions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GraphFn {
    Id,
    Labels,
    Type,
    Properties,
    Keys,
    StartNode,
    EndNode,
    Nodes,
    Relationships,
    Length,
    Exists,
    /// Neptune's `collSortNodes(nodes, {key, order})`: sorts nodes by a property.
    SortNodes,
}

impl GraphFn {
    /// The function of a lower-cased name, with its arity.
    pub fn lookup(name: &str) -> Option<(GraphFn, usize)> {
        Some(match name {
            "id" => (GraphFn::Id, 1),
            "labels" => (GraphFn::Labels, 1),
            "type" => (GraphFn::Type, 1),
            "properties" => (GraphFn::Properties, 1),
            "keys" => (GraphFn::Keys, 1),
            "startnode" => (GraphFn::StartNode, 1),
            "endnode" => (GraphFn::EndNode, 1),
            "nodes" => (GraphFn::Nodes, 1),
            "relationships" => (GraphFn::Relationships, 1),
            "length" => (GraphFn::Length, 1),
            "exists" => (GraphFn::Exists, 1),
            "collsortnodes" => (GraphFn::SortNodes, 2),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            GraphFn::Id => "id",
            GraphFn::Labels => "labels",
            GraphFn::Type => "type",
            GraphFn::Properties => "properties",
            GraphFn::Keys => "keys",
            GraphFn::StartNode => "startNode",
            GraphFn::EndNode => "endNode",
            GraphFn::Nodes => "nodes",
            GraphFn::Relationships => "relationships",
            GraphFn::Length => "length",
            GraphFn::Exists => "exists",
            GraphFn::SortNodes => "collSortNodes",
        }
    }
}

/// An item of a map projection `v { .a, b: expr, .* }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MapItem {
    Property(String),
    Entry(String, Expr),
    AllProperties,
}

/// A subquery of the statement (pattern predicate, pattern comprehension, `EXISTS { }`),
/// planned on its own; see `plan::Subquery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubqueryId(pub u32);

/// One hop of a path built from pattern variables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathHop {
    pub rel: Var,
    pub node: Var,
    /// `rel` holds a list of relationships (a variable-length hop).
    pub var_length: bool,
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count(*)`: counts rows.
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Collect,
    StDev,
    StDevP,
    PercentileCont,
    PercentileDisc,
}

impl AggFunc {
    /// The function of a lower-cased name (`count(*)` is not a name: see [`AggFunc::CountStar`]).
    pub fn lookup(name: &str) -> Option<AggFunc> {
        Some(match name {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "collect" => AggFunc::Collect,
            "stdev" => AggFunc::StDev,
            "stdevp" => AggFunc::StDevP,
            "percentilecont" => AggFunc::PercentileCont,
            "percentiledisc" => AggFunc::PercentileDisc,
            _ => return None,
        })
    }

    /// The name `nereid_functions::new_aggregator` knows.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::CountStar | AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Collect => "collect",
            AggFunc::StDev => "stdev",
            AggFunc::StDevP => "stdevp",
            AggFunc::PercentileCont => "percentilecont",
            AggFunc::PercentileDisc => "percentiledisc",
        }
    }
}

/// An aggregate call of a projection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AggCall {
    pub func: AggFunc,
    pub distinct: bool,
    pub args: Vec<Expr>,
}

/// A bound expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    Lit(Lit),
    Param(String),
    Var(Var),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    /// `base.key`
    Prop(Box<Expr>, String),
    /// `base[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `base[from..to]`
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Unary(UnaryOp, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Xor(Box<Expr>, Box<Expr>),
    /// Every binary operator other than AND, OR, XOR.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a < b <= c`: each operand evaluated once, the comparisons conjoined.
    Comparison(Box<Expr>, Vec<(BinaryOp, Expr)>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    /// `e:A:B` (on a relationship: its type).
    HasLabels(Box<Expr>, Vec<String>),
    Scalar(FnRef, Vec<Expr>),
    Graph(GraphFn, Vec<Expr>),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    /// `[var IN list WHERE where_ | map]`
    ListComp {
        var: Var,
        list: Box<Expr>,
        where_: Option<Box<Expr>>,
        map: Option<Box<Expr>>,
    },
    Quantified {
        quantifier: Quantifier,
        var: Var,
        list: Box<Expr>,
        where_: Option<Box<Expr>>,
    },
    Reduce {
        acc: Var,
        init: Box<Expr>,
        var: Var,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    MapProjection(Box<Expr>, Vec<MapItem>),
    /// A path assembled from pattern variables, in the pattern's written order.
    Path {
        start: Var,
        hops: Vec<PathHop>,
    },
    /// Whether the subquery produces a row for the current row (its free variables are
    /// `args`).
    Exists {
        sub: SubqueryId,
        args: Vec<Var>,
    },
    /// How many rows the subquery produces for the current row (`COUNT { … }`).
    Count {
        sub: SubqueryId,
        args: Vec<Var>,
    },
    /// The list of the subquery's single output column (a pattern comprehension or
    /// `COLLECT { … }`).
    Collect {
        sub: SubqueryId,
        args: Vec<Var>,
    },
}

impl Expr {
    pub fn lit(v: Value) -> Expr {
        Expr::Lit(Lit(v))
    }

    pub fn var(v: Var) -> Expr {
        Expr::Var(v)
    }

    pub fn prop(base: Expr, key: &str) -> Expr {
        Expr::Prop(Box::new(base), key.to_owned())
    }

    pub fn binary(op: BinaryOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }

    /// `a AND b`, leaving out `true` operands.
    pub fn and(a: Expr, b: Expr) -> Expr {
        match (&a, &b) {
            (Expr::Lit(Lit(Value::Bool(true))), _) => b,
            (_, Expr::Lit(Lit(Value::Bool(true)))) => a,
            _ => Expr::And(Box::new(a), Box::new(b)),
        }
    }

    /// The conjunction of `parts` (`true` when empty).
    pub fn conjunction(parts: impl IntoIterator<Item = Expr>) -> Expr {
        parts
            .into_iter()
            .reduce(Expr::and)
            .unwrap_or(Expr::lit(Value::Bool(true)))
    }

    pub fn as_lit(&self) -> Option<&Value> {
        match self {
            Expr::Lit(Lit(v)) => Some(v),
            _ => None,
        }
    }

    pub fn is_lit(&self) -> bool {
        matches!(self, Expr::Lit(_))
    }

    /// Splits `a AND b AND c` into its conjuncts.
    pub fn conjuncts(self) -> Vec<Expr> {
        let mut out = Vec::new();
        fn go(e: Expr, out: &mut Vec<Expr>) {
            match e {
                Expr::And(a, b) => {
                    go(*a, out);
                    go(*b, out);
                }
                Expr::Lit(Lit(Value::Bool(true))) => {}
                other => out.push(other),
            }
        }
        go(self, &mut out);
        out
    }

    /// Calls `f` on every direct child expression.
    pub fn for_each_child<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        match self {
            Expr::Lit(_) | Expr::Param(_) | Expr::Var(_) | Expr::Path { .. } => {}
            Expr::Exists { .. } | Expr::Count { .. } | Expr::Collect { .. } => {}
            Expr::List(v) | Expr::Scalar(_, v) | Expr::Graph(_, v) => v.iter().for_each(f),
            Expr::Map(v) => v.iter().for_each(|(_, e)| f(e)),
            Expr::Prop(e, _)
            | Expr::Unary(_, e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::HasLabels(e, _) => f(e),
            Expr::Index(a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Xor(a, b)
            | Expr::Binary(_, a, b) => {
                f(a);
                f(b)
            }
            Expr::Slice(a, b, c) => {
                f(a);
                if let Some(b) = b {
                    f(b)
                }
                if let Some(c) = c {
                    f(c)
                }
            }
            Expr::Comparison(a, rest) => {
                f(a);
                rest.iter().for_each(|(_, e)| f(e))
            }
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                if let Some(o) = operand {
                    f(o)
                }
                for (w, t) in whens {
                    f(w);
                    f(t)
                }
                if let Some(e) = else_ {
                    f(e)
                }
            }
            Expr::ListComp {
                list, where_, map, ..
            } => {
                f(list);
                if let Some(w) = where_ {
                    f(w)
                }
                if let Some(m) = map {
                    f(m)
                }
            }
            Expr::Quantified { list, where_, .. } => {
                f(list);
                if let Some(w) = where_ {
                    f(w)
                }
            }
            Expr::Reduce {
                init, list, expr, ..
            } => {
                f(init);
                f(list);
                f(expr)
            }
            Expr::MapProjection(b, items) => {
                f(b);
                for i in items {
                    if let MapItem::Entry(_, e) = i {
                        f(e)
                    }
                }
            }
        }
    }

    /// Calls `f` on every direct child expression, mutably.
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Expr::Lit(_) | Expr::Param(_) | Expr::Var(_) | Expr::Path { .. } => {}
            Expr::Exists { .. } | Expr::Count { .. } | Expr::Collect { .. } => {}
            Expr::List(v) | Expr::Scalar(_, v) | Expr::Graph(_, v) => v.iter_mut().for_each(f),
            Expr::Map(v) => v.iter_mut().for_each(|(_, e)| f(e)),
            Expr::Prop(e, _)
            | Expr::Unary(_, e)
            | Expr::IsNull(e)
            | Expr::IsNotNull(e)
            | Expr::HasLabels(e, _) => f(e),
            Expr::Index(a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Xor(a, b)
            | Expr::Binary(_, a, b) => {
                f(a);
                f(b)
            }
            Expr::Slice(a, b, c) => {
                f(a);
                if let Some(b) = b {
                    f(b)
                }
                if let Some(c) = c {
                    f(c)
                }
            }
            Expr::Comparison(a, rest) => {
                f(a);
                rest.iter_mut().for_each(|(_, e)| f(e))
            }
            Expr::Case {
                operand,
                whens,
                else_,
            } => {
                if let Some(o) = operand {
                    f(o)
                }
                for (w, t) in whens {
                    f(w);
                    f(t)
                }
                if let Some(e) = else_ {
                    f(e)
                }
            }
            Expr::ListComp {
                list, where_, map, ..
            } => {
                f(list);
                if let Some(w) = where_ {
                    f(w)
                }
                if let Some(m) = map {
                    f(m)
                }
            }
            Expr::Quantified { list, where_, .. } => {
                f(list);
                if let Some(w) = where_ {
                    f(w)
                }
            }
            Expr::Reduce {
                init, list, expr, ..
            } => {
                f(init);
                f(list);
                f(expr)
            }
            Expr::MapProjection(b, items) => {
                f(b);
                for i in items {
                    if let MapItem::Entry(_, e) = i {
                        f(e)
                    }
                }
            }
        }
    }

    /// Variables the expression reads from its row: free variables, not the ones that list
    /// comprehensions, quantifiers and `reduce` bind themselves; a subquery reads its
    /// arguments.
    pub fn free_vars(&self) -> BTreeSet<Var> {
        let mut out = BTreeSet::new();
        self.collect_free_vars(&mut out);
        out
    }

    pub fn collect_free_vars(&self, out: &mut BTreeSet<Var>) {
        match self {
            Expr::Var(v) => {
                out.insert(*v);
            }
            Expr::Path { start, hops } => {
                out.insert(*start);
                for h in hops {
                    out.insert(h.rel);
                    out.insert(h.node);
                }
            }
            Expr::Exists { args, .. } | Expr::Count { args, .. } | Expr::Collect { args, .. } => {
                out.extend(args)
            }
            Expr::ListComp {
                var,
                list,
                where_,
                map,
            } => {
                list.collect_free_vars(out);
                let mut inner = BTreeSet::new();
                for e in where_.iter().chain(map) {
                    e.collect_free_vars(&mut inner);
                }
                inner.remove(var);
                out.extend(inner);
            }
            Expr::Quantified {
                var, list, where_, ..
            } => {
                list.collect_free_vars(out);
                let mut inner = BTreeSet::new();
                if let Some(w) = where_ {
                    w.collect_free_vars(&mut inner);
                }
                inner.remove(var);
                out.extend(inner);
            }
            Expr::Reduce {
                acc,
                init,
                var,
                list,
                expr,
            } => {
                init.collect_free_vars(out);
                list.collect_free_vars(out);
                let mut inner = BTreeSet::new();
                expr.collect_free_vars(&mut inner);
                inner.remove(var);
                inner.remove(acc);
                out.extend(inner);
            }
            other => other.for_each_child(&mut |c| c.collect_free_vars(out)),
        }
    }

    /// Subqueries the expression evaluates.
    pub fn subqueries(&self, out: &mut Vec<SubqueryId>) {
        match self {
            Expr::Exists { sub, .. } | Expr::Count { sub, .. } | Expr::Collect { sub, .. } => {
                out.push(*sub)
            }
            other => other.for_each_child(&mut |c| c.subqueries(out)),
        }
    }

    /// Whether the expression evaluates a subquery.
    pub fn has_subquery(&self) -> bool {
        let mut subs = Vec::new();
        self.subqueries(&mut subs);
        !subs.is_empty()
    }

    /// Replaces, top-down, every subexpression for which `f` gives a replacement (the
    /// replacement itself is not visited again).
    pub fn replace(&mut self, f: &mut dyn FnMut(&Expr) -> Option<Expr>) {
        if let Some(new) = f(self) {
            *self = new;
            return;
        }
        self.for_each_child_mut(&mut |c| c.replace(f));
    }

    /// Whether `f` holds for this expression or any subexpression.
    pub fn any(&self, f: &mut dyn FnMut(&Expr) -> bool) -> bool {
        if f(self) {
            return true;
        }
        let mut found = false;
        self.for_each_child(&mut |c| {
            if !found && c.any(f) {
                found = true;
            }
        });
        found
    }

    /// Whether the expression may give a different value each time it is evaluated on the
    /// same row (`rand()`, `randomUUID()`, `timestamp()`…).
    pub fn is_nondeterministic(&self) -> bool {
        self.any(&mut |e| matches!(e, Expr::Scalar(f, _) if !f.0.deterministic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash(e: &Expr) -> u64 {
        let mut h = DefaultHasher::new();
        e.hash(&mut h);
        h.finish()
    }

    #[test]
    fn equality_is_structural_not_textual() {
        let s = Expr::Var(Var(0));
        let spaced = Expr::binary(BinaryOp::Eq, Expr::lit("a b".into()), s.clone());
        let packed = Expr::binary(BinaryOp::Eq, Expr::lit("ab".into()), s.clone());
        assert_ne!(spaced, packed);
        let again = Expr::binary(BinaryOp::Eq, Expr::lit("a b".into()), s);
        assert_eq!(spaced, again);
        assert_eq!(hash(&spaced), hash(&again));
    }

    #[test]
    fn integer_and_float_literals_differ_but_hash_alike() {
        let i = Expr::lit(Value::Int(1));
        let f = Expr::lit(Value::Float(1.0));
        assert_ne!(i, f);
        assert_eq!(hash(&i), hash(&f));
        let nan = Expr::lit(Value::Float(f64::NAN));
        assert_eq!(nan, nan.clone());
    }

    #[test]
    fn free_vars_skip_comprehension_variables() {
        let x = Var(1);
        let y = Var(2);
        let e = Expr::ListComp {
            var: x,
            list: Box::new(Expr::Var(y)),
            where_: None,
            map: Some(Box::new(Expr::binary(
                BinaryOp::Add,
                Expr::Var(x),
                Expr::Var(Var(3)),
            ))),
        };
        assert_eq!(e.free_vars().into_iter().collect::<Vec<_>>(), [y, Var(3)]);
    }

    #[test]
    fn conjuncts_flatten_and_drop_true() {
        let a = Expr::Var(Var(0));
        let b = Expr::Var(Var(1));
        let e = Expr::and(
            Expr::and(a.clone(), Expr::lit(Value::Bool(true))),
            b.clone(),
        );
        assert_eq!(e.conjuncts(), vec![a, b]);
    }
}
