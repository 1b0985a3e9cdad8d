//! The S3 client against a scripted HTTP server on a local port: ListObjectsV2 paging with
//! continuation tokens, key order, signed requests, chunked object bodies, S3 error
//! documents, and the failures that must not hang a load (an endpoint that is down, one that
//! accepts and never answers, one that stops in the middle of a body).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nereid_loader::s3::{self, S3Client, S3Config, S3Location};
use nereid_sigv4::sign::Credentials;

/// Serves each connection with `answer(request head)`; `None` keeps the connection open
/// without answering. Returns the endpoint and the request heads seen.
fn serve(
    answer: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let head = read_head(&stream);
            log.lock().unwrap().push(head.clone());
            match answer(&head) {
                Some(bytes) => {
                    let _ = stream.write_all(&bytes);
                    let _ = stream.flush();
                    // Let the client read to the end before the socket closes.
                    thread::sleep(Duration::from_millis(50));
                }
                None => {
                    // Hold the connection (and never answer) past the client's timeout.
                    thread::spawn(move || {
                        thread::sleep(Duration::from_secs(10));
                        drop(stream);
                    });
                }
            }
        }
    });
    (format!("http://{addr}"), seen)
}

fn read_head(stream: &TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            return head;
        }
        head.push_str(&line);
    }
}

fn ok_xml(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn client(endpoint: &str, timeout: Duration, creds: bool) -> S3Client {
    let creds = creds.then(|| Credentials {
        access_key_id: "AKIDTEST".into(),
        secret_access_key: "secret".into(),
        session_token: None,
    });
    let config = S3Config::new(endpoint, creds, Some("eu-west-1".into()), timeout, None).unwrap();
    S3Client::new(&config, None)
}

fn location(bucket: &str, prefix: &str) -> S3Location {
    S3Location {
        bucket: bucket.into(),
        prefix: prefix.into(),
    }
}

#[test]
fn listing_follows_continuation_tokens_and_sorts_keys() {
    let (endpoint, seen) = serve(|head| {
        let first = head.starts_with("GET /bucket?") && !head.contains("continuation-token");
        Some(ok_xml(if first {
            "<ListBucketResult><IsTruncated>true</IsTruncated>\
             <Contents><Key>data/z.csv</Key><Size>3</Size></Contents>\
             <Contents><Key>data/sub/</Key><Size>0</Size></Contents>\
             <NextContinuationToken>tok/1+=</NextContinuationToken></ListBucketResult>"
        } else {
            "<ListBucketResult><IsTruncated>false</IsTruncated>\
             <Contents><Key>data/a.csv.gz</Key><Size>3</Size></Contents>\
             <Contents><Key>data/.hidden</Key><Size>3</Size></Contents></ListBucketResult>"
        }))
    });
    let objects = client(&endpoint, Duration::from_secs(5), true)
        .list(&location("bucket", "data/"))
        .unwrap();
    let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["data/a.csv.gz", "data/z.csv"]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].starts_with("GET /bucket?list-type=2&prefix=data%2F HTTP/1.1"),
        "{}",
        seen[0]
    );
    assert!(
        seen[1].contains("continuation-token=tok%2F1%2B%3D&list-type=2&prefix=data%2F"),
        "{}",
        seen[1]
    );
    for head in seen.iter() {
        assert!(
            head.contains("authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
            "{head}"
        );
        assert!(head.contains("/eu-west-1/s3/aws4_request"), "{head}");
        assert!(head.contains("x-amz-content-sha256: e3b0c442"), "{head}");
    }
}

#[test]
fn objects_stream_chunked_bodies_and_unsigned_requests_carry_no_signature() {
    let (endpoint, seen) = serve(|head| {
        assert!(head.starts_with("GET /b/dir/a%20b.csv HTTP/1.1"), "{head}");
        Some(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\n:ID,n\r\n7\r\name\nx1,\r\n3\r\nfoo\r\n1\r\n\n\r\n0\r\n\r\n"
                .to_vec(),
        )
    });
    let mut body = client(&endpoint, Duration::from_secs(5), false)
        .get("b", "dir/a b.csv")
        .unwrap();
    let mut text = String::new();
    body.read_to_string(&mut text).unwrap();
    assert_eq!(text, ":ID,name\nx1,foo\n");
    assert!(!seen.lock().unwrap()[0].contains("authorization"));
}

