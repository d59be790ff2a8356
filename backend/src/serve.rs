//! The HTTP server loop: hyper's HTTP/1.1 connections with the timeouts a public server needs,
//! WebSocket upgrades, each request tagged with its client address, and a graceful shutdown
//! with a deadline.
//!
//! `axum::serve` sets no timeouts: a client that sends its headers one byte a minute, or stops
//! half way through an upload, held its connection (and the upload's buffer) for ever. Here
//! every connection must finish its request headers within [`Timeouts::header_read`] and keep
//! a request body flowing (no gap longer than [`Timeouts::body_idle`]); an idle keep-alive
//! connection is closed when its next request's headers do not arrive in time. WebSocket
//! connections leave this loop once upgraded; their own read and write limits are in
//! `http::ws` and `http::seat`.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a client may take, and how long shutting down may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To send a request's headers, from its first byte (or, on a kept-alive connection, from
    /// the end of the previous answer).
    pub header_read: Duration,
    /// Between two parts of a request body: a stalled upload is dropped after this.
    pub body_idle: Duration,
    /// For the connections in flight to finish once the server stops taking new ones.
    pub shutdown: Duration,
    /// How long a WebSocket may stay silent, not even answering the server's pings, before
    /// it is closed (the upgrade request itself is held to `header_read`).
    pub socket_idle: crate::http::socket::SocketIdle,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            header_read: Duration::from_secs(10),
            body_idle: Duration::from_secs(30),
            shutdown: Duration::from_secs(10),
            socket_idle: crate::http::socket::SocketIdle::default(),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish for at most [`Timeouts::shutdown`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    // Every connection task holds a receiver: the sender learns when the last one is gone.
    let (stop, stopping) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, most likely: wait rather than spin, and let the
                    // connections in flight finish.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let body_idle = timeouts.body_idle;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request
                .map(|body| Body::new(tower_http::timeout::TimeoutBody::new(body_idle, body)));
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(request)
        });
        let http = http.clone();
        let tls = tls.clone();
        let handshake = timeouts.header_read;
        let stopping = stopping.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(&http, stream, service, remote, stopping).await,
                Some(tls) => {
                    // The handshake is held to the same time as a request's headers: a
                    // client that opens a connection and says nothing is dropped either way.
                    match tokio::time::timeout(handshake, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            serve_connection(&http, stream, service, remote, stopping).await;
                        }
                        Ok(Err(err)) => {
                            tracing::debug!(client = %remote, error = %err, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(client = %remote, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    if tokio::time::timeout(timeouts.shutdown, stop.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline_s = timeouts.shutdown.as_secs(),
            "requests still in flight at the shutdown deadline; they end with the process"
        );
    }
}

/// Serves one connection (plain or TLS) until it ends, or until the server stops, when it
/// finishes the request in flight and closes.
async fn serve_connection<I, S>(
    http: &hyper::server::conn::http1::Builder,
    io: I,
    service: S,
    remote: std::net::SocketAddr,
    mut stopping: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<hyper::Request<Incoming>, Response = axum::response::Response>
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let connection = http
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let stopped = tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                // Timeouts, resets and clients that went away: theirs, not ours.
                tracing::debug!(client = %remote, error = %err, "connection ended");
            }
            false
        }
        // The guard `wait_for` returns is dropped at once: it must not be held over the
        // connection's last await.
        stop = stopping.wait_for(|stop| *stop) => stop.is_ok(),
    };
    if stopped {
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}
