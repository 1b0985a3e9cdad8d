//! Dialects: Neptune's openCypher (the server's default) and the full openCypher language.
//!
//! One engine serves both. The differences are a few data-model switches (in the store:
//! Neptune's default label `vertex` and its refusal to remove a node's last label, see
//! `nereid_storage::Store::set_labelled_nodes`) and the checks here, which run on the parsed
//! statement before binding, so that a query written against nereid in the Neptune dialect
//! is refused exactly where Neptune's documentation says Neptune refuses it:
//!
//! | construct | Neptune dialect |
//! |---|---|
//! | `shortestPath()`, `allShortestPaths()` | refused |
//! | `CALL proc(...)` (procedures) | refused |
//! | `FOREACH`, `MANDATORY MATCH` | refused (Neptune's message, not a syntax error) |
//! | `COUNT { }`, `COLLECT { }` | refused |
//! | updating clauses in a query with `UNION` or in `CALL { }` | refused |
//! | `SKIP`/`LIMIT` other than literals, parameters and arithmetic on them | refused |
//! | the `^` operator | refused |
//! | `<` `<=` `>` `>=` on an operand that is by its form a list, map or path | refused |
//!
//! Where Neptune's documentation is silent, the query is accepted. The refusals are
//! `UnsupportedOperationException` (400) with Neptune's wording ("… is not supported in this
//! release.", as in its documented answer for unsupported functions) and the position.
//! [`unsupported_syntax`] also turns the syntax error of a construct nereid does not parse
//! at all (`MANDATORY MATCH`) into a precise message in both dialects.

use nereid_common::{Error, ErrorCode, Result};
use nereid_cypher::ast::{self, BinaryOp, ClauseKind, ExistsBody, ExprKind, PathKind};
use nereid_cypher::lexer::{tokenize, TokenKind};

use super::scope::Errors;

/// Which openCypher the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Amazon Neptune's openCypher: its data model, extensions and restrictions.
    Neptune,
    /// The full openCypher language (what the TCK checks); the engine library's default.
    #[default]
    OpenCypher,
}

impl Dialect {
    /// Parses `neptune` or `opencypher` (any case).
    pub fn parse(name: &str) -> std::result::Result<Dialect, String> {
        if name.eq_ignore_ascii_case("neptune") {
            Ok(Dialect::Neptune)
        } else if name.eq_ignore_ascii_case("opencypher") {
            Ok(Dialect::OpenCypher)
        } else {
            Err(format!(
                "unknown dialect '{name}': expected neptune or opencypher"
            ))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Neptune => "neptune",
            Dialect::OpenCypher => "opencypher",
        }
    }
}

fn refuse(err: &Errors<'_>, span: ast::Span, what: &str) -> Error {
    err.at(
        ErrorCode::UnsupportedOperation,
        span,
        format!("{what} is not supported in this release."),
    )
}

/// Refuses what Neptune's openCypher refuses (see the module docs).
pub fn check_neptune(text: &str, statement: &ast::Statement) -> Result<()> {
    let err = Errors { text };
    check_query(&err, &statement.query)
}

fn check_query(err: &Errors<'_>, q: &ast::Query) -> Result<()> {
    let branches = || std::iter::once(&q.first).chain(q.unions.iter().map(|u| &u.query));
    if let Some(union) = q.unions.first() {
        let updates = branches().flat_map(|b| &b.clauses).any(|c| {
            matches!(
                c.kind,
                ClauseKind::Create(_)
                    | ClauseKind::Merge(_)
                    | ClauseKind::Set(_)
                    | ClauseKind::Remove(_)
                    | ClauseKind::Delete(_)
            )
        });
        if updates {
            return Err(refuse(
                err,
                union.span,
                "Updating the graph in a UNION query",
            ));
        }
    }
    for clause in branches().flat_map(|b| &b.clauses) {
        check_clause(err, clause)?;
    }
    let mut found = Ok(());
    nereid_cypher::visit::walk_query(q, &mut |e| {
        if found.is_ok() {
            found = check_expr(err, e);
        }
    });
    found
}

fn check_clause(err: &Errors<'_>, clause: &ast::Clause) -> Result<()> {
    match &clause.kind {
        ClauseKind::Match(m) => check_pattern(err, &m.pattern),
        ClauseKind::Call(_) => Err(refuse(err, clause.span, "CALL of procedures")),
        ClauseKind::Foreach(_) => Err(refuse(err, clause.span, "FOREACH")),
        ClauseKind::CallSubquery(c) => {
            if super::query_updates(&c.query) {
                // The wording of Neptune's openCypher compatibility checker.
                return Err(err.at(
                    ErrorCode::UnsupportedOperation,
                    clause.span,
                    "Update clauses like MERGE, CREATE, SET, REMOVE, DELETE, FOREACH not supported in call subquery",
                ));
            }
            check_query(err, &c.query)
        }
        ClauseKind::With(w) => check_skip_limit(err, &w.projection),
        ClauseKind::Return(r) => check_skip_limit(err, &r.projection),
        _ => Ok(()),
    }
}

