//! A blocking HTTP/1.1 client for the S3 calls, over hyper's client connection (hyper is
//! already the server's HTTP stack): one connection per request, driven by a
//! current-thread tokio runtime owned by the response, so a body can be read as a
//! [`std::io::Read`] from the loader's reading thread.
//!
//! An `https://` endpoint is spoken to over rustls (the server's TLS stack), its certificate
//! checked against the CA bundle the configuration was given.
//!
//! Every wait is bounded: connecting, the response head and each read of the body give up
//! after the client's timeout with [`io::ErrorKind::TimedOut`], so an endpoint that stops
//! answering fails the load instead of hanging it. A client made for a job also watches the
//! job's cancel flag while it waits, so `DELETE /loader/{id}` does not wait out a stalled
//! endpoint's timeout: the wait ends within [`CANCEL_POLL`] with an error whose message is
//! [`CANCELLED`].

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::runtime::Runtime;

/// How often a wait looks at the job's cancel flag.
pub(crate) const CANCEL_POLL: Duration = Duration::from_millis(50);

/// The message of the error a wait ends with when its job is cancelled.
pub(crate) const CANCELLED: &str = "the load was cancelled";

/// How long a wait may last, and the flag that ends it early.
#[derive(Clone, Debug)]
struct Wait {
    timeout: Duration,
    cancel: Option<Arc<AtomicBool>>,
}

impl Wait {
    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// `f`'s output, or `TimedOut` after the timeout, or the [`CANCELLED`] error soon
    /// after the flag is set.
    async fn within<F: std::future::Future>(&self, what: &str, f: F) -> io::Result<F::Output> {
        let deadline = Instant::now() + self.timeout;
        let mut f = std::pin::pin!(f);
        loop {
            if self.cancelled() {
                return Err(io::Error::other(CANCELLED));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no answer within {} s while {what}",
                        self.timeout.as_secs_f64()
                    ),
                ));
            }
            let slice = if self.cancel.is_some() {
                left.min(CANCEL_POLL)
            } else {
                left
            };
            if let Ok(out) = tokio::time::timeout(slice, f.as_mut()).await {
                return Ok(out);
            }
        }
    }
}

/// Where requests go: `http://host[:port]`.
#[derive(Clone)]
pub(crate) struct Client {
    /// `host` or `host:port`, the `Host` header (and what is signed).
    pub host_header: String,
    connect_host: String,
    port: u16,
    wait: Wait,
    /// For `https://`: the TLS configuration and the name the certificate must have.
    tls: Option<(std::sync::Arc<rustls::ClientConfig>, ServerName<'static>)>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.host_header)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// A response: its status, headers and the body still to read.
pub(crate) struct Response {
    pub status: u16,
    pub body: Body,
}

/// A response body, read as it arrives.
pub(crate) struct Body {
    rt: Runtime,
    incoming: Incoming,
    chunk: Bytes,
    wait: Wait,
    done: bool,
}

impl Client {
    pub fn new(
        host: &str,
        port: Option<u16>,
        timeout: Duration,
        tls: Option<(std::sync::Arc<rustls::ClientConfig>, ServerName<'static>)>,
    ) -> Client {
        let port_num = port.unwrap_or(if tls.is_some() { 443 } else { 80 });
        let host_header = match port {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        // `[::1]` in a URL is `::1` to connect to.
        let connect_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Client {
            host_header,
            connect_host,
            port: port_num,
            wait: Wait {
                timeout,
                cancel: None,
            },
            tls,
        }
    }

    /// The same client, its waits ended early once `cancel` is set.
    pub fn watching(mut self, cancel: Arc<AtomicBool>) -> Client {
        self.wait.cancel = Some(cancel);
        self
    }

    /// Sends `GET path_and_query` with `headers` (and `Host`) and waits for the response head.
    pub fn get(&self, path_and_query: &str, headers: &[(&str, String)]) -> io::Result<Response> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let mut request = hyper::Request::builder()
            .method("GET")
            .uri(path_and_query)
            .header("host", &self.host_header);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let wait = self.wait.clone();
        let addr = (self.connect_host.clone(), self.port);
        let tls = self.tls.clone();
        let response = rt.block_on(async move {
            let stream = wait
                .within("connecting", tokio::net::TcpStream::connect(addr))
                .await??;
            let _ = stream.set_nodelay(true);
            match tls {
                None => exchange(stream, request, &wait).await,
                Some((config, name)) => {
                    let connector = tokio_rustls::TlsConnector::from(config);
                    let stream = wait
                        .within("the TLS handshake", connector.connect(name, stream))
                        .await?
                        .map_err(|e| io::Error::new(e.kind(), format!("TLS: {e}")))?;
                    exchange(stream, request, &wait).await
                }
            }
        })?;
        let status = response.status().as_u16();
        Ok(Response {
            status,
            body: Body {
                rt,
                incoming: response.into_body(),
                chunk: Bytes::new(),
                wait: self.wait.clone(),
                done: false,
            },
        })
    }
}

/// Sends `request` over `io` and waits for the response head.
async fn exchange<IO>(
    io: IO,
    request: hyper::Request<Empty<Bytes>>,
    wait: &Wait,
) -> io::Result<hyper::Response<Incoming>>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(io::Error::other)?;
    // Driven whenever the runtime runs: while waiting for the head, and later in each
    // `Body::read`.
    tokio::spawn(connection);
    wait.within("waiting for the response", sender.send_request(request))
        .await?
        .map_err(io::Error::other)
}

impl Body {
    /// The whole body, if it is at most `max` bytes (S3's XML answers are small; a huge
    /// one is not an S3 answer).
    pub fn read_limited(&mut self, max: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            if out.len() + n > max {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the response is larger than {max} bytes"),
                ));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            let wait = &self.wait;
            let incoming = &mut self.incoming;
            let frame = self
                .rt
                .block_on(wait.within("reading the object", incoming.frame()))?;
            match frame {
                None => self.done = true,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(io::Error::other(format!("the connection broke: {e}")));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.chunk = data;
                    }
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}
