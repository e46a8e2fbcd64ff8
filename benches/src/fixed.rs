//! The "trivial server": hyper over the same TLS configuration as the national mock, answering
//! every request with the same bytes and doing no other work — the practical ceiling of this
//! machine for the load generator.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Serves `body` to every request on `listener` (TLS when `tls` is given) until the process ends.
pub async fn serve(listener: TcpListener, tls: Option<Arc<rustls::ServerConfig>>, body: Bytes) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (tls, body) = (tls.clone(), body.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request to its end, as any server must to keep the connection.
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header(http::header::CONTENT_TYPE, "application/json;charset=UTF-8")
                            .body(Full::new(body))
                            .expect("a valid response"),
                    )
                }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
                Some(config) => {
                    if let Ok(s) = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await {
                        let _ = http.serve_connection(TokioIo::new(s), service).await;
                    }
                }
            }
        });
    }
}

/// Binds `addr` and returns the listener and its address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind(addr).await?;
    let a = l.local_addr()?;
    Ok((l, a))
}