#[test]
fn s3_error_documents_map_to_neptune_feed_statuses() {
    let (endpoint, _) = serve(|head| {
        let (status, code) = if head.contains("/denied") {
            ("403 Forbidden", "AccessDenied")
        } else if head.contains("/gone/") {
            ("404 Not Found", "NoSuchKey")
        } else {
            ("404 Not Found", "NoSuchBucket")
        };
        let body = format!("<Error><Code>{code}</Code><Message>says {code}</Message></Error>");
        Some(
            format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    });
    let c = client(&endpoint, Duration::from_secs(5), true);
    let e = c.list(&location("denied", "")).unwrap_err();
    assert_eq!(e.status, s3::ACCESS_DENIED);
    assert!(
        e.message.contains("AccessDenied: says AccessDenied"),
        "{}",
        e.message
    );
    assert!(e.message.contains("AKIDTEST"), "{}", e.message);
    let e = c.list(&location("missing", "x")).unwrap_err();
    assert_eq!(e.status, s3::READ_ERROR);
    assert!(
        e.message.contains("bucket 'missing' does not exist"),
        "{}",
        e.message
    );
    let e = c.get("b", "gone/k.csv").map(|_| ()).unwrap_err();
    assert_eq!(e.status, s3::FEED_DELETED);
}

#[test]
fn an_endpoint_that_is_down_fails_at_once() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = client(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(5),
        true,
    )
    .list(&location("b", ""))
    .unwrap_err();
    assert_eq!(e.status, s3::READ_ERROR);
    assert!(
        e.message.contains("is the S3 endpoint running"),
        "{}",
        e.message
    );
}

#[test]
fn an_endpoint_that_never_answers_times_out() {
    let (endpoint, _) = serve(|_| None);
    let started = Instant::now();
    let e = client(&endpoint, Duration::from_millis(500), true)
        .list(&location("b", ""))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        e.message.contains("no answer within 0.5 s"),
        "{}",
        e.message
    );
    assert!(e.message.contains("--s3-timeout-secs"), "{}", e.message);
}

#[test]
fn a_body_that_stalls_is_a_read_error_not_a_hang() {
    let (endpoint, _) = serve(|_| {
        // Promises 100 bytes, sends 9, then holds the connection.
        Some(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n:ID,name\n".to_vec())
    });
    // The server's sleep after writing keeps the socket open for 50 ms only, so use a
    // timeout below that to see the stall as a timeout rather than as a cut connection.
    let mut body = client(&endpoint, Duration::from_millis(20), true)
        .get("b", "k.csv")
        .unwrap();
    let mut text = String::new();
    let e = body.read_to_string(&mut text).unwrap_err();
    assert!(
        e.kind() == std::io::ErrorKind::TimedOut || e.to_string().contains("connection broke"),
        "{e}"
    );
}

/// Accepts one connection, writes `bytes` after the request head, then holds the
/// connection open for 10 s without sending more.
fn serve_then_hold(bytes: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        read_head(&stream);
        let _ = stream.write_all(bytes);
        let _ = stream.flush();
        thread::sleep(Duration::from_secs(10));
    });
    format!("http://{addr}")
}

/// Sets `flag` after `after`.
fn set_later(flag: &Arc<std::sync::atomic::AtomicBool>, after: Duration) {
    let flag = Arc::clone(flag);
    thread::spawn(move || {
        thread::sleep(after);
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn a_cancel_ends_a_wait_for_an_answer_long_before_the_timeout() {
    let (endpoint, _) = serve(|_| None);
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let c = client(&endpoint, Duration::from_secs(8), true).watching(Arc::clone(&cancel));
    set_later(&cancel, Duration::from_millis(100));
    let started = Instant::now();
    let e = c.list(&location("b", "")).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        e.message.contains("the load was cancelled"),
        "{}",
        e.message
    );
}

#[test]
fn a_cancel_ends_a_stalled_body_read_long_before_the_timeout() {
    let endpoint = serve_then_hold(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n:ID,name\n");
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let c = client(&endpoint, Duration::from_secs(8), true).watching(Arc::clone(&cancel));
    let mut body = c.get("b", "k.csv").unwrap();
    let mut first = [0u8; 9];
    body.read_exact(&mut first).unwrap();
    assert_eq!(&first, b":ID,name\n");
    set_later(&cancel, Duration::from_millis(100));
    let started = Instant::now();
    let e = body.read(&mut [0u8; 16]).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().contains("the load was cancelled"), "{e}");
}

#[test]
fn a_client_that_is_not_cancelled_still_reads_to_the_end() {
    let (endpoint, _) =
        serve(|_| Some(b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n:ID,name\np1,a\n".to_vec()));
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let c = client(&endpoint, Duration::from_secs(8), true).watching(cancel);
    let mut text = String::new();
    c.get("b", "k.csv")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, ":ID,name\np1,a\n");
}
