//! Load jobs over `s3://` against a scripted S3 endpoint on a local port: the job lists the
//! prefix, classifies and loads the objects (plain and gzip) nodes first, and reports S3
//! failures as failed feeds with Neptune's statuses; `s3://` without an endpoint is refused.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use nereid_common::ErrorCode;
use nereid_loader::s3::S3Config;
use nereid_loader::{Loader, LoaderConfig, StartRequest, Store};
use nereid_storage::{GraphRead, StoreConfig};

/// Objects of bucket `b`: key → body. Any other bucket is `NoSuchBucket`; bucket `denied`
/// answers 403 `AccessDenied`.
fn endpoint(objects: Vec<(&'static str, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(&stream);
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let target = first.split(' ').nth(1).unwrap_or("").to_string();
            let (status, body): (&str, Vec<u8>) = if target.starts_with("/denied") {
                (
                    "403 Forbidden",
                    b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                        .to_vec(),
                )
            } else if let Some(query) = target.strip_prefix("/b?") {
                let prefix = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("prefix="))
                    .unwrap_or("")
                    .replace("%2F", "/");
                let mut xml = String::from("<ListBucketResult><IsTruncated>false</IsTruncated>");
                for (key, body) in &objects {
                    if key.starts_with(&prefix) {
                        xml.push_str(&format!(
                            "<Contents><Key>{key}</Key><Size>{}</Size></Contents>",
                            body.len()
                        ));
                    }
                }
                xml.push_str("</ListBucketResult>");
                ("200 OK", xml.into_bytes())
            } else if let Some(key) = target.strip_prefix("/b/") {
                match objects.iter().find(|(k, _)| *k == key) {
                    Some((_, body)) => ("200 OK", body.clone()),
                    None => (
                        "404 Not Found",
                        b"<Error><Code>NoSuchKey</Code></Error>".to_vec(),
                    ),
                }
            } else {
                ("404 Not Found", b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>".to_vec())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn loader(store: &Arc<Store>, s3: Option<&str>) -> Loader {
    Loader::new(
        Arc::clone(store) as Arc<dyn nereid_loader::Target>,
        LoaderConfig {
            s3: s3.map(|e| S3Config::new(e, None, None, Duration::from_secs(5), None).unwrap()),
            ..LoaderConfig::default()
        },
    )
    .unwrap()
}

fn request(source: &str) -> StartRequest {
    StartRequest {
        source: source.into(),
        format: "opencypher".into(),
        fail_on_error: true,
        ..StartRequest::default()
    }
}

#[test]
fn an_s3_prefix_loads_nodes_first_from_plain_and_gzip_objects() {
    let url = endpoint(vec![
        (
            "data/a-rels.csv.gz",
            gzip(":ID,:START_ID,:END_ID,:TYPE\nr1,n1,n2,K\n"),
        ),
        (
            "data/b-nodes.csv",
            b":ID,name:String\nn1,x\nn2,y\n".to_vec(),
        ),
        ("other/c.csv", b":ID\nz\n".to_vec()),
    ]);
    let store = Arc::new(Store::open(&StoreConfig::in_memory()).unwrap());
    let l = loader(&store, Some(&url));
    let id = l.start(request("s3://b/data/")).unwrap();
    assert_eq!(
        l.wait(&id, Duration::from_secs(20)).unwrap(),
        "LOAD_COMPLETED"
    );
    let r = l.record(&id).unwrap();
    assert_eq!(r.full_uri, "s3://b/data/");
    let files: Vec<String> = r
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(
        files,
        ["s3://b/data/b-nodes.csv", "s3://b/data/a-rels.csv.gz"]
    );
    assert_eq!(r.counts.total_records, 3);
    let snap = store.snapshot();
    assert_eq!((snap.node_count(), snap.rel_count()), (2, 1));
}

#[test]
fn s3_failures_are_failed_feeds_with_neptune_statuses() {
    let url = endpoint(vec![]);
    let store = Arc::new(Store::open(&StoreConfig::in_memory()).unwrap());
    let l = loader(&store, Some(&url));
    for (source, code, text) in [
        ("s3://denied/x", "S3_ACCESS_DENIED_ERROR", "AccessDenied"),
        ("s3://nobucket/x", "S3_READ_ERROR", "does not exist"),
    ] {
        let id = l.start(request(source)).unwrap();
        assert_eq!(l.wait(&id, Duration::from_secs(20)).unwrap(), "LOAD_FAILED");
        let r = l.record(&id).unwrap();
        assert_eq!(r.errors.len(), 1, "{source}");
        assert_eq!(r.errors[0].error_code, code, "{source}");
        assert!(
            r.errors[0].error_message.contains(text),
            "{}",
            r.errors[0].error_message
        );
    }
    // A prefix with no objects names no files.
    let id = l.start(request("s3://b/empty/")).unwrap();
    assert_eq!(l.wait(&id, Duration::from_secs(20)).unwrap(), "LOAD_FAILED");
    assert!(l
        .record(&id)
        .unwrap()
        .message
        .unwrap()
        .contains("names no files"));
}

#[test]
fn s3_sources_without_an_endpoint_are_refused_with_how_to_configure_one() {
    let store = Arc::new(Store::open(&StoreConfig::in_memory()).unwrap());
    let l = loader(&store, None);
    let e = l.start(request("s3://b/data/")).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    assert!(e.message.contains("--s3-endpoint"), "{}", e.message);
    let e = l.start(request("s3://Bad!/x")).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = l.start(request("https://example.com/b/x")).unwrap_err();
    assert!(e.message.contains("not from other URLs"), "{}", e.message);
}
