//! What the binder can tell about AST expressions before binding them: static types (for
//! the compile-time type errors the TCK expects) and walks over the AST.

use nereid_cypher::ast::{self, ExprKind, Literal, UnaryOp};
use nereid_functions as functions;

use super::scope::{Kind, Scope};

pub fn is_aggregate_name(name: &str) -> bool {
    functions::is_aggregate(name)
}

/// Whether the AST expression contains an aggregate (outside nested subqueries).
pub fn contains_aggregate(e: &ast::Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if let ExprKind::CountStar = x.kind {
            found = true;
        }
        if let ExprKind::FunctionCall { name, .. } = &x.kind {
            if name.len() == 1 && is_aggregate_name(&name[0].name.to_lowercase()) {
                found = true;
            }
        }
    });
    found
}

/// Pre-order walk over an AST expression (not into patterns or subqueries).
pub fn walk(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr)) {
    f(e);
    for c in children(e) {
        walk(c, f);
    }
}

/// Direct child expressions of an AST expression (not into patterns).
pub fn children(e: &ast::Expr) -> Vec<&ast::Expr> {
    let mut out = Vec::new();
    match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar => {}
        ExprKind::List(v) => out.extend(v.iter()),
        ExprKind::Map(v) => out.extend(v.iter().map(|(_, x)| x)),
        ExprKind::Property(b, _) | ExprKind::HasLabels(b, _) => out.push(&**b),
        ExprKind::IsNull(b) | ExprKind::IsNotNull(b) | ExprKind::Unary(_, b) => out.push(&**b),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            out.push(&**a);
            out.push(&**b);
        }
        ExprKind::Slice(a, b, c) => {
            out.push(&**a);
            out.extend(b.as_deref());
            out.extend(c.as_deref());
        }
        ExprKind::Comparison(a, rest) => {
            out.push(&**a);
            out.extend(rest.iter().map(|(_, x)| x));
        }
        ExprKind::FunctionCall { args, .. } => out.extend(args.iter()),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            out.extend(operand.as_deref());
            for (w, t) in whens {
                out.push(w);
                out.push(t);
            }
            out.extend(else_.as_deref());
        }
        ExprKind::ListComprehension {
            list, where_, map, ..
        } => {
            out.push(&**list);
            out.extend(where_.as_deref());
            out.extend(map.as_deref());
        }
        ExprKind::Quantified { list, where_, .. } => {
            out.push(&**list);
            out.extend(where_.as_deref());
        }
        ExprKind::Reduce {
            init, list, expr, ..
        } => {
            out.push(&**init);
            out.push(&**list);
            out.push(&**expr);
        }
        ExprKind::MapProjection { items, .. } => {
            for i in items {
                if let ast::MapProjectionItem::Literal { value, .. } = i {
                    out.push(value);
                }
            }
        }
        ExprKind::PatternComprehension { where_, map, .. } => {
            out.extend(where_.as_deref());
            out.push(&**map);
        }
        ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_)
        | ExprKind::CollectSubquery(_) => {}
    }
    out
}

/// The scope kind of a value whose static kind is `k`.
pub fn kind_of(k: StaticKind) -> Kind {
    match k {
        StaticKind::Node => Kind::Node,
        StaticKind::Relationship => Kind::Relationship,
        StaticKind::Path => Kind::Path,
        StaticKind::Unknown | StaticKind::Null => Kind::Value,
        other => Kind::Typed(other),
    }
}

/// What can be known about an expression's type before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaticKind {
    Unknown,
    Null,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
    Node,
    Relationship,
    Path,
}

pub fn static_kind(e: &ast::Expr, scope: &Scope) -> StaticKind {
    use ast::BinaryOp as B;
    match &e.kind {
        ExprKind::Literal(Literal::Null) => StaticKind::Null,
        ExprKind::Literal(Literal::Bool(_)) => StaticKind::Bool,
        ExprKind::Literal(Literal::Integer(_)) => StaticKind::Int,
        ExprKind::Literal(Literal::Float(_)) => StaticKind::Float,
        ExprKind::Literal(Literal::String(_)) => StaticKind::String,
        ExprKind::List(_)
        | ExprKind::ListComprehension { .. }
        | ExprKind::PatternComprehension { .. }
        | ExprKind::CollectSubquery(_) => StaticKind::List,
        ExprKind::CountSubquery(_) => StaticKind::Int,
        ExprKind::Map(_) | ExprKind::MapProjection { .. } => StaticKind::Map,
        ExprKind::Variable(v) => match scope.get(v).map(|v| v.kind) {
            Some(Kind::Node) => StaticKind::Node,
            Some(Kind::Relationship) => StaticKind::Relationship,
            Some(Kind::RelationshipList) => StaticKind::List,
            Some(Kind::Path) => StaticKind::Path,
            Some(Kind::Typed(k)) => k,
            _ => StaticKind::Unknown,
        },
        ExprKind::Binary(B::And | B::Or | B::Xor, ..)
        | ExprKind::Unary(UnaryOp::Not, _)
        | ExprKind::Comparison(..)
        | ExprKind::IsNull(_)
        | ExprKind::IsNotNull(_)
        | ExprKind::HasLabels(..)
        | ExprKind::Quantified { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::Binary(
            B::Eq
            | B::Ne
            | B::Lt
            | B::Le
            | B::Gt
            | B::Ge
            | B::StartsWith
            | B::EndsWith
            | B::Contains
            | B::RegexMatch,
            ..,
        ) => StaticKind::Bool,
        ExprKind::Binary(B::Sub | B::Mul | B::Div | B::Mod, a, b) => {
            match (static_kind(a, scope), static_kind(b, scope)) {
                (StaticKind::Int, StaticKind::Int) => StaticKind::Int,
                (StaticKind::Float, StaticKind::Int | StaticKind::Float)
                | (StaticKind::Int, StaticKind::Float) => StaticKind::Float,
                _ => StaticKind::Unknown,
            }
        }
        ExprKind::Binary(B::Add, a, b) => match (static_kind(a, scope), static_kind(b, scope)) {
            (StaticKind::Int, StaticKind::Int) => StaticKind::Int,
            (StaticKind::Float, StaticKind::Int | StaticKind::Float)
            | (StaticKind::Int, StaticKind::Float) => StaticKind::Float,
            (StaticKind::String, StaticKind::String) => StaticKind::String,
            (StaticKind::List, _) | (_, StaticKind::List) => StaticKind::List,
            _ => StaticKind::Unknown,
        },
        _ => StaticKind::Unknown,
    }
}

/// The element kind of a list literal whose elements all have one known kind.
pub fn element_kind(e: &ast::Expr, scope: &Scope) -> Option<StaticKind> {
    let ExprKind::List(items) = &e.kind else {
        return None;
    };
    let mut kind = None;
    for i in items {
        let k = static_kind(i, scope);
        if matches!(k, StaticKind::Unknown | StaticKind::Null) {
            return None;
        }
        match kind {
            None => kind = Some(k),
            Some(x) if x == k => {}
            Some(_) => return None,
        }
    }
    kind
}

impl StaticKind {
    /// Known to be a value of a type other than boolean.
    pub fn not_boolean(self) -> bool {
        !matches!(
            self,
            StaticKind::Unknown | StaticKind::Null | StaticKind::Bool
        )
    }

    /// Known to be something arithmetic other than `+` cannot take.
    pub fn not_numeric(self) -> bool {
        !matches!(
            self,
            StaticKind::Unknown | StaticKind::Null | StaticKind::Int | StaticKind::Float
        )
    }
}
