//! Thread per core: the server's port served by one single-threaded runtime per core.
//!
//! One multi-threaded tokio runtime woke a second worker thread on almost every request
//! (its work-stealing hand-off), which cost about 0.8 context switches and 23 µs of CPU
//! per point lookup: 1.8 switches and 63 µs against 1.0 and 40 µs with one thread
//! (`perf stat -e task-clock,context-switches -p <server>` over 5,000 `RETURN 1` requests
//! on one keep-alive connection, 2026-12-04). So every core gets its own current-thread
//! runtime, all accepting on the one listening socket (each through its own descriptor and
//! its own epoll: whichever thread is free takes the next connection), and a connection
//! stays on the thread that accepted it, as in actix-web and Seastar. (Not `SO_REUSEPORT`:
//! it would let a second server of the same user bind the port too and take half of the
//! connections, where it must fail with "address in use".) Tasks a connection spawns (TLS handshakes,
//! Bolt writers) run on its thread; blocking work goes to that runtime's blocking pool;
//! queries that outlast their inline slice go to the query manager's workers as before.
//!
//! [`listeners`] binds the socket (listening before the server says it is, so a client
//! that reads the address from the log can connect at once), and [`spawn`] starts one
//! thread per listener, each running [`crate::serve_with_bolt`] until `stop` turns true.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::Router;
use tokio::sync::watch;

use crate::sniff::BoltService;

/// `addr`'s listening socket, bound once and handed out `n` times (duplicated descriptors
/// of the one socket), as std listeners to be moved to their threads. Must run inside a
/// tokio runtime.
pub async fn listeners(addr: SocketAddr, n: usize) -> io::Result<Vec<std::net::TcpListener>> {
    let first = tokio::net::TcpListener::bind(addr).await?.into_std()?;
    let mut out = Vec::with_capacity(n.max(1));
    for _ in 1..n.max(1) {
        out.push(first.try_clone()?);
    }
    out.insert(0, first);
    Ok(out)
}

/// Starts one thread with a current-thread runtime per listener, each serving `router` (and
/// Bolt) until `stop` turns true, then finishing its open requests. `stack` is the size of
/// those threads' stacks and of their blocking pools' (short queries run on them).
pub fn spawn(
    listeners: Vec<std::net::TcpListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: Router,
    bolt: Option<BoltService>,
    stack: usize,
    stop: watch::Receiver<bool>,
) -> io::Result<Vec<JoinHandle<io::Result<()>>>> {
    let mut threads = Vec::with_capacity(listeners.len());
    for (i, listener) in listeners.into_iter().enumerate() {
        let (tls, router, bolt, mut stop) =
            (tls.clone(), router.clone(), bolt.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name(format!("nereid-http-{i}"))
            .stack_size(stack)
            .spawn(move || -> io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .thread_stack_size(stack)
                    .build()?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    crate::serve_with_bolt(listener, tls, router, bolt, async move {
                        // A dropped sender also stops the server.
                        let _ = stop.wait_for(|stop| *stop).await;
                    })
                    .await
                })
            })?;
        threads.push(thread);
    }
    Ok(threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_share_one_socket_and_the_port_stays_exclusive() {
        let all = listeners("127.0.0.1:0".parse().unwrap(), 2).await.unwrap();
        let ports: Vec<u16> = all.iter().map(|l| l.local_addr().unwrap().port()).collect();
        assert_eq!(ports.len(), 2);
        assert!(ports.iter().all(|&p| p == ports[0] && p != 0), "{ports:?}");
        // Listening before it is handed out: a connect succeeds at once.
        let addr = all[0].local_addr().unwrap();
        for _ in 0..8 {
            std::net::TcpStream::connect(addr).unwrap();
        }
        // A second server on the same port fails, as it must.
        let again = listeners(addr, 2).await.unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AddrInUse, "{again}");
    }

    #[test]
    fn every_thread_serves_and_stops() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let all = runtime
            .block_on(listeners("127.0.0.1:0".parse().unwrap(), 2))
            .unwrap();
        let addr = all[0].local_addr().unwrap();
        let router = Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
        let (tx, rx) = watch::channel(false);
        let threads = spawn(all, None, router, None, 2 << 20, rx).unwrap();
        // Many connections, some taken by each thread.
        for _ in 0..16 {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            assert!(
                out.starts_with("HTTP/1.1 200") && out.ends_with("pong"),
                "{out}"
            );
        }
        tx.send(true).unwrap();
        for t in threads {
            t.join().unwrap().unwrap();
        }
    }
}
