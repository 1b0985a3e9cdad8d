//! Bad input never panics: random token soups and mutations of valid queries either parse
//! or give a compile-time error whose position lies inside the text; spans of what parses
//! lie on character boundaries. Deterministic (a fixed-seed xorshift generator), so a
//! failure reproduces.

use nereid_common::Phase;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "MATCH",
    "OPTIONAL",
    "WHERE",
    "RETURN",
    "WITH",
    "UNWIND",
    "AS",
    "CREATE",
    "MERGE",
    "ON",
    "SET",
    "DELETE",
    "DETACH",
    "REMOVE",
    "CALL",
    "YIELD",
    "UNION",
    "ALL",
    "ORDER",
    "BY",
    "SKIP",
    "LIMIT",
    "DISTINCT",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "STARTS",
    "ENDS",
    "CONTAINS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "EXISTS",
    "count",
    "reduce",
    "any",
    "shortestPath",
    "USING",
    "QUERY",
    "EXPLAIN",
    "n",
    "m",
    "x",
    "`q`",
    "$p",
    "$0",
    "1",
    "0x1F",
    "0o7",
    "1.5",
    ".5",
    "1e3",
    "9223372036854775808",
    "'s'",
    "\"d\"",
    "'\\u00e9'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "..",
    ":",
    ";",
    "|",
    "+",
    "+=",
    "-",
    "*",
    "/",
    "%",
    "^",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "=~",
    "->",
    "<-",
    "--",
    "é",
    "—",
    "#",
    "/*",
    "*/",
    "//",
    "\n",
    " ",
    "'",
];

fn check(text: &str) {
    match nereid_cypher::parse(text) {
        Ok(statement) => {
            let span = statement.query.span;
            assert!(span.end <= text.len(), "{text:?}");
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
            nereid_cypher::visit::walk_query(&statement.query, &mut |e| {
                assert!(
                    e.span.start <= e.span.end && e.span.end <= text.len(),
                    "{text:?}"
                );
                assert!(text.is_char_boundary(e.span.start), "{text:?}");
                assert!(text.is_char_boundary(e.span.end), "{text:?}");
            });
            let _ = nereid_cypher::subquery_count(&statement);
        }
        Err(e) => {
            assert_eq!(e.phase, Phase::CompileTime, "{text:?}");
            assert!(e.message.contains("(line "), "{text:?}: {e}");
        }
    }
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = 1 + rng.below(24);
        let text: Vec<&str> = (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        check(&text.join(" "));
        check(&text.concat());
    }
}

#[test]
fn mutated_valid_queries_never_panic() {
    let seeds = [
        "MATCH (a:A {x: 1})-[r:T*1..3]->(b) WHERE a.x > 1 AND (a)-->(b) RETURN a, count(*) AS c ORDER BY c DESC SKIP 1 LIMIT 2",
        "UNWIND [1, 2, 3] AS x WITH x WHERE x % 2 = 1 RETURN [y IN range(1, x) WHERE y > 0 | y ^ 2] AS l",
        "MERGE (n:P {id: $id}) ON CREATE SET n.c = timestamp() ON MATCH SET n += {m: 1} RETURN n {.*, k: 1}",
        "MATCH p = shortestPath((a)-[*..5]-(b)) RETURN CASE WHEN length(p) > 2 THEN 'far' ELSE 'near' END",
        "CALL db.labels() YIELD label WHERE label STARTS WITH 'A' RETURN label UNION ALL RETURN 'x' AS label",
        "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) RETURN m } RETURN reduce(s = 0, x IN [1] | s + x)",
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for seed in seeds {
        check(seed);
        let bytes: Vec<char> = seed.chars().collect();
        for _ in 0..3_000 {
            let mut chars = bytes.clone();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(chars.len());
                match rng.below(3) {
                    0 => {
                        chars.remove(i);
                    }
                    1 => chars.insert(
                        i,
                        PIECES[rng.below(PIECES.len())]
                            .chars()
                            .next()
                            .unwrap_or(' '),
                    ),
                    _ => chars.truncate(i),
                }
                if chars.is_empty() {
                    break;
                }
            }
            check(&chars.iter().collect::<String>());
        }
    }
}