fn check_pattern(err: &Errors<'_>, pattern: &ast::Pattern) -> Result<()> {
    for part in &pattern.parts {
        match part.kind {
            PathKind::Normal => {}
            PathKind::ShortestPath => return Err(refuse(err, part.span, "shortestPath")),
            PathKind::AllShortestPaths => return Err(refuse(err, part.span, "allShortestPaths")),
        }
    }
    Ok(())
}

fn check_skip_limit(err: &Errors<'_>, p: &ast::Projection) -> Result<()> {
    for (e, what) in [(&p.skip, "SKIP"), (&p.limit, "LIMIT")] {
        if let Some(e) = e {
            if !constant(e) {
                return Err(refuse(err, e.span, &format!("A non-constant {what}")));
            }
        }
    }
    Ok(())
}

/// Literals, parameters and arithmetic on them.
fn constant(e: &ast::Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Parameter(_) => true,
        ExprKind::Unary(_, x) => constant(x),
        ExprKind::Binary(
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod,
            a,
            b,
        ) => constant(a) && constant(b),
        _ => false,
    }
}

fn check_expr(err: &Errors<'_>, e: &ast::Expr) -> Result<()> {
    match &e.kind {
        ExprKind::Binary(BinaryOp::Pow, ..) => Err(refuse(err, e.span, "The ^ operator")),
        ExprKind::ExistsSubquery(body) => match &**body {
            ExistsBody::Pattern { pattern, .. } => check_pattern(err, pattern),
            ExistsBody::Query(q) => check_query(err, q),
        },
        ExprKind::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge, a, b)
            if composite(a) || composite(b) =>
        {
            Err(refuse(err, e.span, COMPOSITE_ORDERING))
        }
        ExprKind::Comparison(first, rest) => {
            let mut left = &**first;
            for (op, right) in rest {
                let ordering = matches!(
                    op,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                );
                if ordering && (composite(left) || composite(right)) {
                    return Err(refuse(err, e.span, COMPOSITE_ORDERING));
                }
                left = right;
            }
            Ok(())
        }
        ExprKind::CountSubquery(_) => Err(refuse(err, e.span, "COUNT { } subqueries")),
        ExprKind::CollectSubquery(_) => Err(refuse(err, e.span, "COLLECT { } subqueries")),
        _ => Ok(()),
    }
}

const COMPOSITE_ORDERING: &str = "Comparing lists, maps or paths with <, <=, > or >=";

