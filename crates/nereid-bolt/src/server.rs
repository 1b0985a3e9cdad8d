//! The connection loop: handshake, then dechunk → decode → [`Session::handle`] → encode →
//! chunk, over any `AsyncRead + AsyncWrite` (a TCP stream, a TLS stream, a sniffed stream
//! whose first bytes were already read).
//!
//! A connection that closes while a request is being handled ends at once; the dropped
//! handling future is the backend's signal to cancel the query. A RESET that arrives while a
//! request runs interrupts it the same way (the spec's INTERRUPTED state): the running
//! request and any queued before the RESET are answered IGNORED, then the RESET SUCCESS.
//!
//! Responses to pipelined requests are written together once no further complete request is
//! buffered, so a driver's `RUN`+`PULL` costs one write.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::chunk::{self, ChunkReader};
use crate::handshake::{self, Handshake, ManifestReply, Version};
use crate::message::{Request, Response};
use crate::session::{Backend, Next, Session, Step};

/// Limits and identity of one connection.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Largest dechunked message accepted (a query text plus its parameters).
    pub max_message: usize,
    /// How long the client may take to send its 20-byte opening.
    pub handshake_timeout: Duration,
    /// How long a connection may sit between requests before the server closes it (an
    /// open transaction is rolled back with it). Drivers reconnect a pooled connection the
    /// server closed.
    pub idle_timeout: Duration,
    /// `connection_id` reported in HELLO's SUCCESS.
    pub connection_id: String,
    /// The address named in routing tables when the driver sends none ("host:port").
    pub advertised: String,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            max_message: 64 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(3600),
            connection_id: "bolt-0".into(),
            advertised: "localhost:8182".into(),
        }
    }
}

/// Why a connection ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("Bolt I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a Bolt connection (no magic preamble)")]
    NotBolt,
    #[error("no common Bolt version")]
    NoCommonVersion,
    #[error("the client's answer to the handshake manifest is invalid: {0}")]
    BadManifestReply(String),
    #[error("the Bolt handshake timed out")]
    HandshakeTimeout,
    #[error("the Bolt connection was idle for longer than the idle timeout")]
    IdleTimeout,
    #[error(transparent)]
    Chunk(#[from] chunk::ChunkError),
}

/// Reads the client's opening (and, for manifest v1, its pick) and answers it: the agreed
/// version, or why there is none. All of it is bound by the handshake timeout.
async fn handshake<S>(stream: &mut S) -> Result<Version, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut opening = [0u8; 20];
    stream.read_exact(&mut opening).await?;
    match handshake::negotiate(&opening) {
        Handshake::Agreed(v) => {
            stream.write_all(&v.response()).await?;
            stream.flush().await?;
            Ok(v)
        }
        Handshake::NoCommonVersion => {
            stream.write_all(&handshake::NO_VERSION).await?;
            stream.flush().await?;
            Err(ConnectionError::NoCommonVersion)
        }
        Handshake::NotBolt => Err(ConnectionError::NotBolt),
        Handshake::Manifest => {
            // One write: a client may read the whole offer in the read that brings its
            // first four bytes (see the handshake module).
            stream.write_all(&handshake::manifest_v1_offer()).await?;
            stream.flush().await?;
            // The pick (4 bytes) and a varint of at most MAX_VARINT_BYTES, read byte by
            // byte so that nothing of the HELLO behind it is consumed here.
            let mut reply = vec![0u8; 4];
            stream.read_exact(&mut reply).await?;
            loop {
                match handshake::manifest_reply(&reply) {
                    ManifestReply::NeedMore => {
                        let mut byte = [0u8; 1];
                        stream.read_exact(&mut byte).await?;
                        reply.push(byte[0]);
                    }
                    ManifestReply::Chosen { version, .. } => return Ok(version),
                    ManifestReply::NoCommonVersion => return Err(ConnectionError::NoCommonVersion),
                    ManifestReply::Invalid(why) => {
                        return Err(ConnectionError::BadManifestReply(why))
                    }
                }
            }
        }
    }
}

