//! Rows through the reader: every column type, arrays, id spaces, quoting, empty fields,
//! bad rows (reported, then reading goes on), invalid UTF-8, gzip and Gremlin CSV.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use nereid_loader::{
    classify, ErrorKind, FileKind, FileReader, Format, NodeRecord, OpenError, Record, RecordError,
    RelRecord,
};
use nereid_temporal::{parse::parse, Kind};
use nereid_value::Value;

fn read(format: Format, text: &[u8]) -> Vec<Result<Record, RecordError>> {
    FileReader::new(text, format)
        .unwrap_or_else(|e| panic!("{e}"))
        .collect()
}

fn nodes(text: &str) -> Vec<NodeRecord> {
    read(Format::OpenCypher, text.as_bytes())
        .into_iter()
        .map(|r| match r {
            Ok(Record::Node(n)) => n,
            other => panic!("expected a node, got {other:?}"),
        })
        .collect()
}

fn one_node(text: &str) -> NodeRecord {
    let mut all = nodes(text);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn prop<'a>(n: &'a [(Arc<str>, Value)], name: &str) -> Option<&'a Value> {
    n.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

fn datetime(text: &str) -> Value {
    Value::Temporal(Box::new(parse(Kind::DateTime, text).unwrap()))
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "nereid-loader-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_column_type() {
    let n = one_node(
        ":ID,b:Bool,b2:Boolean,y:Byte,sh:Short,i:Int,l:Long,f:Float,d:Double,st:String,dt:DateTime,da:Date,u\n\
         v1,TRUE,false,-128,32767,-2147483648,9223372036854775807,1.5,-2.5e3,hello,2015-07-21T21:40:32.142+01:00,2020-02-29,plain\n",
    );
    assert_eq!(n.id, "v1");
    assert_eq!(
        n.props,
        vec![
            ("b".into(), Value::Bool(true)),
            ("b2".into(), Value::Bool(false)),
            ("y".into(), Value::Int(-128)),
            ("sh".into(), Value::Int(32767)),
            ("i".into(), Value::Int(-2147483648)),
            ("l".into(), Value::Int(i64::MAX)),
            ("f".into(), Value::Float(1.5)),
            ("d".into(), Value::Float(-2500.0)),
            ("st".into(), s("hello")),
            ("dt".into(), datetime("2015-07-21T21:40:32.142+01:00")),
            ("da".into(), datetime("2020-02-29")),
            ("u".into(), s("plain")),
        ]
    );
}

#[test]
fn neptune_date_forms_equal_what_datetime_returns() {
    for text in [
        "2015-07-21",
        "2015-07-21T21:40",
        "2015-07-21T21:40:32",
        "2015-07-21T21:40:32Z",
        "2015-07-21T21:40:32+01:00",
        "2015-07-21T21:40:32-0530",
    ] {
        let n = one_node(&format!(":ID,d:DateTime\nx,{text}\n"));
        assert_eq!(prop(&n.props, "d"), Some(&datetime(text)), "{text}");
    }
    // No offset means UTC, as datetime('2015-07-21') gives.
    let n = one_node(":ID,d:DateTime\nx,2015-07-21T10:00\n");
    assert_eq!(
        prop(&n.props, "d").unwrap().to_string(),
        datetime("2015-07-21T10:00Z").to_string()
    );
}

#[test]
fn arrays_split_on_unescaped_semicolons() {
    let n = one_node(
        ":ID,tags:String[],nums:Int[],flags:Bool[],when:DateTime[],empty:String[]\n\
         x,a;b\\;c;;d,1;2;3,true;FALSE,2020-01-01;2021-06-30T12:00Z,;\n",
    );
    assert_eq!(
        prop(&n.props, "tags"),
        Some(&Value::List(vec![s("a"), s("b;c"), s("d")]))
    );
    assert_eq!(
        prop(&n.props, "nums"),
        Some(&Value::List(vec![
            Value::Int(1),
            Value::Int(2),
            Value::Int(3)
        ]))
    );
    assert_eq!(
        prop(&n.props, "flags"),
        Some(&Value::List(vec![Value::Bool(true), Value::Bool(false)]))
    );
    assert_eq!(
        prop(&n.props, "when"),
        Some(&Value::List(vec![
            datetime("2020-01-01"),
            datetime("2021-06-30T12:00Z")
        ]))
    );
    // Only separators: no value at all.
    assert_eq!(prop(&n.props, "empty"), None);
}

