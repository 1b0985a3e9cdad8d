//! Bolt and HTTP on one port: the first 4 bytes of each connection (after TLS, when TLS is on)
//! decide. `60 60 B0 17` (the Bolt magic) hands the connection to the Bolt server; anything
//! else goes to axum. The bytes read to decide are replayed by [`Prefixed`], so neither side
//! notices the look.
//!
//! [`SniffListener`] wraps any axum [`Listener`]: a background task accepts, and a task per
//! connection sniffs (with a timeout, so a silent client holds only its own task), then either
//! serves Bolt itself or queues the connection for axum's `accept`.
//!
//! At most `max_connections` Bolt connections are served at once (`--bolt-max-connections`);
//! beyond that a new Bolt connection is closed at once.
//!
//! Connections are counted by protocol here, where the protocol is decided ([`Counted`]
//! for HTTP, a guard held while a Bolt connection is served), for `GET /metrics`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::{IncomingStream, Listener};
use nereid_bolt::server::{serve_connection, ConnectionConfig};
use nereid_bolt::session::Backend;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, Semaphore};

use crate::auth::Peer;
use crate::metrics::{ConnectionGuard, Connections};
use nereid_engine::manager::Protocol;

/// How long a new connection may take to send its first 4 bytes.
const SNIFF_TIMEOUT: Duration = Duration::from_secs(10);
const READY_BACKLOG: usize = 64;

/// Default of `--bolt-max-connections`.
pub const DEFAULT_BOLT_MAX_CONNECTIONS: usize = 1000;

/// The Bolt side of a listener.
#[derive(Clone)]
pub struct BoltService {
    pub backend: Arc<dyn Backend>,
    limit: Arc<Semaphore>,
    next_id: Arc<AtomicU64>,
    /// Counts the connections of both protocols (the HTTP ones on a shared port too).
    connections: Arc<Connections>,
}

impl BoltService {
    /// `connections`: the router's ([`crate::HttpConfig::connections`]), so that
    /// `GET /metrics` reports what this service counts.
    pub fn new(
        backend: Arc<dyn Backend>,
        max_connections: usize,
        connections: Arc<Connections>,
    ) -> Self {
        Self {
            backend,
            limit: Arc::new(Semaphore::new(max_connections.max(1))),
            next_id: Arc::new(AtomicU64::new(1)),
            connections,
        }
    }

    /// Serves one Bolt connection (the magic not yet consumed), within the connection limit.
    pub async fn serve<S>(&self, stream: S, peer: SocketAddr, local: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let Ok(_permit) = self.limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "Bolt connection refused: --bolt-max-connections reached");
            return;
        };
        let _open = self.connections.open(Protocol::Bolt);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let config = ConnectionConfig {
            connection_id: format!("bolt-{id}"),
            advertised: local.to_string(),
            ..ConnectionConfig::default()
        };
        if let Err(e) = serve_connection(stream, &*self.backend, config).await {
            tracing::debug!(%peer, "Bolt connection ended: {e}");
        }
    }

    /// Serves Bolt alone on its own listener (`--bolt-addr`), until the task is dropped.
    pub async fn serve_listener(self, listener: tokio::net::TcpListener) {
        let local = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 7687)));
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // See `serve_with_bolt`: no delayed-ACK stalls between writes.
                    let _ = stream.set_nodelay(true);
                    let service = self.clone();
                    tokio::spawn(async move { service.serve(stream, peer, local).await });
                }
                Err(e) => {
                    tracing::warn!("Bolt accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// A stream whose first bytes were already read: they are read again first.
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// An HTTP connection, counted open until axum drops it.
pub struct Counted<S> {
    inner: S,
    _open: ConnectionGuard,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Reads up to 4 bytes, stopping early once they cannot be the Bolt magic (an HTTP request
/// line starts with a letter) or at EOF.
async fn sniff<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(4);
    let mut byte = [0u8; 4];
    while prefix.len() < 4 && nereid_bolt::handshake::may_be_bolt(&prefix) {
        let n = stream.read(&mut byte[..4 - prefix.len()]).await?;
        if n == 0 {
            break;
        }
        prefix.extend_from_slice(&byte[..n]);
    }
    Ok(prefix)
}

/// What [`SniffListener`] hands to axum: an HTTP connection with the bytes it sniffed.
pub type HttpIo<L> = Counted<Prefixed<<L as Listener>::Io>>;

/// A listener that serves Bolt connections itself and yields the others to axum.
pub struct SniffListener<L: Listener> {
    local: L::Addr,
    ready: mpsc::Receiver<(HttpIo<L>, L::Addr)>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl<L> SniffListener<L>
where
    L: Listener<Addr = SocketAddr> + Send + 'static,
    L::Io: Send,
{
    pub fn new(mut inner: L, bolt: BoltService) -> io::Result<Self> {
        let local = inner.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_BACKLOG);
        let accept_task = tokio::spawn(async move {
            loop {
                let (mut io, peer) = inner.accept().await;
                let tx = tx.clone();
                let bolt = bolt.clone();
                tokio::spawn(async move {
                    let prefix = match tokio::time::timeout(SNIFF_TIMEOUT, sniff(&mut io)).await {
                        Ok(Ok(prefix)) => prefix,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "connection failed before its first bytes: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "connection sent nothing in time");
                            return;
                        }
                    };
                    let is_bolt = prefix == nereid_bolt::handshake::MAGIC;
                    let io = Prefixed::new(prefix, io);
                    if is_bolt {
                        bolt.serve(io, peer, local).await;
                    } else {
                        let io = Counted {
                            inner: io,
                            _open: bolt.connections.open(Protocol::Http),
                        };
                        let _ = tx.send((io, peer)).await;
                    }
                });
            }
        });
        Ok(Self {
            local,
            ready,
            accept_task,
        })
    }
}

impl<L: Listener> Drop for SniffListener<L> {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl<L> Listener for SniffListener<L>
where
    L: Listener<Addr = SocketAddr> + Send + 'static,
    L::Io: Send,
{
    type Io = HttpIo<L>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept task only ends when aborted by drop; nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

impl<L> axum::extract::connect_info::Connected<IncomingStream<'_, SniffListener<L>>> for Peer
where
    L: Listener<Addr = SocketAddr> + Send + 'static,
    L::Io: Send,
{
    fn connect_info(stream: IncomingStream<'_, SniffListener<L>>) -> Self {
        Peer(*stream.remote_addr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn sniffed_bytes_are_replayed_before_the_rest() {
        let (mut a, mut b) = tokio::io::duplex(64);
        tokio::io::AsyncWriteExt::write_all(&mut a, b"GET / HTTP/1.1\r\n")
            .await
            .unwrap();
        drop(a);
        let prefix = sniff(&mut b).await.unwrap();
        // At most the 4 bytes that decide, and never the magic.
        assert!(!prefix.is_empty() && prefix.len() <= 4, "{prefix:?}");
        assert!(b"GET / HTTP/1.1\r\n".starts_with(&prefix));
        let mut all = Vec::new();
        Prefixed::new(prefix, b)
            .read_to_end(&mut all)
            .await
            .unwrap();
        assert_eq!(all, b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn the_bolt_magic_is_read_whole_even_one_byte_at_a_time() {
        let (mut a, mut b) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            for byte in nereid_bolt::handshake::MAGIC {
                tokio::io::AsyncWriteExt::write_all(&mut a, &[byte])
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
            a
        });
        let prefix = sniff(&mut b).await.unwrap();
        assert_eq!(prefix, nereid_bolt::handshake::MAGIC);
        drop(writer.await.unwrap());
    }
}
