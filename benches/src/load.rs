//! A closed-loop HTTP/1.1 load generator: `concurrency` keep-alive connections, each sending
//! the same request again as soon as the previous answer is read in full. Latency is recorded
//! per request (from sending to the last body byte) in an HDR histogram; only requests that
//! start after the warm-up and finish inside the measured window count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

/// What to send, and where.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// For SNI and the `Host` header.
    pub host: String,
    /// `None`: plain HTTP.
    pub tls: Option<Arc<ClientConfig>>,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The figures of one load run.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Stats {
    pub concurrency: usize,
    /// Requests completed inside the measured window.
    pub requests: u64,
    /// Answers other than 200, and requests that failed (connection errors), in the window.
    pub errors: u64,
    pub rps: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(t: &Target) -> anyhow::Result<Sender> {
    let tcp = TcpStream::connect(t.addr).await?;
    tcp.set_nodelay(true)?;
    macro_rules! handshake {
        ($io:expr) => {{
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new($io)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender
        }};
    }
    Ok(match &t.tls {
        None => handshake!(tcp),
        Some(config) => {
            let name = ServerName::try_from(t.host.clone())?;
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await?;
            handshake!(tls)
        }
    })
}

fn request(t: &Target) -> Request<Full<Bytes>> {
    let mut b = Request::post(t.path.as_str())
        .header(http::header::HOST, t.host.as_str())
        .header(http::header::CONTENT_TYPE, "application/json;charset=UTF-8");
    for (k, v) in &t.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(t.body.clone())).expect("a valid request")
}

/// One request on a fresh connection: the status and the body.
pub async fn once(t: &Target) -> anyhow::Result<(u16, Bytes)> {
    let mut sender = connect(t).await?;
    let response = sender.send_request(request(t)).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

struct Window {
    from: Instant,
    until: Instant,
}

/// One connection's loop; returns its histogram and error count.
async fn worker(t: Target, w: Arc<Window>) -> (Histogram<u64>, u64) {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    let mut errors = 0;
    let mut sender: Option<Sender> = None;
    loop {
        let started = Instant::now();
        if started >= w.until {
            break;
        }
        let counted = started >= w.from;
        let s = match sender.as_mut() {
            Some(s) => s,
            None => match connect(&t).await {
                Ok(s) => sender.insert(s),
                Err(_) => {
                    errors += u64::from(counted);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let ok = async {
            s.ready().await?;
            let response = s.send_request(request(&t)).await?;
            let status = response.status();
            response.into_body().collect().await?;
            anyhow::Ok(status == http::StatusCode::OK)
        }
        .await;
        let done = Instant::now();
        if !counted || done > w.until {
            if ok.is_err() {
                sender = None;
            }
            continue;
        }
        match ok {
            Ok(true) => {
                let us = (done - started).as_micros().max(1) as u64;
                h.saturating_record(us);
            }
            Ok(false) => errors += 1,
            Err(_) => {
                errors += 1;
                sender = None;
            }
        }
    }
    (h, errors)
}

/// Runs `concurrency` connections for `warmup` + `measure` and reports the measured window.
pub async fn run(t: &Target, concurrency: usize, warmup: Duration, measure: Duration) -> Stats {
    let from = Instant::now() + warmup;
    let w = Arc::new(Window {
        from,
        until: from + measure,
    });
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| tokio::spawn(worker(t.clone(), w.clone())))
        .collect();
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds");
    let mut errors = 0;
    for task in tasks {
        if let Ok((h, e)) = task.await {
            all.add(&h).expect("same bounds");
            errors += e;
        }
    }
    let requests = all.len();
    Stats {
        concurrency,
        requests,
        errors,
        rps: requests as f64 / measure.as_secs_f64(),
        p50_us: all.value_at_quantile(0.50),
        p99_us: all.value_at_quantile(0.99),
        max_us: all.max(),
    }
}

/// A TLS client trusting `ca_pem`, or — for a peer with its own self-signed certificate
/// (WireMock's built-in keystore) — trusting anything. Never use the latter outside a bench.
pub fn tls_config(ca_pem: Option<&str>) -> anyhow::Result<Arc<ClientConfig>> {
    match ca_pem {
        Some(ca) => Ok(onshi_national::http::tls::client_config(ca, None)?),
        None => {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(TrustAnything(provider)))
                .with_no_client_auth();
            Ok(Arc::new(config))
        }
    }
}

#[derive(Debug)]
struct TrustAnything(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for TrustAnything {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn trivial(tls: bool) -> Target {
        let pki = onshi_national::pki::embedded();
        let (listener, addr) = crate::fixed::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("binds");
        let config = tls.then(|| {
            onshi_national::http::ServerTls::from_pki(&pki)
                .expect("the embedded PKI")
                .config
        });
        tokio::spawn(crate::fixed::serve(listener, config, Bytes::from_static(b"{\"ok\":1}")));
        Target {
            addr,
            host: "localhost".into(),
            tls: tls.then(|| tls_config(Some(pki.ca_cert().expect("a CA"))).expect("a client config")),
            path: "/x".into(),
            headers: vec![("authorization".into(), "t".into())],
            body: Bytes::from_static(b"{}"),
        }
    }

    #[tokio::test]
    async fn it_counts_answers_over_plain_and_tls_connections() {
        for tls in [false, true] {
            let t = trivial(tls).await;
            assert_eq!(
                once(&t).await.expect("answers"),
                (200, Bytes::from_static(b"{\"ok\":1}"))
            );
            let s = run(&t, 2, Duration::from_millis(50), Duration::from_millis(300)).await;
            assert!(s.requests > 0 && s.errors == 0, "{s:?}");
            assert!(s.p50_us <= s.p99_us && s.p99_us <= s.max_us, "{s:?}");
        }
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_counted_as_errors_not_a_hang() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = free.local_addr().expect("addr");
        drop(free);
        let t = Target {
            addr,
            ..trivial(false).await
        };
        let s = run(&t, 1, Duration::ZERO, Duration::from_millis(200)).await;
        assert_eq!(s.requests, 0);
        assert!(s.errors > 0, "{s:?}");
    }
}