#[test]
fn a_non_array_string_keeps_semicolons_and_backslashes() {
    let n = one_node(":ID,s\nx,a;b\\;c\n");
    assert_eq!(prop(&n.props, "s"), Some(&s("a;b\\;c")));
}

#[test]
fn labels_split_and_id_spaces_kept() {
    let n = one_node(":ID(people),:LABEL\np1,Person;Actor\n");
    assert_eq!(n.id, "p1");
    assert_eq!(n.id_space.as_deref(), Some("people"));
    assert_eq!(n.labels, vec!["Person", "Actor"]);
    let n = one_node(":ID,:LABEL\np1,\n");
    assert!(n.labels.is_empty());
    assert_eq!(n.id_space, None);
}

#[test]
fn named_id_is_also_a_property() {
    let n = one_node("code:ID(airports),:LABEL,city\nSEA,Airport,Seattle\n");
    assert_eq!(n.id, "SEA");
    assert_eq!(n.id_space.as_deref(), Some("airports"));
    assert_eq!(
        n.props,
        vec![("code".into(), s("SEA")), ("city".into(), s("Seattle"))]
    );
}

#[test]
fn relationships_with_spaces_and_optional_id() {
    let all = read(
        Format::OpenCypher,
        b":START_ID(people),:END_ID(movies),:TYPE,:ID,since:Int\np1,m1,ACTED_IN,r1,1999\np2,m1,DIRECTED,,\n",
    );
    assert_eq!(
        all,
        vec![
            Ok(Record::Rel(RelRecord {
                id: Some("r1".into()),
                rel_type: "ACTED_IN".into(),
                start: "p1".into(),
                start_space: Some("people".into()),
                end: "m1".into(),
                end_space: Some("movies".into()),
                props: vec![("since".into(), Value::Int(1999))],
            })),
            Ok(Record::Rel(RelRecord {
                id: None,
                rel_type: "DIRECTED".into(),
                start: "p2".into(),
                start_space: Some("people".into()),
                end: "m1".into(),
                end_space: Some("movies".into()),
                props: vec![],
            })),
        ]
    );
}

#[test]
fn quoted_fields_hold_commas_newlines_and_quotes() {
    let all =
        nodes(":ID,bio,n:Int\n\"a,1\",\"line one\nline two, with \"\"quotes\"\"\",\"7\"\nb,,\n");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, "a,1");
    assert_eq!(
        prop(&all[0].props, "bio"),
        Some(&s("line one\nline two, with \"quotes\""))
    );
    assert_eq!(prop(&all[0].props, "n"), Some(&Value::Int(7)));
    // Empty fields are absent properties, not nulls.
    assert_eq!(all[1].props, vec![]);
    // A quoted empty string is empty too.
    let n = one_node(":ID,s\nx,\"\"\n");
    assert_eq!(n.props, vec![]);
}

#[test]
fn crlf_line_endings_and_bom() {
    let all = nodes("\u{feff}:ID,name\r\na,Ann\r\nb,Bob\r\n");
    assert_eq!(all.len(), 2);
    assert_eq!(prop(&all[1].props, "name"), Some(&s("Bob")));
}

#[test]
fn wrong_field_count_is_a_parsing_error_and_reading_goes_on() {
    let all = read(
        Format::OpenCypher,
        b":ID,name\na,Ann\nb\nc,Cy,extra\nd,Di\n",
    );
    assert_eq!(all.len(), 4);
    assert!(matches!(&all[0], Ok(Record::Node(n)) if n.id == "a"));
    let e = all[1].as_ref().unwrap_err();
    assert_eq!(e.record_num, 2);
    assert_eq!(e.kind, ErrorKind::Parsing);
    assert!(
        e.message.contains("1 field but the header has 2 columns"),
        "{}",
        e.message
    );
    let e = all[2].as_ref().unwrap_err();
    assert_eq!(e.record_num, 3);
    assert_eq!(e.kind, ErrorKind::Parsing);
    assert!(matches!(&all[3], Ok(Record::Node(n)) if n.id == "d"));
}