/// Serves one Bolt connection to its end (GOODBYE, EOF, or an error). Returns the agreed
/// version on a clean end.
pub async fn serve_connection<S, B>(
    mut stream: S,
    backend: &B,
    config: ConnectionConfig,
) -> Result<Version, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    B: Backend + ?Sized,
{
    let version = tokio::time::timeout(config.handshake_timeout, handshake(&mut stream))
        .await
        .map_err(|_| ConnectionError::HandshakeTimeout)??;

    let mut session = Session::new(backend, version, config.connection_id, config.advertised);
    let mut reader = ChunkReader::new(config.max_message);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    // Whole messages not yet handled, in order.
    let mut queue: VecDeque<Vec<u8>> = VecDeque::new();
    // A PULL answered in slices goes on before the next request.
    let mut resume = false;
    loop {
        let step = if resume {
            resume = false;
            Step::Resume
        } else {
            match next_request(
                &mut stream,
                &mut reader,
                &mut queue,
                &mut session,
                &mut out,
                &mut buf,
                config.idle_timeout,
            )
            .await?
            {
                Some(request) => Step::Request(request),
                None => return Ok(version),
            }
        };
        // While a request (a query) runs, keep reading: a client that goes away, or a RESET
        // behind it, drops the handling future, which lets the backend cancel the query.
        // Other bytes read meanwhile are pipelined requests, queued for later.
        let outcome = {
            let handled = session.step(step);
            tokio::pin!(handled);
            loop {
                tokio::select! {
                    // A request that is done wins over what the client sent meanwhile (an
                    // EOF right behind a request must not drop its answer).
                    biased;
                    done = &mut handled => break Some(done),
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return Ok(version),
                        Ok(n) => {
                            reader.push(&buf[..n]);
                            // A chunking error is reported once the request is done.
                            let _ = drain(&mut reader, &mut queue);
                            if queue.iter().any(|m| is_reset(m)) {
                                break None;
                            }
                        }
                    },
                }
            }
        };
        let (responses, next) = match outcome {
            Some(done) => done,
            None => {
                // INTERRUPTED: the running request and everything queued before the RESET
                // are IGNORED; the RESET itself is then handled as usual.
                write_responses(&[Response::Ignored], &mut out);
                while let Some(m) = queue.front() {
                    if is_reset(m) {
                        break;
                    }
                    queue.pop_front();
                    write_responses(&[Response::Ignored], &mut out);
                }
                continue;
            }
        };
        write_responses(&responses, &mut out);
        match next {
            Next::Continue => {}
            Next::Close => {
                stream.write_all(&out).await?;
                stream.flush().await?;
                return Ok(version);
            }
            Next::Resume => {
                // The records of this slice leave before the next is produced, so a large
                // result never sits whole in memory; a client that does not read holds the
                // producer back through the socket.
                stream.write_all(&out).await?;
                stream.flush().await?;
                out.clear();
                resume = true;
            }
        }
    }
}

/// The next request to handle: writes pending answers and reads when no whole message is
/// buffered; `None` at a clean end of the connection (EOF, or an undecodable message,
/// answered with a FAILURE).
async fn next_request<S, B>(
    stream: &mut S,
    reader: &mut ChunkReader,
    queue: &mut VecDeque<Vec<u8>>,
    session: &mut Session<'_, B>,
    out: &mut Vec<u8>,
    buf: &mut [u8],
    idle_timeout: Duration,
) -> Result<Option<Request>, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    B: Backend + ?Sized,
{
    loop {
        if let Err(e) = drain(reader, queue) {
            let (responses, _) = session.protocol_error(e.to_string());
            write_responses(&responses, out);
            stream.write_all(out).await?;
            stream.flush().await?;
            return Err(e.into());
        }
        let Some(message) = queue.pop_front() else {
            if !out.is_empty() {
                stream.write_all(out).await?;
                stream.flush().await?;
                out.clear();
            }
            let n = tokio::time::timeout(idle_timeout, stream.read(buf))
                .await
                .map_err(|_| ConnectionError::IdleTimeout)??;
            if n == 0 {
                return Ok(None);
            }
            reader.push(&buf[..n]);
            continue;
        };
        let request = match Request::decode(&message) {
            Ok(request) => request,
            Err(e) => {
                let (responses, _) = session.protocol_error(e.to_string());
                write_responses(&responses, out);
                stream.write_all(out).await?;
                stream.flush().await?;
                return Ok(None);
            }
        };
        if matches!(request, Request::Run { .. }) && !out.is_empty() {
            // Answers to earlier pipelined requests go out before a query may take long.
            stream.write_all(out).await?;
            stream.flush().await?;
            out.clear();
        }
        return Ok(Some(request));
    }
}

