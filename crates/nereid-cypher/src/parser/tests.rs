//! Parser unit tests: expression shapes (as S-expressions), clauses, patterns, errors with
//! positions, and the nesting bound on a 2 MiB stack.

use crate::ast::*;
use crate::{line_col, parse, subquery_count};
use nereid_common::{Error, ErrorCode, Phase};

fn ok(text: &str) -> Statement {
    match parse(text) {
        Ok(s) => s,
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

fn err(text: &str) -> Error {
    match parse(text) {
        Ok(s) => panic!("{text:?} should fail, got {s:?}"),
        Err(e) => {
            assert_eq!(e.phase, Phase::CompileTime);
            e
        }
    }
}

fn clauses(text: &str) -> Vec<ClauseKind> {
    ok(text)
        .query
        .first
        .clauses
        .into_iter()
        .map(|c| c.kind)
        .collect()
}

/// The first RETURN item's expression of `RETURN <expr>`.
fn expr(text: &str) -> Expr {
    let q = format!("RETURN {text}");
    match clauses(&q).into_iter().next() {
        Some(ClauseKind::Return(r)) => r.projection.items[0].expr.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

fn where_of(text: &str) -> Expr {
    match clauses(text).into_iter().next() {
        Some(ClauseKind::Match(m)) => m.where_.expect("a WHERE"),
        other => panic!("unexpected {other:?}"),
    }
}

fn bin(op: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match op {
        Or => "or",
        Xor => "xor",
        And => "and",
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
        Pow => "^",
        Eq => "=",
        Ne => "<>",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        In => "in",
        StartsWith => "starts",
        EndsWith => "ends",
        Contains => "contains",
        RegexMatch => "=~",
    }
}

/// A compact S-expression of an expression's shape.
fn sx(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Integer(i)) => i.to_string(),
        ExprKind::Literal(Literal::Float(f)) => format!("{f:?}"),
        ExprKind::Literal(Literal::String(s)) => format!("'{s}'"),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::Null) => "null".into(),
        ExprKind::Parameter(p) => format!("${p}"),
        ExprKind::Variable(v) => v.clone(),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(sx).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", k.name, sx(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Property(e, k) => format!("(. {} {})", sx(e), k.name),
        ExprKind::Index(a, b) => format!("(idx {} {})", sx(a), sx(b)),
        ExprKind::Slice(a, f, t) => format!(
            "(slice {} {} {})",
            sx(a),
            f.as_deref().map_or("_".into(), sx),
            t.as_deref().map_or("_".into(), sx)
        ),
        ExprKind::Unary(op, e) => {
            let name = match op {
                UnaryOp::Not => "not",
                UnaryOp::Neg => "neg",
                UnaryOp::Plus => "pos",
            };
            format!("({name} {})", sx(e))
        }
        ExprKind::Binary(op, a, b) => format!("({} {} {})", bin(*op), sx(a), sx(b)),
        ExprKind::Comparison(first, rest) => {
            let mut s = format!("(cmp {}", sx(first));
            for (op, e) in rest {
                s.push_str(&format!(" {} {}", bin(*op), sx(e)));
            }
            s + ")"
        }
        ExprKind::IsNull(e) => format!("(isnull {})", sx(e)),
        ExprKind::IsNotNull(e) => format!("(notnull {})", sx(e)),
        ExprKind::HasLabels(e, l) => format!(
            "(labels {} {})",
            sx(e),
            l.iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(":")
        ),
        ExprKind::FunctionCall {
            name,
            distinct,
            args,
        } => format!(
            "({}{}{})",
            name.iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join("."),
            if *distinct { " distinct" } else { "" },
            args.iter()
                .map(|a| format!(" {}", sx(a)))
                .collect::<String>()
        ),
        ExprKind::CountStar => "count(*)".into(),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => format!(
            "(case{}{}{})",
            operand
                .as_deref()
                .map_or(String::new(), |o| format!(" {}", sx(o))),
            whens
                .iter()
                .map(|(w, t)| format!(" (when {} {})", sx(w), sx(t)))
                .collect::<String>(),
            else_
                .as_deref()
                .map_or(String::new(), |e| format!(" (else {})", sx(e)))
        ),
        ExprKind::ListComprehension {
            variable,
            list,
            where_,
            map,
        } => format!(
            "(listcomp {} {} {} {})",
            variable.name,
            sx(list),
            where_.as_deref().map_or("_".into(), sx),
            map.as_deref().map_or("_".into(), sx)
        ),
        ExprKind::PatternComprehension {
            variable,
            pattern,
            where_,
            map,
        } => format!(
            "(patcomp {} {} {} {})",
            variable.as_ref().map_or("_", |v| v.name.as_str()),
            pattern.chain.len(),
            where_.as_deref().map_or("_".into(), sx),
            sx(map)
        ),
        ExprKind::Quantified {
            quantifier,
            variable,
            list,
            where_,
        } => format!(
            "({quantifier:?} {} {} {})",
            variable.name,
            sx(list),
            where_.as_deref().map_or("_".into(), sx)
        ),
        ExprKind::Reduce {
            accumulator,
            init,
            variable,
            list,
            expr,
        } => format!(
            "(reduce {} {} {} {} {})",
            accumulator.name,
            sx(init),
            variable.name,
            sx(list),
            sx(expr)
        ),
        ExprKind::MapProjection { variable, items } => format!(
            "(mapproj {}{})",
            variable.name,
            items
                .iter()
                .map(|i| match i {
                    MapProjectionItem::Literal { key, value } =>
                        format!(" {}:{}", key.name, sx(value)),
                    MapProjectionItem::Property(k) => format!(" .{}", k.name),
                    MapProjectionItem::Variable(v) => format!(" {}", v.name),
                    MapProjectionItem::AllProperties => " .*".into(),
                })
                .collect::<String>()
        ),
        ExprKind::PatternPredicate(p) => format!("(pattern {})", p.chain.len()),
        ExprKind::ExistsSubquery(body) => match body.as_ref() {
            ExistsBody::Pattern { where_, .. } => format!(
                "(exists-pattern {})",
                where_.as_ref().map_or("_".into(), sx)
            ),
            ExistsBody::Query(q) => format!("(exists-query {})", q.first.clauses.len()),
        },
        ExprKind::CountSubquery(body) => match body.as_ref() {
            ExistsBody::Pattern { where_, .. } => {
                format!("(count-pattern {})", where_.as_ref().map_or("_".into(), sx))
            }
            ExistsBody::Query(q) => format!("(count-query {})", q.first.clauses.len()),
        },
        ExprKind::CollectSubquery(q) => format!("(collect-query {})", q.first.clauses.len()),
    }
}

fn shape(text: &str) -> String {
    sx(&expr(text))
}

#[test]
fn boolean_precedence() {
    assert_eq!(shape("a OR b XOR c AND d"), "(or a (xor b (and c d)))");
    assert_eq!(shape("NOT a AND b"), "(and (not a) b)");
    assert_eq!(shape("NOT a = b"), "(not (= a b))");
    assert_eq!(shape("NOT NOT a"), "(not (not a))");
    assert_eq!(shape("a OR b OR c"), "(or (or a b) c)");
}

#[test]
fn comparison_chains() {
    assert_eq!(shape("a < b"), "(< a b)");
    assert_eq!(shape("a < b <= c = d"), "(cmp a < b <= c = d)");
    assert_eq!(shape("a = b IS NULL"), "(= a (isnull b))");
    assert_eq!(
        shape("false = true IN [true]"),
        "(= false (in true [true]))"
    );
}

#[test]
fn predicates_bind_looser_than_arithmetic() {
    assert_eq!(shape("[1]+2 IN [3]+4"), "(in (+ [1] 2) (+ [3] 4))");
    assert_eq!(
        shape("'a' + 'b' STARTS WITH 'ab'"),
        "(starts (+ 'a' 'b') 'ab')"
    );
    assert_eq!(shape("x ENDS WITH y CONTAINS z"), "(contains (ends x y) z)");
    assert_eq!(shape("x =~ 'a.*' IS NOT NULL"), "(notnull (=~ x 'a.*'))");
    assert_eq!(shape("a IS NULL IS NULL"), "(isnull (isnull a))");
}

#[test]
fn arithmetic_precedence_and_associativity() {
    assert_eq!(shape("1 + 2 * 3 - 4"), "(- (+ 1 (* 2 3)) 4)");
    assert_eq!(shape("12 / 4 % 3"), "(% (/ 12 4) 3)");
    assert_eq!(shape("2 ^ 3 ^ 2"), "(^ (^ 2 3) 2)");
    assert_eq!(shape("4 * 2 ^ 3"), "(* 4 (^ 2 3))");
    // Unary minus binds tighter than ^ in openCypher; on a literal it is folded.
    assert_eq!(shape("-3 ^ 2"), "(^ -3 2)");
    assert_eq!(shape("-x ^ 2"), "(^ (neg x) 2)");
    assert_eq!(shape("- -x"), "(neg (neg x))");
    assert_eq!(shape("+x"), "(pos x)");
    assert_eq!(shape("-x.y"), "(neg (. x y))");
    assert_eq!(shape("-1[0]"), "(neg (idx 1 0))");
}

#[test]
fn integer_literal_bounds() {
    assert_eq!(shape("-9223372036854775808"), i64::MIN.to_string());
    assert_eq!(shape("9223372036854775807"), i64::MAX.to_string());
    assert_eq!(shape("-0x8000000000000000"), i64::MIN.to_string());
    assert_eq!(shape("0o777"), "511");
    assert_eq!(shape("-0"), "0");
    for text in [
        "RETURN 9223372036854775808",
        "RETURN -9223372036854775809",
        "RETURN 0x8000000000000000",
        "RETURN -0x8000000000000001",
        "RETURN 0o1000000000000000000000",
        "RETURN 123456789012345678901234567890",
        "RETURN - 9223372036854775808.x",
    ] {
        assert_eq!(err(text).code, ErrorCode::IntegerOverflow, "{text}");
    }
}

#[test]
fn float_literals() {
    assert_eq!(shape(".5"), "0.5");
    assert_eq!(shape("-.1e-5"), "-1e-6");
    assert_eq!(shape("1e308"), "1e308");
    assert_eq!(
        err("RETURN 1.34E999").code,
        ErrorCode::FloatingPointOverflow
    );
    assert_eq!(err("RETURN -1e999").code, ErrorCode::FloatingPointOverflow);
    // Underflow is not an error.
    assert_eq!(shape("1e-999"), "0.0");
}

#[test]
fn malformed_literals_have_precise_codes() {
    for (text, code) in [
        ("RETURN 0x AS literal", ErrorCode::InvalidNumberLiteral),
        ("RETURN 0x1A2b3j4D5E6f7", ErrorCode::InvalidNumberLiteral),
        ("RETURN 9223372h54775808", ErrorCode::InvalidNumberLiteral),
        ("RETURN 9223372#54775808", ErrorCode::UnexpectedSyntax),
        ("RETURN '\\uH'", ErrorCode::InvalidUnicodeLiteral),
        ("RETURN 42 — 41", ErrorCode::InvalidUnicodeCharacter),
        ("RETURN {1B2c3e67:1}", ErrorCode::UnexpectedSyntax),
        ("RETURN {k1.k: 1}", ErrorCode::UnexpectedSyntax),
        ("RETURN [, ]", ErrorCode::UnexpectedSyntax),
        ("RETURN {k: {k: {}}", ErrorCode::UnexpectedSyntax),
        ("RETURN 'abc", ErrorCode::UnexpectedSyntax),
        ("RETURN 'a\\qb'", ErrorCode::UnexpectedSyntax),
    ] {
        assert_eq!(err(text).code, code, "{text}");
    }
}

#[test]
fn postfix_chains() {
    assert_eq!(
        shape("a.b[0][1..2]:L:M"),
        "(labels (slice (idx (. a b) 0) 1 2) L:M)"
    );
    assert_eq!(shape("l[..2]"), "(slice l _ 2)");
    assert_eq!(shape("l[1..]"), "(slice l 1 _)");
    assert_eq!(shape("n.`weird key`"), "(. n weird key)");
    assert_eq!(shape("n.count"), "(. n count)");
}

#[test]
fn function_calls() {
    assert_eq!(shape("count(*)"), "count(*)");
    assert_eq!(shape("count(DISTINCT x)"), "(count distinct x)");
    assert_eq!(shape("a.b.c(x, 1)"), "(a.b.c x 1)");
    assert_eq!(shape("toUpper('a')"), "(toUpper 'a')");
    assert_eq!(shape("rand()"), "(rand)");
    assert_eq!(shape("exists(n.prop)"), "(exists (. n prop))");
}

#[test]
fn case_expressions() {
    assert_eq!(
        shape("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END"),
        "(case x (when 1 'a') (when 2 'b') (else 'c'))"
    );
    assert_eq!(
        shape("CASE WHEN a > 1 THEN 1 END"),
        "(case (when (> a 1) 1))"
    );
    assert_eq!(
        err("RETURN CASE x ELSE 1 END").code,
        ErrorCode::UnexpectedSyntax
    );
}

#[test]
fn comprehensions_quantifiers_reduce() {
    assert_eq!(
        shape("[x IN list WHERE x > 1 | x * 2]"),
        "(listcomp x list (> x 1) (* x 2))"
    );
    assert_eq!(shape("[x IN list]"), "(listcomp x list _ _)");
    assert_eq!(
        shape("[p = (a)-->(b) WHERE b.x | p]"),
        "(patcomp p 1 (. b x) p)"
    );
    assert_eq!(shape("[(a)-[:T]->()-->(c) | c]"), "(patcomp _ 2 _ c)");
    // Not a pattern comprehension: a list of one parenthesised expression.
    assert_eq!(shape("[(a), (b)]"), "[a b]");
    assert_eq!(shape("[a = 1]"), "[(= a 1)]");
    assert_eq!(shape("all(x IN xs WHERE x > 0)"), "(All x xs (> x 0))");
    assert_eq!(shape("single(x IN xs)"), "(Single x xs _)");
    assert_eq!(
        shape("reduce(acc = 0, x IN xs | acc + x)"),
        "(reduce acc 0 x xs (+ acc x))"
    );
}

#[test]
fn maps_and_map_projections() {
    assert_eq!(
        shape("{a: 1, `b c`: 'x', RETURN: 2}"),
        "{a:1 b c:'x' RETURN:2}"
    );
    assert_eq!(shape("{}"), "{}");
    assert_eq!(
        shape("n {.name, .*, age: n.age + 1, other}"),
        "(mapproj n .name .* age:(+ (. n age) 1) other)"
    );
}

#[test]
fn pattern_predicates_only_where_a_boolean_is_tested() {
    assert_eq!(
        sx(&where_of("MATCH (n) WHERE (n)-->() RETURN n")),
        "(pattern 1)"
    );
    assert_eq!(
        sx(&where_of(
            "MATCH (n) WHERE NOT (n)-[:T]->() AND ((n)<--() OR n.x) RETURN n"
        )),
        "(and (not (pattern 1)) (or (pattern 1) (. n x)))"
    );
    assert_eq!(shape("exists((n)-->())"), "(exists (pattern 1))");
    // A generic CASE tests booleans; a simple CASE compares values.
    assert_eq!(
        shape("CASE WHEN (n)-->() THEN 1 END"),
        "(case (when (pattern 1) 1))"
    );
    assert_eq!(
        err("RETURN CASE x WHEN (n)-->() THEN 1 END").code,
        ErrorCode::UnexpectedSyntax
    );
    // A parenthesised variable is not a pattern.
    assert_eq!(sx(&where_of("MATCH (n) WHERE (n) RETURN n")), "n");
    for text in [
        "MATCH (n) RETURN (n)-[]->()",
        "MATCH (n) WITH (n)-[]->() AS x RETURN x",
        "MATCH (n) SET n.prop = head(nodes(head((n)-[:REL]->()))).foo",
        "MATCH (a) RETURN size((a)-->())",
        "MATCH (a) WHERE (a)-->() = true RETURN a",
        "MATCH (a) WHERE x = (a)-->() RETURN a",
    ] {
        let e = err(text);
        assert_eq!(e.code, ErrorCode::UnexpectedSyntax, "{text}");
        assert!(e.message.contains("pattern expression"), "{text}: {e}");
    }
}

#[test]
fn exists_subqueries() {
    assert_eq!(
        sx(&where_of(
            "MATCH (n) WHERE exists { (n)-->(m) WHERE n.p = m.p } RETURN n"
        )),
        "(exists-pattern (= (. n p) (. m p)))"
    );
    assert_eq!(
        sx(&where_of(
            "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) WITH n, count(*) AS c WHERE c = 3 RETURN true } RETURN n"
        )),
        "(exists-query 3)"
    );
}

#[test]
fn projection_text_is_verbatim() {
    match &clauses("MATCH (n) RETURN aVg(    n.aGe     ), (1 + 2) AS three, n.x+1")[1] {
        ClauseKind::Return(r) => {
            let items = &r.projection.items;
            assert_eq!(items[0].text, "aVg(    n.aGe     )");
            assert_eq!(items[1].text, "(1 + 2)");
            assert_eq!(
                items[1].alias.as_ref().map(|a| a.name.as_str()),
                Some("three")
            );
            assert_eq!(items[2].text, "n.x+1");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn projection_options() {
    match &clauses(
        "MATCH (n) WITH DISTINCT *, n.x AS x ORDER BY x DESC, n.y ASCENDING SKIP 1 LIMIT $l WHERE x > 1 RETURN *",
    )[1]
    {
        ClauseKind::With(w) => {
            let p = &w.projection;
            assert!(p.distinct && p.star);
            assert_eq!(p.items.len(), 1);
            assert_eq!(p.order_by.len(), 2);
            assert!(p.order_by[0].descending && !p.order_by[1].descending);
            assert_eq!(p.skip.as_ref().map(sx).as_deref(), Some("1"));
            assert_eq!(p.limit.as_ref().map(sx).as_deref(), Some("$l"));
            assert_eq!(w.where_.as_ref().map(sx).as_deref(), Some("(> x 1)"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn keywords_are_case_insensitive() {
    let s = ok("match (n) where n.x is not null return distinct n order by n.x desc limit 1");
    assert_eq!(s.query.first.clauses.len(), 2);
}

#[test]
fn update_clauses() {
    let cs = clauses(
        "MATCH (n) SET n.a = 1, n = {b: 2}, n += $m, n:A:B, (n).c = 3 REMOVE n:C, n.d DETACH DELETE n DELETE m",
    );
    match &cs[1] {
        ClauseKind::Set(items) => {
            assert!(matches!(items[0], SetItem::Property { .. }));
            assert!(matches!(items[1], SetItem::Variable { merge: false, .. }));
            assert!(matches!(items[2], SetItem::Variable { merge: true, .. }));
            assert!(matches!(&items[3], SetItem::Labels { labels, .. } if labels.len() == 2));
            assert!(matches!(items[4], SetItem::Property { .. }));
        }
        other => panic!("unexpected {other:?}"),
    }
    match &cs[2] {
        ClauseKind::Remove(items) => {
            assert!(matches!(items[0], RemoveItem::Labels { .. }));
            assert!(matches!(items[1], RemoveItem::Property { .. }));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(&cs[3], ClauseKind::Delete(d) if d.detach));
    assert!(matches!(&cs[4], ClauseKind::Delete(d) if !d.detach));
}

#[test]
fn merge_actions() {
    match &clauses(
        "MERGE (n:P {id: 1}) ON CREATE SET n.c = 1 ON MATCH SET n.m = 1, n.k = 2 ON CREATE SET n:New",
    )[0]
    {
        ClauseKind::Merge(m) => {
            assert_eq!(m.pattern.element.start.labels[0].name, "P");
            let kinds: Vec<(bool, usize)> = m
                .actions
                .iter()
                .map(|a| (a.on_create, a.items.len()))
                .collect();
            assert_eq!(kinds, vec![(true, 1), (false, 2), (true, 1)]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unwind_and_union() {
    let s = ok("UNWIND [1, 2] AS x RETURN x UNION ALL RETURN 3 AS x UNION RETURN 4 AS x");
    assert_eq!(s.query.unions.len(), 2);
    assert!(s.query.unions[0].all);
    assert!(!s.query.unions[1].all);
    assert!(
        matches!(&s.query.first.clauses[0].kind, ClauseKind::Unwind(u) if u.variable.name == "x")
    );
}

#[test]
fn procedure_calls() {
    match &clauses("CALL db.labels")[0] {
        ClauseKind::Call(c) => {
            assert_eq!(c.procedure.len(), 2);
            assert!(c.args.is_none() && c.yield_.is_none());
        }
        other => panic!("unexpected {other:?}"),
    }
    match &clauses("CALL test.my.proc('a', 1) YIELD a, b AS c WHERE c > 1 RETURN a, c")[0] {
        ClauseKind::Call(c) => {
            assert_eq!(c.procedure.len(), 3);
            assert_eq!(c.args.as_ref().map(Vec::len), Some(2));
            let y = c.yield_.as_ref().expect("yield");
            assert_eq!(y.items.len(), 2);
            assert_eq!(
                y.items[1].alias.as_ref().map(|a| a.name.as_str()),
                Some("c")
            );
            assert!(y.where_.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        matches!(&clauses("CALL p() YIELD *")[0], ClauseKind::Call(c) if c.yield_.as_ref().is_some_and(|y| y.star))
    );
    let e = err("CALL test.my.proc('Stefan', 1) YIELD *\nRETURN city");
    assert_eq!(e.code, ErrorCode::UnexpectedSyntax);
    assert!(e.message.contains("line 1, column 38"), "{e}");
}

fn first_pattern(text: &str) -> Pattern {
    match clauses(text).into_iter().next() {
        Some(ClauseKind::Match(m)) => m.pattern,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn node_and_relationship_patterns() {
    let p = first_pattern(
        "MATCH p = (a:A:B {x: 1})<-[r:T|:U|V {y: 2}]-(b $props)-->(c)<-->(d)--(e), shortestPath((a)-[*]->(e)) RETURN p",
    );
    assert_eq!(p.parts.len(), 2);
    let first = &p.parts[0];
    assert_eq!(first.variable.as_ref().map(|v| v.name.as_str()), Some("p"));
    assert_eq!(first.element.start.labels.len(), 2);
    assert!(first.element.start.properties.is_some());
    let chain = &first.element.chain;
    assert_eq!(chain[0].0.direction, Direction::Incoming);
    assert_eq!(
        chain[0]
            .0
            .types
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["T", "U", "V"]
    );
    assert!(
        matches!(chain[0].1.properties.as_ref().map(|e| &e.kind), Some(ExprKind::Parameter(p)) if p == "props")
    );
    assert_eq!(chain[1].0.direction, Direction::Outgoing);
    assert_eq!(chain[2].0.direction, Direction::Both);
    assert_eq!(chain[3].0.direction, Direction::Both);
    assert_eq!(p.parts[1].kind, PathKind::ShortestPath);
    let all = first_pattern("MATCH allShortestPaths((a)-[:T*..5]-(b)) RETURN a");
    assert_eq!(all.parts[0].kind, PathKind::AllShortestPaths);
}

#[test]
fn variable_length_ranges() {
    let range = |text: &str| {
        let p = first_pattern(&format!("MATCH (a)-[{text}]->(b) RETURN a"));
        p.parts[0].element.chain[0].0.length
    };
    let r = |min, max| Some(LengthRange { min, max });
    assert_eq!(range(""), None);
    assert_eq!(range(":T"), None);
    assert_eq!(range("*"), r(None, None));
    assert_eq!(range("*2"), r(Some(2), Some(2)));
    assert_eq!(range("*1..3"), r(Some(1), Some(3)));
    assert_eq!(range("*..3"), r(None, Some(3)));
    assert_eq!(range("*2.."), r(Some(2), None));
    assert_eq!(range("r:T*0..2 {x: 1}"), r(Some(0), Some(2)));
    assert_eq!(
        err("MATCH (a)-[:LIKES..]->(c) RETURN c").code,
        ErrorCode::InvalidRelationshipPattern
    );
    assert_eq!(
        err("MATCH (a)-[:LIKES*-2]->(c) RETURN c").code,
        ErrorCode::InvalidRelationshipPattern
    );
}

#[test]
fn hints_and_modes() {
    let s = ok("USING QUERY:TIMEOUTMILLISECONDS 500 USING QUERY: PLANCACHE \"disabled\" using query:x y EXPLAIN MATCH (n) RETURN n");
    assert_eq!(s.mode, StatementMode::Explain);
    assert_eq!(s.hints.len(), 3);
    assert_eq!(s.hints[0].name, "TIMEOUTMILLISECONDS");
    assert_eq!(s.hints[0].value, HintValue::Integer(500));
    assert_eq!(s.hints[1].value, HintValue::String("disabled".into()));
    assert_eq!(s.hints[2].value, HintValue::Identifier("y".into()));
    assert_eq!(ok("PROFILE RETURN 1").mode, StatementMode::Profile);
    assert_eq!(ok("RETURN 1;").mode, StatementMode::Execute);
    assert_eq!(
        err("USING QUERY:TIMEOUTMILLISECONDS 99999999999999999999 RETURN 1").code,
        ErrorCode::IntegerOverflow
    );
}

#[test]
fn error_messages_name_token_expectation_and_position() {
    let e = err("MATCH (n RETURN n");
    assert_eq!(e.code, ErrorCode::UnexpectedSyntax);
    assert_eq!(
        e.message,
        "Invalid input 'RETURN': expected a label, a property map or ')' (line 1, column 10 (offset: 9))"
    );
    let e = err("MATCH (n)\nWHERE n.x = \nRETURN n");
    assert!(
        e.message
            .starts_with("Invalid input 'RETURN': expected an expression"),
        "{e}"
    );
    assert!(
        e.message.ends_with("(line 3, column 1 (offset: 23))"),
        "{e}"
    );
    let e = err("MATCH (n) RETURN n LIMIT");
    assert!(e.message.starts_with("Unexpected end of input"), "{e}");
    let e = err("RETURN 1 FOO");
    assert!(e.message.contains("expected AS"), "{e}");
    assert!(e.message.contains("end of input"), "{e}");
    let e = err("MATHC (n) RETURN n");
    assert!(e.message.contains("a clause (MATCH"), "{e}");
}

#[test]
fn error_columns_count_characters_and_offsets_count_bytes() {
    let e = err("RETURN 'é', ü ü");
    assert!(
        e.message.ends_with("(line 1, column 15 (offset: 16))"),
        "{e}"
    );
}

#[test]
fn empty_queries_are_rejected_clearly() {
    for text in ["", "   \n\t", "// only a comment", "/* c */"] {
        let e = err(text);
        assert_eq!(e.code, ErrorCode::UnexpectedSyntax);
        assert!(e.message.starts_with("Empty query"), "{text:?}: {e}");
    }
}

#[test]
fn reserved_words_are_not_variables_but_are_names() {
    assert_eq!(
        err("MATCH (return) RETURN 1").code,
        ErrorCode::UnexpectedSyntax
    );
    let s = ok("MATCH (n:Match {return: 1})-[:WITH]->(`return`) RETURN n.where, `return`");
    assert_eq!(s.query.first.clauses.len(), 2);
}

/// Runs `f` on a thread with a 2 MiB stack, the default for spawned Rust threads.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow or panic")
}

#[test]
fn hostile_nesting_gets_a_coded_error_not_a_stack_overflow() {
    let results = on_small_stack(|| {
        let n = 100_000;
        let inputs = [
            format!("RETURN {}", "(".repeat(n)),
            format!("RETURN {}1{}", "(".repeat(n), ")".repeat(n)),
            format!("RETURN {}", "[".repeat(n)),
            format!("RETURN {}", "{a:".repeat(n)),
            format!("RETURN {}x", "NOT ".repeat(n)),
            format!("RETURN {}x", "- ".repeat(n)),
            format!("MATCH {}", "(".repeat(n)),
            format!("RETURN {}", "[x IN ".repeat(n)),
            format!("RETURN {}", "CASE WHEN ".repeat(n)),
            format!("RETURN {}", "f(".repeat(n)),
            format!("MATCH (n) WHERE {}", "EXISTS { MATCH (n) WHERE ".repeat(n)),
            format!("RETURN {}", "(a {x: ".repeat(n)),
            format!("RETURN {}", vec!["1"; n].join(" + ")),
            format!("RETURN x{}", ".k".repeat(n)),
            format!("RETURN {}", vec!["x"; n].join(" OR ")),
            format!("RETURN x{}", " IS NULL".repeat(n)),
        ];
        inputs
            .iter()
            .map(|q| parse(q).map(|_| ()).map_err(|e| (e.code, e.message)))
            .collect::<Vec<_>>()
    });
    for r in results {
        let (code, message) = r.expect_err("hostile input must be rejected");
        assert_eq!(code, ErrorCode::UnexpectedSyntax);
        assert!(message.contains("levels deep"), "{message}");
    }
}

#[test]
fn reasonable_nesting_parses_on_a_small_stack() {
    on_small_stack(|| {
        let depth = 400;
        let chain = 450;
        for q in [
            format!("RETURN {}1{}", "(".repeat(depth), ")".repeat(depth)),
            format!("RETURN {}{}", "[".repeat(depth), "]".repeat(depth)),
            format!("RETURN {}1{}", "{a:".repeat(depth), "}".repeat(depth)),
            format!("RETURN {}x", "NOT ".repeat(depth)),
            format!("RETURN {}", vec!["1"; chain].join(" + ")),
            format!("RETURN x{}", ".k".repeat(chain)),
        ] {
            if let Err(e) = parse(&q) {
                panic!("nesting {depth} must parse: {e}");
            }
        }
    });
}

#[test]
fn subqueries_are_counted() {
    let count = |q: &str| subquery_count(&ok(q));
    assert_eq!(count("MATCH (n) RETURN n"), 0);
    assert_eq!(
        count("MATCH (n) WHERE (n)-->() AND exists(n.x) RETURN n"),
        0
    );
    assert_eq!(
        count("RETURN 1 AS x UNION RETURN 2 AS x UNION ALL RETURN 3 AS x"),
        2
    );
    assert_eq!(
        count("MATCH (n) WHERE exists { MATCH (m) WHERE exists { (n)-->(m) } RETURN m } RETURN n"),
        2
    );
    assert_eq!(
        count("MATCH (n) WITH n WHERE EXISTS { (n)-->() } RETURN [x IN [1] WHERE EXISTS { (n)<--() }] AS l"),
        2
    );
    assert_eq!(
        count("MATCH (n) CALL { WITH n RETURN COUNT { (n)-->() } AS c UNION RETURN 1 AS c } RETURN COLLECT { RETURN 1 } AS l, c"),
        4
    );
}

#[test]
fn count_and_collect_subqueries() {
    assert_eq!(
        sx(&where_of(
            "MATCH (n) WHERE COUNT { (n)-->(m) WHERE m.p } > 1 RETURN n"
        )),
        "(> (count-pattern (. m p)) 1)"
    );
    assert_eq!(
        sx(&where_of(
            "MATCH (n) WHERE count { MATCH (n)-->(m) RETURN m } = 0 RETURN n"
        )),
        "(= (count-query 2) 0)"
    );
    assert_eq!(
        sx(&where_of(
            "MATCH (n) WHERE size(COLLECT { MATCH (n)-->(m) RETURN m.x }) = 2 RETURN n"
        )),
        "(= (size (collect-query 2)) 2)"
    );
}

#[test]
fn call_subqueries() {
    let call = |q: &str| match ok(q).query.first.clauses.into_iter().nth(1).map(|c| c.kind) {
        Some(ClauseKind::CallSubquery(c)) => c,
        other => panic!("{q}: {other:?}"),
    };
    let c = call("MATCH (n) CALL { WITH n MATCH (n)-->(m) RETURN m } RETURN n, m");
    assert_eq!(c.imports, None);
    assert_eq!(c.query.first.clauses.len(), 3);
    let c =
        call("MATCH (n) CALL (n) { MATCH (n)-->(m) RETURN m UNION MATCH (m) RETURN m } RETURN m");
    assert!(
        matches!(&c.imports, Some(CallImports::Variables(v)) if v.len() == 1 && v[0].name == "n")
    );
    assert_eq!(c.query.unions.len(), 1);
    let c = call("MATCH (n) CALL (*) { CREATE (:X) } RETURN n");
    assert_eq!(c.imports, Some(CallImports::All));
    let c = call("MATCH (n) CALL () { CREATE (:X) } RETURN n");
    assert_eq!(c.imports, Some(CallImports::Variables(vec![])));
    // A procedure call is still one.
    assert!(matches!(
        ok("MATCH (n) CALL db.labels() YIELD label RETURN label")
            .query
            .first
            .clauses[1]
            .kind,
        ClauseKind::Call(_)
    ));
    let e = parse("MATCH (n) CALL { CREATE (:X) } IN TRANSACTIONS RETURN n").unwrap_err();
    assert!(e.message.contains("IN TRANSACTIONS"), "{e}");
}

#[test]
fn line_col_counts_lines_and_characters() {
    let text = "ab\ncé\nx";
    assert_eq!(line_col(text, 0), (1, 1));
    assert_eq!(line_col(text, 3), (2, 1));
    assert_eq!(line_col(text, 6), (2, 3)); // after 'é' (2 bytes)
    assert_eq!(line_col(text, 7), (3, 1));
    assert_eq!(line_col(text, 100), (3, 2));
    assert_eq!(line_col(text, 5), (2, 2)); // inside 'é': clamped to its start
}

#[test]
fn spans_cover_source_text() {
    let text = "MATCH (n) WHERE n.x   >  1 RETURN n";
    let w = where_of(text);
    assert_eq!(&text[w.span.start..w.span.end], "n.x   >  1");
    let s = ok(text);
    let c = &s.query.first.clauses[0];
    assert_eq!(
        &text[c.span.start..c.span.end],
        "MATCH (n) WHERE n.x   >  1"
    );
}

#[test]
fn nested_ambiguities_parse_in_polynomial_time() {
    let started = std::time::Instant::now();
    let n = 120;
    // Patterns inside property maps inside lists: every `[(` is ambiguous, and each level
    // is tried as a pattern comprehension, then as a list.
    let q = format!(
        "MATCH (a) WHERE {}1{} RETURN a",
        "[(a {x: ".repeat(n),
        "})-->()]".repeat(n)
    );
    let _ = parse(&q);
    let q = format!(
        "MATCH (a) WHERE {}1{} RETURN a",
        "((a {x: ".repeat(n),
        "})-->())".repeat(n)
    );
    let _ = parse(&q);
    let q = format!("RETURN {}1{}", "[(a {x: ".repeat(n), "})]".repeat(n));
    let _ = parse(&q);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_text_whose_tree_would_exceed_the_budget_is_refused_before_parsing() {
    use crate::{parse_within, PARSE_BYTES_PER_TOKEN};
    // `RETURN [1,1,...,1]`: 1 + 1 + 2n - 1 + 1 tokens for n elements.
    let list = |n: usize| format!("RETURN [{}]", vec!["1"; n].join(","));
    let tokens = |n: usize| 2 * n + 2;
    let budget = tokens(1000) * PARSE_BYTES_PER_TOKEN;
    assert!(parse_within(&list(1000), budget).is_ok());
    let e = parse_within(&list(1001), budget).unwrap_err();
    assert_eq!(e.code, ErrorCode::QueryTooLarge, "{e}");
    assert!(e.message.contains("more than 2002 tokens"), "{}", e.message);
    // The same text parses without a budget.
    assert!(parse(&list(1001)).is_ok());
}