#[test]
fn record_numbers_count_records_not_lines() {
    let all = read(
        Format::OpenCypher,
        b":ID,s,n:Int\na,\"two\nlines\",1\nb,x,oops\n",
    );
    let e = all[1].as_ref().unwrap_err();
    assert_eq!(e.record_num, 2);
    // The message still points at the line the record starts on.
    assert!(e.message.starts_with("line 4:"), "{}", e.message);
}

fn mismatch(header: &str, value: &str) -> RecordError {
    let text = format!(":ID,{header}\nx,{value}\n");
    let all = read(Format::OpenCypher, text.as_bytes());
    assert_eq!(all.len(), 1);
    match &all[0] {
        Err(e) => e.clone(),
        Ok(r) => panic!("{header}={value} loaded as {r:?}"),
    }
}

#[test]
fn bad_and_out_of_range_integers() {
    for (header, value, says) in [
        ("n:Int", "12x", "'12x' is not an integer (Int)"),
        ("n:Int", "1.5", "is not an integer"),
        (
            "n:Byte",
            "128",
            "'128' is out of range for Byte (-128 to 127)",
        ),
        ("n:Byte", "-129", "out of range for Byte"),
        (
            "n:Short",
            "32768",
            "out of range for Short (-32768 to 32767)",
        ),
        ("n:Int", "2147483648", "out of range for Int"),
        ("n:Long", "9223372036854775808", "out of range for Long"),
        ("n:Long", "-9223372036854775809", "out of range for Long"),
        ("n:Int[]", "1;x", "'x' is not an integer"),
    ] {
        let e = mismatch(header, value);
        assert_eq!(e.kind, ErrorKind::DatatypeMismatch, "{header}={value}");
        assert_eq!(e.record_num, 1);
        assert!(e.message.contains(says), "{header}={value}: {}", e.message);
        assert!(
            e.message.contains(&format!("column '{header}'")),
            "{}",
            e.message
        );
    }
    // The edges of each range load.
    let n =
        one_node(":ID,a:Byte,b:Short,c:Int,d:Long\nx,127,-32768,2147483647,-9223372036854775808\n");
    assert_eq!(
        n.props.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        vec![
            Value::Int(127),
            Value::Int(-32768),
            Value::Int(2147483647),
            Value::Int(i64::MIN)
        ]
    );
}

#[test]
fn bad_bool_float_and_date() {
    for (header, value) in [
        ("b:Bool", "yes"),
        ("b:Bool", "1"),
        ("b:Boolean", "t"),
        ("f:Double", "1,5"),
        ("f:Float", "abc"),
        ("d:DateTime", "2015-13-01"),
        ("d:DateTime", "2015-02-30"),
        ("d:DateTime", "21/07/2015"),
        ("d:Date", "yesterday"),
    ] {
        let quoted = format!("\"{value}\"");
        let e = mismatch(header, &quoted);
        assert_eq!(e.kind, ErrorKind::DatatypeMismatch, "{header}={value}");
        assert!(e.message.contains(value), "{}", e.message);
    }
    let n = one_node(":ID,a:Bool,b:Double,c:Int\nx, True ,NaN, 42 \n");
    assert_eq!(prop(&n.props, "a"), Some(&Value::Bool(true)));
    assert!(matches!(prop(&n.props, "b"), Some(Value::Float(f)) if f.is_nan()));
    assert_eq!(prop(&n.props, "c"), Some(&Value::Int(42)));
}

#[test]
fn empty_ids_and_types_are_parsing_errors() {
    let all = read(Format::OpenCypher, b":ID,name\n,Ann\n");
    let e = all[0].as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Parsing);
    assert!(
        e.message.contains("the :ID field is empty"),
        "{}",
        e.message
    );
    let all = read(
        Format::OpenCypher,
        b":START_ID,:END_ID,:TYPE\na,,KNOWS\na,b,\n",
    );
    let e = all[0].as_ref().unwrap_err();
    assert!(
        e.message.contains(":END_ID field is empty"),
        "{}",
        e.message
    );
    let e = all[1].as_ref().unwrap_err();
    assert!(e.message.contains(":TYPE field is empty"), "{}", e.message);
}