/// Whether an expression is, by its form, a list, a map or a path (Neptune orders scalars
/// only). Values that only turn out to be lists when the query runs are not caught here.
fn composite(e: &ast::Expr) -> bool {
    match &e.kind {
        ExprKind::List(_)
        | ExprKind::Map(_)
        | ExprKind::ListComprehension { .. }
        | ExprKind::PatternComprehension { .. }
        | ExprKind::MapProjection { .. }
        | ExprKind::CollectSubquery(_) => true,
        // Functions that always return a list or a map.
        ExprKind::FunctionCall { name, .. } => {
            let n = name
                .iter()
                .map(|p| p.name.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(".");
            [
                "collect",
                "range",
                "keys",
                "labels",
                "nodes",
                "relationships",
                "properties",
                "split",
                "tail",
            ]
            .contains(&n.as_str())
        }
        _ => false,
    }
}

/// The error for a statement that failed to parse because it uses a construct nereid (or,
/// in the Neptune dialect, Neptune) does not offer, when that is why; `None` to keep the
/// syntax error.
pub fn unsupported_syntax(text: &str, dialect: Dialect) -> Option<Error> {
    let tokens = tokenize(text);
    let word = |i: usize, w: &str| {
        tokens
            .get(i)
            .is_some_and(|t| matches!(&t.kind, TokenKind::Word(x) if x.eq_ignore_ascii_case(w)))
    };
    let is = |i: usize, k: TokenKind| tokens.get(i).is_some_and(|t| t.kind == k);
    let err = Errors { text };
    for (i, t) in tokens.iter().enumerate() {
        // A property key or a map key (`n.foreach`, `{call: 1}`) is not the clause.
        if i > 0 && (is(i - 1, TokenKind::Dot) || is(i + 1, TokenKind::Colon)) {
            continue;
        }
        let found = if word(i, "MANDATORY") && word(i + 1, "MATCH") {
            Some(if dialect == Dialect::Neptune {
                "MANDATORY MATCH is not supported in this release."
            } else {
                "MANDATORY MATCH is not part of openCypher 9 and not implemented by nereid."
            })
        } else {
            None
        };
        if let Some(message) = found {
            return Some(err.at(ErrorCode::UnsupportedOperation, t.span, message));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neptune(q: &str) -> Result<()> {
        let statement = nereid_cypher::parse(q)
            .map_err(|e| unsupported_syntax(q, Dialect::Neptune).unwrap_or(e))?;
        check_neptune(q, &statement)
    }

    fn refused(q: &str) -> String {
        let e = neptune(q).expect_err(q);
        assert_eq!(
            e.code,
            ErrorCode::UnsupportedOperation,
            "{q}: {}",
            e.message
        );
        e.message
    }

    #[test]
    fn neptune_refuses_what_its_documentation_refuses() {
        let m = refused("MATCH p = shortestPath((a)-[*]-(b)) RETURN p");
        assert!(
            m.starts_with("shortestPath is not supported in this release."),
            "{m}"
        );
        assert!(m.contains("line 1, column 7"), "{m}");
        refused("MATCH p = allShortestPaths((a)-[*]-(b)) RETURN p");
        assert!(refused("CALL db.labels()").starts_with("CALL of procedures"));
        refused("MATCH (n) CALL db.labels() YIELD label RETURN label");
        refused("RETURN 2 ^ 3 AS x");
        refused("MATCH (n) RETURN n LIMIT toInteger(rand() * 10)");
        refused("MATCH (n) WITH n SKIP size([1]) RETURN n");
        refused("CREATE (a) RETURN 1 AS x UNION MATCH (b) RETURN 2 AS x");
        refused("MATCH (a) RETURN a UNION MATCH (b) DELETE b RETURN b AS a");
        refused("MATCH (n) WHERE EXISTS { MATCH p = shortestPath((n)-[*]-(m)) } RETURN n");
        let m = refused("FOREACH (x IN [1] | CREATE ())");
        assert!(
            m.starts_with("FOREACH is not supported in this release."),
            "{m}"
        );
        refused("MANDATORY MATCH (n) RETURN n");
        let m = refused("RETURN [1, 2] < [1, 3] AS x");
        assert!(m.starts_with("Comparing lists, maps or paths"), "{m}");
        refused("MATCH (n) WHERE 1 < 2 <= keys(n) RETURN n");
        refused("MATCH (n) WITH collect(n.x) AS l WHERE collect(n.y) >= l RETURN l");
        refused("RETURN {a: 1} > {a: 0} AS x");
        assert!(refused("MATCH (n) RETURN COUNT { (n)-->() } AS c").starts_with("COUNT { }"));
        refused("MATCH (n) RETURN COLLECT { MATCH (n)-->(m) RETURN m } AS c");
        let m = refused("MATCH (n) CALL { WITH n SET n.x = 1 } RETURN n");
        assert!(m.starts_with("Update clauses like MERGE"), "{m}");
        refused("MATCH (n) CALL { WITH n MATCH p = shortestPath((n)-[*]-(m)) RETURN p } RETURN p");
        refused("MATCH (n) CALL { WITH n CALL { CREATE (x) } RETURN 1 AS one } RETURN n");
    }

    #[test]
    fn neptune_accepts_the_rest() {
        for q in [
            "MATCH (n) RETURN n SKIP 1 LIMIT $l",
            "MATCH (n) RETURN n LIMIT 2 * 5",
            "MATCH (n) RETURN n.foreach AS f, {call: 1} AS m",
            "MATCH (a) RETURN a.x AS x UNION ALL MATCH (b) RETURN b.x AS x",
            "RETURN 7 % 2 AS m",
            "MATCH (a)-[*1..3]->(b) RETURN b",
            "RETURN join(['a'], ',') AS j",
            "RETURN [1] = [1] AS eq, 1 < 2 AS lt, 'a' <= 'b' AS s",
            "RETURN reverse('ab') < 'c' AS r",
            "MATCH (n) CALL { WITH n MATCH (n)-->(m) RETURN m } RETURN n, m",
            "MATCH (n) CALL { WITH n RETURN 1 AS a UNION ALL WITH n RETURN 2 AS a } RETURN a",
        ] {
            neptune(q).unwrap_or_else(|e| panic!("{q}: {}", e.message));
        }
    }

    #[test]
    fn constructs_nereid_does_not_parse_say_so_in_both_dialects() {
        for d in [Dialect::Neptune, Dialect::OpenCypher] {
            let e = unsupported_syntax("MANDATORY MATCH (n) RETURN n", d).unwrap();
            assert!(e.message.starts_with("MANDATORY MATCH"), "{}", e.message);
        }
        assert!(unsupported_syntax("MATCH (n RETURN n", Dialect::Neptune).is_none());
        assert_eq!(Dialect::parse("NEPTUNE"), Ok(Dialect::Neptune));
        assert!(Dialect::parse("cypher").is_err());
    }
}
