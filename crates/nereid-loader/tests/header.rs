//! Header rows of both formats: roles, types, id spaces, escapes, and the errors a person
//! gets for a header that cannot be loaded.

use nereid_loader::{
    Cardinality, ColumnKind, DataType, FileKind, Format, Header, HeaderError, PropertyColumn,
};

fn parse(format: Format, line: &str) -> Result<Header, HeaderError> {
    let cells: Vec<&str> = line.split(',').collect();
    Header::parse(format, &cells)
}

fn oc(line: &str) -> Header {
    parse(Format::OpenCypher, line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn oc_err(line: &str) -> String {
    match parse(Format::OpenCypher, line) {
        Ok(h) => panic!("{line} parsed as {h:?}"),
        Err(e) => e.message,
    }
}

fn gr(line: &str) -> Header {
    parse(Format::GremlinCsv, line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn gr_err(line: &str) -> String {
    match parse(Format::GremlinCsv, line) {
        Ok(h) => panic!("{line} parsed as {h:?}"),
        Err(e) => e.message,
    }
}

fn prop(h: &Header, i: usize) -> &PropertyColumn {
    match &h.columns[i].kind {
        ColumnKind::Property(p) => p,
        other => panic!("column {i} is {other:?}"),
    }
}

#[test]
fn opencypher_node_header_roles() {
    let h = oc(":ID,:LABEL,name,age:Int,tags:String[]");
    assert_eq!(h.kind, FileKind::Node);
    assert_eq!(
        h.columns[0].kind,
        ColumnKind::Id {
            space: None,
            property: None
        }
    );
    assert_eq!(h.columns[1].kind, ColumnKind::Label);
    assert_eq!(prop(&h, 2).data_type, DataType::String);
    assert!(!prop(&h, 2).array);
    assert_eq!(prop(&h, 3).data_type, DataType::Int);
    assert_eq!(&*prop(&h, 4).name, "tags");
    assert!(prop(&h, 4).array);
    assert_eq!(prop(&h, 4).cardinality, Cardinality::Set);
}

#[test]
fn opencypher_id_space_and_named_id() {
    let h = oc("code:ID(airports),:LABEL");
    assert_eq!(
        h.columns[0].kind,
        ColumnKind::Id {
            space: Some("airports".into()),
            property: Some("code".into())
        }
    );
    let h = oc(":START_ID(people),:END_ID(movies),:TYPE,:ID");
    assert_eq!(h.kind, FileKind::Relationship);
    assert_eq!(
        h.columns[0].kind,
        ColumnKind::StartId {
            space: Some("people".into())
        }
    );
    assert_eq!(
        h.columns[1].kind,
        ColumnKind::EndId {
            space: Some("movies".into())
        }
    );
}

#[test]
fn every_type_name_case_insensitively() {
    let cases = [
        ("Bool", DataType::Bool),
        ("boolean", DataType::Bool),
        ("BYTE", DataType::Byte),
        ("short", DataType::Short),
        ("Int", DataType::Int),
        ("long", DataType::Long),
        ("FLOAT", DataType::Float),
        ("Double", DataType::Double),
        ("string", DataType::String),
        ("DateTime", DataType::DateTime),
        ("datetime", DataType::DateTime),
        ("Date", DataType::DateTime),
    ];
    for (name, ty) in cases {
        let h = oc(&format!(":ID,p:{name}"));
        assert_eq!(prop(&h, 1).data_type, ty, "{name}");
        let h = oc(&format!(":ID,p:{name}[]"));
        assert_eq!(prop(&h, 1).data_type, ty, "{name}[]");
        assert!(prop(&h, 1).array);
    }
}

#[test]
fn escaped_colon_is_part_of_the_name() {
    let h = oc(r":ID,a\:b:Int,c\:d");
    assert_eq!(&*prop(&h, 1).name, "a:b");
    assert_eq!(prop(&h, 1).data_type, DataType::Int);
    assert_eq!(&*prop(&h, 2).name, "c:d");
    assert_eq!(prop(&h, 2).data_type, DataType::String);
}

#[test]
fn system_columns_are_case_sensitive() {
    let m = oc_err(":id,name");
    assert!(m.contains("unknown system column ':id'"), "{m}");
    let m = gr_err("~ID,name");
    assert!(m.contains("unknown system column '~ID'"), "{m}");
}

#[test]
fn relationship_file_missing_end_id() {
    assert_eq!(
        oc_err(":START_ID,:TYPE"),
        "relationship file has :START_ID and :TYPE but no :END_ID"
    );
    assert_eq!(
        oc_err(":START_ID,weight:Double"),
        "relationship file has :START_ID but no :END_ID or :TYPE"
    );
}

#[test]
fn unknown_type_names_the_column() {
    let m = oc_err(":ID,age:Integr");
    assert!(
        m.starts_with("unknown type 'Integr' in column 'age:Integr'"),
        "{m}"
    );
}

#[test]
fn header_without_id_or_endpoints() {
    let m = oc_err("name,age:Int");
    assert!(m.contains("no :ID column"), "{m}");
}

#[test]
fn system_column_at_most_once() {
    let m = oc_err(":ID,:LABEL,:LABEL");
    assert!(m.contains("only once"), "{m}");
    let m = oc_err(":ID,name:ID");
    assert!(m.contains("only once"), "{m}");
    let m = gr_err("~id,~id");
    assert!(m.contains("only once"), "{m}");
}

#[test]
fn duplicate_property_and_id_property_clash() {
    let m = oc_err(":ID,name,name:Int");
    assert!(
        m.contains("property 'name' has more than one column"),
        "{m}"
    );
    let m = oc_err("name:ID,name");
    assert!(m.contains("both the id column"), "{m}");
}

#[test]
fn relationship_array_columns_are_rejected() {
    let m = oc_err(":START_ID,:END_ID,:TYPE,w:Int[]");
    assert!(m.contains("must be single-valued"), "{m}");
    let m = gr_err("~id,~from,~to,w:Int[]");
    assert!(m.contains("must be single-valued"), "{m}");
}

#[test]
fn relationship_label_column_is_rejected() {
    let m = oc_err(":START_ID,:END_ID,:TYPE,:LABEL");
    assert!(m.contains(":LABEL"), "{m}");
}

#[test]
fn whitespace_and_empty_names_are_rejected() {
    let m = oc_err(":ID, name");
    assert!(m.contains("whitespace"), "{m}");
    let m = oc_err(":ID,,name");
    assert!(m.contains("column 2 of the header is empty"), "{m}");
}

#[test]
fn bad_id_space_syntax() {
    let m = oc_err(":ID(people");
    assert!(m.contains("unbalanced parenthesis"), "{m}");
    let m = oc_err(":ID()");
    assert!(m.contains("non-empty"), "{m}");
    let m = oc_err(":ID,:LABEL(x)");
    assert!(
        m.contains("only :ID, :START_ID and :END_ID take an id space"),
        "{m}"
    );
}

#[test]
fn gremlin_vertex_header_with_cardinalities() {
    let h = gr("~id,~label,name:String(single),nick:String(set),tags:String[],age:Int,city");
    assert_eq!(h.kind, FileKind::Node);
    assert_eq!(h.columns[1].kind, ColumnKind::Label);
    assert_eq!(prop(&h, 2).cardinality, Cardinality::Single);
    assert_eq!(prop(&h, 3).cardinality, Cardinality::Set);
    assert!(!prop(&h, 3).array);
    assert!(prop(&h, 4).array);
    assert_eq!(prop(&h, 4).cardinality, Cardinality::Set);
    // Neptune's default for vertex properties is set.
    assert_eq!(prop(&h, 5).cardinality, Cardinality::Set);
    assert_eq!(prop(&h, 6).data_type, DataType::String);
    let h = gr("~id,born:Date(SINGLE)");
    assert_eq!(prop(&h, 1).data_type, DataType::DateTime);
    assert_eq!(prop(&h, 1).cardinality, Cardinality::Single);
}

#[test]
fn gremlin_edge_header() {
    let h = gr("~id,~from,~to,~label,weight:Double(single)");
    assert_eq!(h.kind, FileKind::Relationship);
    // An edge's ~label is its type.
    assert_eq!(h.columns[3].kind, ColumnKind::Type);
    assert_eq!(prop(&h, 4).cardinality, Cardinality::Single);
    let h = gr("~id,~from,~to,weight:Double");
    assert_eq!(prop(&h, 3).cardinality, Cardinality::Single);
}

#[test]
fn gremlin_header_errors() {
    assert_eq!(gr_err("~id,~from"), "edge file has ~from but no ~to");
    assert!(gr_err("~from,~to").contains("no ~id"));
    assert!(gr_err("~label,name").contains("vertex file has no ~id"));
    let m = gr_err("~id,~from,~to,w:Int(set)");
    assert!(m.contains("single cardinality"), "{m}");
    let m = gr_err("~id,tags:String(single)[]");
    assert!(m.contains("cannot have single cardinality"), "{m}");
    let m = gr_err("~id,x:Int(many)");
    assert!(m.contains("unknown cardinality 'many'"), "{m}");
    let m = gr_err("~id,x:Strin");
    assert!(
        m.contains("unknown type 'Strin' in column 'x:Strin'"),
        "{m}"
    );
    let m = gr_err("~id,:Int");
    assert!(m.contains("no property name"), "{m}");
}

#[test]
fn request_format_names() {
    assert_eq!(
        Format::from_request_name("openCypher"),
        Some(Format::OpenCypher)
    );
    assert_eq!(Format::from_request_name("csv"), Some(Format::GremlinCsv));
    assert_eq!(Format::from_request_name("ntriples"), None);
}