/// Moves every whole message the reader holds to `queue`.
fn drain(reader: &mut ChunkReader, queue: &mut VecDeque<Vec<u8>>) -> Result<(), chunk::ChunkError> {
    while let Some(m) = reader.next_message()? {
        queue.push_back(m);
    }
    Ok(())
}

fn is_reset(message: &[u8]) -> bool {
    // A RESET is the structure header `B0 0F` and nothing else.
    message == [0xB0, crate::message::tag::RESET]
}

fn write_responses(responses: &[Response], out: &mut Vec<u8>) {
    for response in responses {
        let mut body = Vec::new();
        if let Err(e) = response.encode(&mut body) {
            // A value the encoder cannot write (e.g. a structure with too many fields) must
            // still answer the request.
            body.clear();
            let failure = Response::Failure {
                code: "Neo.DatabaseError.General.UnknownError".into(),
                message: format!("cannot encode the response: {e}"),
            };
            if failure.encode(&mut body).is_err() {
                continue;
            }
        }
        chunk::write_message(&body, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Auth;
    use crate::packstream::{self, Value};
    use crate::session::{
        BoltError, BoxFuture, Materialized, QueryOutcome, RecordStream, RunRequest,
    };
    use tokio::io::duplex;

    /// Answers every query with one record, except "hang", which never finishes; counts the
    /// dropped (interrupted) runs.
    #[derive(Default)]
    struct One {
        dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    struct CountDrop(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Backend for One {
        fn authenticate(&self, _: &Auth) -> Result<Option<String>, BoltError> {
            Ok(None)
        }
        fn run(&self, r: RunRequest) -> BoxFuture<'_, Result<Box<dyn RecordStream>, BoltError>> {
            let guard = CountDrop(self.dropped.clone());
            Box::pin(async move {
                if r.query == "hang" {
                    std::future::pending::<()>().await;
                }
                std::mem::forget(guard);
                let n = r
                    .query
                    .strip_prefix("ROWS ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                Ok(Box::new(Materialized::from(QueryOutcome {
                    fields: vec!["x".into()],
                    records: (0..n).map(|i| vec![Value::Integer(i)]).collect(),
                    summary: vec![],
                })) as Box<dyn RecordStream>)
            })
        }
    }

    fn request(tag: u8, fields: Vec<Value>, out: &mut Vec<u8>) {
        let body = packstream::to_bytes(&Value::Structure { tag, fields }).expect("encodable");
        chunk::write_message(&body, out);
    }

    #[tokio::test]
    async fn a_5_0_client_runs_a_query_over_a_stream() {
        let (mut client, server) = duplex(1 << 16);
        let task = tokio::spawn(async move {
            serve_connection(server, &One::default(), ConnectionConfig::default()).await
        });
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 0, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        use crate::message::tag;
        request(
            tag::HELLO,
            vec![Value::Dictionary(vec![(
                "user_agent".into(),
                Value::String("t".into()),
            )])],
            &mut wire,
        );
        request(
            tag::RUN,
            vec![Value::String("RETURN 1".into()), Value::Dictionary(vec![])],
            &mut wire,
        );
        request(tag::PULL, vec![Value::Dictionary(vec![])], &mut wire);
        request(tag::GOODBYE, vec![], &mut wire);
        client.write_all(&wire).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(task.await.unwrap().unwrap(), Version::new(5, 0));
        assert_eq!(&got[..4], &[0, 0, 0, 5]);
        let mut reader = ChunkReader::new(1 << 20);
        reader.push(&got[4..]);
        let mut tags = Vec::new();
        while let Some(m) = reader.next_message().unwrap() {
            match packstream::decode(&m).unwrap() {
                Value::Structure { tag, .. } => tags.push(tag),
                other => panic!("{other:?}"),
            }
        }
        // HELLO, RUN: SUCCESS; PULL: RECORD, SUCCESS.
        assert_eq!(tags, vec![0x70, 0x70, 0x71, 0x70]);
    }

    #[tokio::test]
    async fn a_manifest_client_picks_from_the_offer_and_runs_a_query() {
        let (mut client, server) = duplex(1 << 16);
        let task = tokio::spawn(async move {
            serve_connection(server, &One::default(), ConnectionConfig::default()).await
        });
        // neo4j Python 6.x / JavaScript 6.x / Java 6.x (bolt-connection-java) opening.
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 1, 0xFF, 0, 8, 8, 5, 0, 2, 4, 4, 0, 0, 0, 3]);
        client.write_all(&wire).await.unwrap();
        let mut offer = [0u8; 14];
        client.read_exact(&mut offer).await.unwrap();
        assert_eq!(offer.to_vec(), handshake::manifest_v1_offer());
        // The pick and no capabilities, then the messages at once.
        let mut wire = vec![0, 0, 3, 5, 0];
        hello(&mut wire);
        use crate::message::tag;
        request(
            tag::LOGON,
            vec![Value::Dictionary(vec![(
                "scheme".into(),
                Value::String("none".into()),
            )])],
            &mut wire,
        );
        request(
            tag::RUN,
            vec![Value::String("RETURN 1".into()), Value::Dictionary(vec![])],
            &mut wire,
        );
        request(tag::PULL, vec![Value::Dictionary(vec![])], &mut wire);
        request(tag::GOODBYE, vec![], &mut wire);
        client.write_all(&wire).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(task.await.unwrap().unwrap(), Version::new(5, 3));
        let mut reader = ChunkReader::new(1 << 20);
        reader.push(&got);
        let mut tags = Vec::new();
        while let Some(m) = reader.next_message().unwrap() {
            match packstream::decode(&m).unwrap() {
                Value::Structure { tag, .. } => tags.push(tag),
                other => panic!("{other:?}"),
            }
        }
        // HELLO, LOGON (5.1+), RUN: SUCCESS; PULL: RECORD, SUCCESS.
        assert_eq!(tags, vec![0x70, 0x70, 0x70, 0x71, 0x70]);
    }

    #[tokio::test]
    async fn a_manifest_pick_outside_the_offer_closes_the_connection() {
        for (pick, expect_no_common) in
            [(vec![0u8, 0, 0, 0, 0], true), (vec![0, 0, 8, 5, 0], false)]
        {
            let (mut client, server) = duplex(1024);
            let task = tokio::spawn(async move {
                serve_connection(server, &One::default(), ConnectionConfig::default()).await
            });
            let mut wire = handshake::MAGIC.to_vec();
            wire.extend_from_slice(&[0, 0, 1, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            wire.extend_from_slice(&pick);
            client.write_all(&wire).await.unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, handshake::manifest_v1_offer());
            let outcome = task.await.unwrap();
            if expect_no_common {
                assert!(
                    matches!(outcome, Err(ConnectionError::NoCommonVersion)),
                    "{outcome:?}"
                );
            } else {
                assert!(
                    matches!(outcome, Err(ConnectionError::BadManifestReply(_))),
                    "{outcome:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn a_manifest_client_that_never_picks_times_out() {
        let (mut client, server) = duplex(1024);
        let config = ConnectionConfig {
            handshake_timeout: Duration::from_millis(50),
            ..ConnectionConfig::default()
        };
        let task =
            tokio::spawn(async move { serve_connection(server, &One::default(), config).await });
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 1, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // Half a pick, then silence.
        wire.extend_from_slice(&[0, 0]);
        client.write_all(&wire).await.unwrap();
        assert!(matches!(
            task.await.unwrap(),
            Err(ConnectionError::HandshakeTimeout)
        ));
        drop(client);
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_after_the_idle_timeout() {
        let (mut client, server) = duplex(1 << 16);
        let config = ConnectionConfig {
            idle_timeout: Duration::from_millis(50),
            ..ConnectionConfig::default()
        };
        let task =
            tokio::spawn(async move { serve_connection(server, &One::default(), config).await });
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 0, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        hello(&mut wire);
        client.write_all(&wire).await.unwrap();
        let started = std::time::Instant::now();
        // The version, HELLO's SUCCESS, then the end of the stream once it idled.
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert!(got.len() > 4);
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(matches!(
            task.await.unwrap(),
            Err(ConnectionError::IdleTimeout)
        ));
    }

    #[tokio::test]
    async fn no_common_version_is_answered_with_zeros() {
        let (mut client, server) = duplex(1024);
        let task = tokio::spawn(async move {
            serve_connection(server, &One::default(), ConnectionConfig::default()).await
        });
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
        client.write_all(&wire).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, handshake::NO_VERSION);
        assert!(matches!(
            task.await.unwrap(),
            Err(ConnectionError::NoCommonVersion)
        ));
    }

    fn hello(out: &mut Vec<u8>) {
        request(
            crate::message::tag::HELLO,
            vec![Value::Dictionary(vec![(
                "user_agent".into(),
                Value::String("t".into()),
            )])],
            out,
        );
    }

    fn run(query: &str, out: &mut Vec<u8>) {
        request(
            crate::message::tag::RUN,
            vec![Value::String(query.into()), Value::Dictionary(vec![])],
            out,
        );
    }

    /// The tags of the responses in `bytes` (after the 4-byte version answer).
    fn tags(bytes: &[u8]) -> Vec<u8> {
        let mut reader = ChunkReader::new(1 << 20);
        reader.push(bytes);
        let mut tags = Vec::new();
        while let Some(m) = reader.next_message().unwrap() {
            match packstream::decode(&m).unwrap() {
                Value::Structure { tag, .. } => tags.push(tag),
                other => panic!("{other:?}"),
            }
        }
        tags
    }

    #[tokio::test]
    async fn reset_interrupts_a_running_query() {
        let backend = std::sync::Arc::new(One::default());
        let dropped = backend.dropped.clone();
        let (mut client, server) = duplex(1 << 16);
        let b = backend.clone();
        let task = tokio::spawn(async move {
            serve_connection(server, &*b, ConnectionConfig::default()).await
        });
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        hello(&mut wire);
        run("hang", &mut wire);
        request(
            crate::message::tag::PULL,
            vec![Value::Dictionary(vec![])],
            &mut wire,
        );
        client.write_all(&wire).await.unwrap();
        // HELLO's SUCCESS arrives; the RUN hangs.
        let mut got = vec![0u8; 4];
        client.read_exact(&mut got).await.unwrap();
        tokio::task::yield_now().await;
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 0);
        let mut wire = Vec::new();
        request(crate::message::tag::RESET, vec![], &mut wire);
        run("RETURN 1", &mut wire);
        request(
            crate::message::tag::PULL,
            vec![Value::Dictionary(vec![])],
            &mut wire,
        );
        request(crate::message::tag::GOODBYE, vec![], &mut wire);
        client.write_all(&wire).await.unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        task.await.unwrap().unwrap();
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 1);
        // HELLO: SUCCESS; RUN hang: IGNORED; PULL: IGNORED; RESET: SUCCESS; RUN, PULL as usual.
        assert_eq!(tags(&rest), vec![0x70, 0x7E, 0x7E, 0x70, 0x70, 0x71, 0x70]);
    }

    #[tokio::test]
    async fn a_pull_of_everything_arrives_in_slices_over_the_wire() {
        let (mut client, server) = duplex(1 << 16);
        let task = tokio::spawn(async move {
            serve_connection(server, &One::default(), ConnectionConfig::default()).await
        });
        let rows = 2 * crate::session::PULL_SLICE + 7;
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        hello(&mut wire);
        run(&format!("ROWS {rows}"), &mut wire);
        request(
            crate::message::tag::PULL,
            vec![Value::Dictionary(vec![("n".into(), Value::Integer(-1))])],
            &mut wire,
        );
        run("ROWS 1", &mut wire);
        request(
            crate::message::tag::PULL,
            vec![Value::Dictionary(vec![])],
            &mut wire,
        );
        request(crate::message::tag::GOODBYE, vec![], &mut wire);
        client.write_all(&wire).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        task.await.unwrap().unwrap();
        let tags = tags(&got[4..]);
        let records = tags.iter().filter(|t| **t == 0x71).count();
        assert_eq!(records, rows + 1);
        // HELLO, RUN: SUCCESS; the records; their SUCCESS; the second RUN and PULL.
        assert_eq!(&tags[..2], &[0x70, 0x70]);
        assert_eq!(&tags[tags.len() - 4..], &[0x70, 0x70, 0x71, 0x70]);
    }

    #[tokio::test]
    async fn a_client_gone_mid_query_drops_the_run() {
        let backend = std::sync::Arc::new(One::default());
        let dropped = backend.dropped.clone();
        let (mut client, server) = duplex(1 << 16);
        let b = backend.clone();
        let task = tokio::spawn(async move {
            serve_connection(server, &*b, ConnectionConfig::default()).await
        });
        let mut wire = handshake::MAGIC.to_vec();
        wire.extend_from_slice(&[0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        hello(&mut wire);
        run("hang", &mut wire);
        client.write_all(&wire).await.unwrap();
        let mut got = vec![0u8; 4];
        client.read_exact(&mut got).await.unwrap();
        drop(client);
        task.await.unwrap().unwrap();
        assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
