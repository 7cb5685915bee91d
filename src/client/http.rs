//! The asynchronous client: requests, retries, answers.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{ClientConfig, ClientError, batches};
use crate::event::TaskId;
use crate::merkle::Tile;

/// Largest answer read: a bundle's limit (1 GiB) and room for the rest.
const MAX_ANSWER: usize = (1 << 30) + (1 << 20);

/// The client on the caller's tokio runtime (see the module's documentation).
#[derive(Clone)]
pub struct AsyncClient {
    /// `http://host:port[/prefix]`, without a trailing `/`.
    base: String,
    http: Hyper<HttpConnector, Full<Bytes>>,
    config: ClientConfig,
}

/// One attempt's outcome, when the server answered.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Bytes,
}

impl AsyncClient {
    /// A client of the server at `base` (`http://host:port`, optionally with a path prefix).
    ///
    /// # Errors
    /// [`ClientError::Url`].
    pub fn new(base: &str, config: ClientConfig) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/');
        let uri: hyper::Uri = base
            .parse()
            .map_err(|_| ClientError::Url(base.to_owned()))?;
        let plain = uri.scheme_str() == Some("http") && uri.authority().is_some();
        if !plain || uri.query().is_some() {
            return Err(ClientError::Url(base.to_owned()));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.timeout));
        let http = Hyper::builder(TokioExecutor::new()).build(connector);
        Ok(Self {
            base: base.to_owned(),
            http,
            config,
        })
    }

    /// Submits envelopes; returns each one's index, in order, once all are durable.
    ///
    /// # Errors
    /// As [`super::Client::submit`].
    pub async fn submit(&self, envelopes: &[&[u8]]) -> Result<Vec<u64>, ClientError> {
        let mut indices = Vec::with_capacity(envelopes.len());
        for range in batches(
            envelopes,
            self.config.batch_entries,
            self.config.batch_bytes,
        ) {
            let body: Vec<u8> = envelopes[range.clone()].concat();
            let answer = self
                .call(Method::POST, "/add", Bytes::from(body))
                .await
                .map_err(|e| shift_position(e, range.start))?;
            let got = parse_indices(&answer)?;
            if got.len() != range.len() {
                return Err(ClientError::BadAnswer(format!(
                    "{} indices for {} envelopes",
                    got.len(),
                    range.len()
                )));
            }
            indices.extend(got);
        }
        Ok(indices)
    }

    /// The latest signed checkpoint note.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn checkpoint(&self) -> Result<Vec<u8>, ClientError> {
        self.get("/checkpoint").await
    }

    /// A witness's `add-checkpoint` (C2SP `tlog-witness`): the body as
    /// [`crate::witness::request_body`] makes it; the answer's cosignature lines.
    ///
    /// # Errors
    /// [`ClientError`]; a 409's body (the size the witness holds) is the refusal's message.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, ClientError> {
        let answer = self
            .call(
                Method::POST,
                "/add-checkpoint",
                Bytes::copy_from_slice(body),
            )
            .await?;
        Ok(answer.to_vec())
    }

    /// A tile's bytes (`tlog-tiles`).
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn tile(&self, tile: &Tile) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("/{}", tile.path())).await
    }

    /// One entry's exact bytes.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn entry(&self, index: u64) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("/entry/{index}")).await
    }

    /// The evidence bundle of `task` at the server's latest checkpoint.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn bundle(&self, task: &TaskId) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("/bundle/{task}")).await
    }

    /// An inclusion proof of `index` in the tree of `size` entries.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("/proof/inclusion?index={index}&size={size}"))
            .await
    }

    /// A consistency proof from the tree of `old` entries to the tree of `new`.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("/proof/consistency?old={old}&new={new}"))
            .await
    }

    async fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        Ok(self.call(Method::GET, path, Bytes::new()).await?.to_vec())
    }

    /// A request with retries: a 2xx is returned, a 4xx (but 408 and 429) or a 501 is a
    /// refusal, anything else (no answer, a timeout, 5xx, 503) is tried again after a
    /// backoff that doubles, and at least the server's `Retry-After`.
    async fn call(&self, method: Method, path: &str, body: Bytes) -> Result<Bytes, ClientError> {
        let mut wait = self.config.backoff;
        let mut last = String::new();
        let attempts = self.config.attempts.max(1);
        for attempt in 1..=attempts {
            match self.attempt(method.clone(), path, body.clone()).await {
                Ok(a) if a.status.is_success() => return Ok(a.body),
                Ok(a) if !retryable(a.status) => return Err(refused(a.status, &a.body)),
                Ok(a) => {
                    last = format!("{} {}", a.status, String::from_utf8_lossy(&a.body));
                    wait = wait.max(a.retry_after.unwrap_or_default());
                }
                Err(e) => last = e,
            }
            if attempt < attempts {
                tokio::time::sleep(wait.min(self.config.max_backoff)).await;
                wait = wait.saturating_mul(2);
            }
        }
        Err(ClientError::Unavailable { attempts, last })
    }

    async fn attempt(&self, method: Method, path: &str, body: Bytes) -> Result<Answer, String> {
        let uri = format!("{}{path}", self.base);
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/cbor-seq")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e}"))?
                .to_bytes();
            let retry_after = parts
                .headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs);
            Ok(Answer {
                status: parts.status,
                retry_after,
                body,
            })
        };
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("no answer within {:?}", self.config.timeout)),
        }
    }
}

fn retryable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
    ) || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
}

/// A refusal's typed fields, from the server's JSON (or its status alone).
fn refused(status: StatusCode, body: &[u8]) -> ClientError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let number = |key: &str| json.get(key).and_then(serde_json::Value::as_u64);
    ClientError::Refused {
        status: status.as_u16(),
        reason: text("error").unwrap_or_else(|| "unknown".to_owned()),
        message: text("message").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
        position: number("position").and_then(|p| usize::try_from(p).ok()),
        existing: number("existing"),
    }
}

/// A refusal's position within one request, made a position among everything submitted.
fn shift_position(e: ClientError, offset: usize) -> ClientError {
    match e {
        ClientError::Refused {
            status,
            reason,
            message,
            position,
            existing,
        } => ClientError::Refused {
            status,
            reason,
            message,
            position: position.map(|p| p + offset),
            existing,
        },
        other => other,
    }
}

fn parse_indices(body: &[u8]) -> Result<Vec<u64>, ClientError> {
    let bad = || ClientError::BadAnswer(String::from_utf8_lossy(body).into_owned());
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|_| bad())?;
    json.get("indices")
        .and_then(|v| v.as_array())
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_u64().ok_or_else(bad))
        .collect()
}