#[test]
fn invalid_utf8_is_a_parsing_error_with_the_record_number() {
    let all = read(Format::OpenCypher, b":ID,name\na,Ann\nb,B\xffb\nc,Cy\n");
    assert_eq!(all.len(), 3);
    let e = all[1].as_ref().unwrap_err();
    assert_eq!(e.record_num, 2);
    assert_eq!(e.kind, ErrorKind::Parsing);
    assert!(e.message.contains("column 'name'"), "{}", e.message);
    assert!(e.message.contains("not valid UTF-8"), "{}", e.message);
    assert!(matches!(&all[2], Ok(Record::Node(n)) if n.id == "c"));
    // In the header: the file is not loadable.
    match FileReader::new(&b":ID,n\xc3\n"[..], Format::OpenCypher) {
        Err(OpenError::Header(e)) => assert!(e.message.contains("UTF-8"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("invalid header accepted"),
    }
}

#[test]
fn empty_file_has_no_header() {
    match FileReader::new(&b""[..], Format::OpenCypher) {
        Err(OpenError::Header(e)) => assert!(e.message.contains("empty"), "{e}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("empty file accepted"),
    }
    // A header alone: no records.
    assert!(read(Format::OpenCypher, b":ID,name\n").is_empty());
}

#[test]
fn gremlin_vertices_and_edges() {
    let all = read(
        Format::GremlinCsv,
        b"~id,~label,name:String(single),nick:String(set),tags:String[],born:Date\n\
          v1,person;actor,Ann,Annie,a;b\\;c,1980-05-01\n\
          v2,,Bob,,,\n",
    );
    assert_eq!(
        all,
        vec![
            Ok(Record::Node(NodeRecord {
                id: "v1".into(),
                id_space: None,
                labels: vec!["person".into(), "actor".into()],
                props: vec![
                    ("name".into(), s("Ann")),
                    ("nick".into(), s("Annie")),
                    ("tags".into(), Value::List(vec![s("a"), s("b;c")])),
                    ("born".into(), datetime("1980-05-01")),
                ],
            })),
            // No label: TinkerPop's default.
            Ok(Record::Node(NodeRecord {
                id: "v2".into(),
                id_space: None,
                labels: vec!["vertex".into()],
                props: vec![("name".into(), s("Bob"))],
            })),
        ]
    );
    let all = read(
        Format::GremlinCsv,
        b"~id,~from,~to,~label,weight:Double\ne1,v1,v2,knows,0.5\ne2,v2,v1,,\n,v1,v2,x,\n",
    );
    assert_eq!(
        all[0],
        Ok(Record::Rel(RelRecord {
            id: Some("e1".into()),
            rel_type: "knows".into(),
            start: "v1".into(),
            start_space: None,
            end: "v2".into(),
            end_space: None,
            props: vec![("weight".into(), Value::Float(0.5))],
        }))
    );
    assert!(matches!(&all[1], Ok(Record::Rel(r)) if &*r.rel_type == "edge" && r.props.is_empty()));
    let e = all[2].as_ref().unwrap_err();
    assert_eq!((e.record_num, e.kind), (3, ErrorKind::Parsing));
    assert!(e.message.contains("~id field is empty"), "{}", e.message);
}

#[test]
fn gzip_round_trip_and_classify() {
    let dir = temp_dir("gz");
    let text = ":ID,:LABEL,age:Int\na,Person,30\nb,Person,x\nc,Person,5\n";
    let gz = dir.join("nodes.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let plain = dir.join("rels.csv");
    std::fs::write(&plain, ":START_ID,:END_ID,:TYPE\na,c,KNOWS\n").unwrap();

    let reader = FileReader::open(&gz, Format::OpenCypher).unwrap();
    assert_eq!(reader.kind(), FileKind::Node);
    let all: Vec<_> = reader.collect();
    assert_eq!(all.len(), 3);
    assert!(
        matches!(&all[0], Ok(Record::Node(n)) if n.id == "a" && n.props == vec![("age".into(), Value::Int(30))])
    );
    assert_eq!(
        all[1].as_ref().unwrap_err().kind,
        ErrorKind::DatatypeMismatch
    );
    assert!(matches!(&all[2], Ok(Record::Node(n)) if n.id == "c"));

    assert_eq!(classify(&gz, Format::OpenCypher).unwrap(), FileKind::Node);
    assert_eq!(
        classify(&plain, Format::OpenCypher).unwrap(),
        FileKind::Relationship
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn truncated_gzip_is_an_io_error_and_ends_the_file() {
    let dir = temp_dir("gzcut");
    let mut text = String::from(":ID,name\n");
    for i in 0..20000 {
        text.push_str(&format!(
            "n{i},name number {i} with some text to compress\n"
        ));
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let bytes = enc.finish().unwrap();
    let path = dir.join("cut.csv.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let all: Vec<_> = FileReader::open(&path, Format::OpenCypher)
        .unwrap()
        .collect();
    let last = all.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind, ErrorKind::Io);
    assert!(all[..all.len() - 1].iter().all(|r| r.is_ok()));
    assert!(all.len() > 1 && all.len() < 20000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn classify_reports_header_errors() {
    let dir = temp_dir("classify");
    let path = dir.join("bad.csv");
    std::fs::write(&path, ":START_ID,:TYPE\na,KNOWS\n").unwrap();
    match classify(&path, Format::OpenCypher) {
        Err(OpenError::Header(e)) => {
            assert_eq!(
                e.message,
                "relationship file has :START_ID and :TYPE but no :END_ID"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        classify(&dir.join("missing.csv"), Format::OpenCypher),
        Err(OpenError::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reading_streams_one_record_at_a_time() {
    // An endless source: the reader must yield records without reading to the end.
    struct Endless {
        header_done: bool,
        n: u64,
        pending: Vec<u8>,
    }
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.pending.is_empty() {
                if !self.header_done {
                    self.header_done = true;
                    self.pending = b":ID,n:Long\n".to_vec();
                } else {
                    self.n += 1;
                    self.pending = format!("v{},{}\n", self.n, self.n).into_bytes();
                }
            }
            let k = buf.len().min(self.pending.len());
            buf[..k].copy_from_slice(&self.pending[..k]);
            self.pending.drain(..k);
            Ok(k)
        }
    }
    let reader = FileReader::new(
        Endless {
            header_done: false,
            n: 0,
            pending: Vec::new(),
        },
        Format::OpenCypher,
    )
    .unwrap();
    let first: Vec<_> = reader.take(3).collect();
    assert_eq!(first.len(), 3);
    assert!(matches!(&first[2], Ok(Record::Node(n)) if n.id == "v3"));
}

/// A slot refilled record after record (as the loader's reading thread reuses its chunks)
/// holds exactly what a fresh read gives: fewer labels after more, absent properties after
/// present ones, a bad row between good ones, escapes after plain labels.
#[test]
fn refilled_slots_equal_fresh_records() {
    let files: [(&str, &[u8]); 2] = [
        (
            "nodes",
            b":ID,name:String,age:Int,:LABEL\n\
              n1,Ann,30,A;B\n\
              n2,,,A\n\
              n3,Bob,x,C\n\
              n4,Cy,41,\n\
              n5,Dee,,a\\;b;C\n\
              n6,Eve,7,A\n",
        ),
        (
            "relationships",
            b":START_ID,:END_ID,:TYPE,w:Double\n\
              n1,n2,T,1.5\n\
              n2,n3-longer-id,T,\n\
              n3,,T,2\n\
              n4,n1,U,3\n",
        ),
    ];
    for (what, text) in files {
        let fresh = read(Format::OpenCypher, text);
        let mut reader = FileReader::new(text, Format::OpenCypher).unwrap();
        let mut slot = Err(RecordError::new(0, ErrorKind::Parsing, String::new()));
        let mut refilled = Vec::new();
        while reader.next_into(&mut slot) {
            refilled.push(slot.clone());
        }
        assert_eq!(refilled, fresh, "{what}");
        assert!(
            fresh.iter().any(|r| r.is_err()),
            "{what}: a bad row is covered"
        );
    }
}
