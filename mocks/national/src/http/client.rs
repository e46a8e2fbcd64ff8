//! A small HTTP client for the national mock's endpoints: the terminal uses it to reach a
//! national mock in another process or on another host, so network faults reach the folder
//! interface too. One connection per request, a deadline on everything.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use onshi_protocol::model::{QualificationRequest, QualificationResult};
use rustls::pki_types::ServerName;
use serde::Deserialize;
use thiserror::Error;
use tokio::net::TcpStream;

use super::api::{TERMINAL_CARD_PATH, TERMINAL_FACE_PATH, TERMINAL_FOLDER_PATH};
use super::tls::{TlsError, client_config};
use crate::FaceConfirmation;

#[derive(Debug, Error)]
/// Why a call to a remote mock failed.
pub enum ClientError {
    #[error("{0:?} is not a base URL like https://127.0.0.1:8443")]
    /// Not a base URL.
    BadUrl(String),
    #[error(transparent)]
    /// TLS could not be set up.
    Tls(#[from] TlsError),
    #[error("cannot reach {address}: {message}")]
    /// The mock could not be reached.
    Connect {
        /// The address.
        address: String,
        /// Why.
        message: String,
    },
    #[error("no answer within {} ms", .0.as_millis())]
    /// No answer in time.
    Timeout(Duration),
    #[error("HTTP {status}: {body}")]
    /// An answer that is not 200.
    Status {
        /// The status.
        status: StatusCode,
        /// The body, as text.
        body: String,
    },
    #[error("the answer is not a result: {0}")]
    /// An answer that is not a result.
    Decode(String),
}

/// A national mock reached over HTTP(S).
#[derive(Clone)]
pub struct RemoteNational {
    host: String,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// How long a call may take.
    pub timeout: Duration,
    /// Sent with the terminal's calls ([`super::TERMINAL_KEY_HEADER`]).
    terminal_key: Option<String>,
}

impl std::fmt::Debug for RemoteNational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RemoteNational({}:{}, tls: {})",
            self.host,
            self.port,
            self.tls.is_some()
        )
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "XmlMsg")]
    xml_msg: QualificationResult,
}

impl RemoteNational {
    /// `base_url` is `https://host:port` (trusting `ca_pem`) or `http://host:port`.
    pub fn new(base_url: &str, ca_pem: Option<&str>, timeout: Duration) -> Result<Self, ClientError> {
        Self::with_identity(base_url, ca_pem, None, timeout)
    }

    /// Like [`RemoteNational::new`], presenting a client certificate and key (PEM).
    pub fn with_identity(
        base_url: &str,
        ca_pem: Option<&str>,
        identity: Option<(&str, &str)>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let bad = || ClientError::BadUrl(base_url.to_owned());
        let uri: Uri = base_url.parse().map_err(|_| bad())?;
        let host = uri.host().ok_or_else(bad)?.trim_matches(['[', ']']).to_owned();
        let (tls, default_port) = match uri.scheme_str() {
            Some("https") => (Some(client_config(ca_pem.ok_or_else(bad)?, identity)?), 443),
            Some("http") => (None, 80),
            _ => return Err(bad()),
        };
        Ok(RemoteNational {
            host,
            port: uri.port_u16().unwrap_or(default_port),
            tls,
            timeout,
            terminal_key: None,
        })
    }

    /// The terminal's calls carry `key` (the mock's [`super::National::terminal_key`]).
    pub fn with_terminal_key(mut self, key: impl Into<String>) -> Self {
        self.terminal_key = Some(key.into());
        self
    }

    /// POSTs one of the terminal's calls, with its key.
    async fn post_terminal(&self, path: &str, body: Vec<u8>) -> Result<(StatusCode, Bytes), ClientError> {
        match &self.terminal_key {
            Some(key) => {
                self.post_with(path, body, &[(super::TERMINAL_KEY_HEADER, key.as_str())])
                    .await
            }
            None => self.post(path, body).await,
        }
    }

    /// POSTs `body` to `path` and returns the status and the body.
    pub async fn post(&self, path: &str, body: Vec<u8>) -> Result<(StatusCode, Bytes), ClientError> {
        self.post_with(path, body, &[]).await
    }

    /// POSTs with extra headers (e.g. `Authorization`).
    pub async fn post_with(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, Bytes), ClientError> {
        tokio::time::timeout(self.timeout, self.post_inner(path, body, headers))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))?
    }

    async fn post_inner(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let address = format!("{}:{}", self.host, self.port);
        let connect = |e: &dyn std::error::Error| ClientError::Connect {
            address: address.clone(),
            message: with_causes(e),
        };
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| connect(&e))?;
        let _ = tcp.set_nodelay(true);
        let mut request = Request::post(path)
            .header(header::HOST, &self.host)
            .header(header::CONTENT_TYPE, "application/json;charset=UTF-8");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request.body(Full::new(Bytes::from(body))).expect("valid request");
        let response = match &self.tls {
            None => send(TokioIo::new(tcp), request).await,
            Some(config) => {
                let name = ServerName::try_from(self.host.clone()).map_err(|e| connect(&e))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| connect(&e))?;
                send(TokioIo::new(tls), request).await
            }
        };
        let response = response.map_err(|e| connect(&e))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| connect(&e))?
            .to_bytes();
        Ok((status, bytes))
    }

    async fn result(&self, path: &str, body: Vec<u8>) -> Result<QualificationResult, ClientError> {
        let (status, bytes) = self.post_terminal(path, body).await?;
        if status != StatusCode::OK {
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            });
        }
        serde_json::from_slice::<Envelope>(&bytes)
            .map(|e| e.xml_msg)
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// The terminal's 資格確認 by card data.
    pub async fn confirm_by_card(&self, request: &QualificationRequest) -> Result<QualificationResult, ClientError> {
        let body = serde_json::to_vec(&serde_json::json!({ "XmlMsg": request })).expect("json");
        self.result(TERMINAL_CARD_PATH, body).await
    }

    /// Any other family of the folder interface.
    pub async fn call(&self, call: &crate::FolderCall) -> Result<crate::FolderAnswer, ClientError> {
        let (status, bytes) = self
            .post_terminal(TERMINAL_FOLDER_PATH, serde_json::to_vec(call).expect("json"))
            .await?;
        if status != StatusCode::OK {
            return Err(ClientError::Status {
                status,
                body: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// The terminal's face-reader confirmation.
    pub async fn confirm_by_face(&self, face: &FaceConfirmation) -> Result<QualificationResult, ClientError> {
        self.result(TERMINAL_FACE_PATH, serde_json::to_vec(face).expect("json"))
            .await
    }
}

/// "connection error: Connection reset by peer (os error 104)" — hyper's own message hides the cause.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

async fn send<T>(
    io: TokioIo<T>,
    request: Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(request).await
}
