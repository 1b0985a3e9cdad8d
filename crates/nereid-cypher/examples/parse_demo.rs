//! Parses each command-line argument and prints the AST or the syntax error:
//! `cargo run -p nereid-cypher --example parse_demo -- 'MATCH (n) RETURN n'`.

fn main() {
    for text in std::env::args().skip(1) {
        match nereid_cypher::parse(&text) {
            Ok(statement) => println!("{statement:#?}"),
            Err(e) => println!("{e}"),
        }
    }
}
