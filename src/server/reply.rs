//! Building answers: bodies, content types, caching, and typed JSON refusals.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode, header};

pub(crate) type Reply = Response<Full<Bytes>>;

/// A refusal: its status, its reason (a fixed token a client can match on) and a sentence.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    /// Position of the offending envelope in an `/add` body.
    pub(crate) position: Option<usize>,
    /// The index an envelope with the same event id already has.
    pub(crate) existing: Option<u64>,
}

impl Refusal {
    pub(crate) fn new(
        status: StatusCode,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
            position: None,
            existing: None,
        }
    }

    pub(crate) const fn at(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    pub(crate) const fn existing(mut self, index: u64) -> Self {
        self.existing = Some(index);
        self
    }

    /// `{"error": reason, "message": …[, "position": n][, "existing": i]}`.
    pub(crate) fn reply(&self) -> Reply {
        let mut body = serde_json::json!({ "error": self.reason, "message": self.message });
        if let Some(p) = self.position {
            body["position"] = p.into();
        }
        if let Some(i) = self.existing {
            body["existing"] = i.into();
        }
        with(
            self.status,
            "application/json",
            "no-store",
            body.to_string().into_bytes(),
        )
    }
}

/// An answer with a body, its type and its caching rule.
pub(crate) fn with(status: StatusCode, content_type: &str, cache: &str, body: Vec<u8>) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(cache) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    reply
}

/// A 200 of something that never changes once served (tiles, entries, proofs at fixed
/// sizes): cacheable for a year.
pub(crate) fn immutable(content_type: &str, body: Vec<u8>) -> Reply {
    with(
        StatusCode::OK,
        content_type,
        "public, max-age=31536000, immutable",
        body,
    )
}

/// A 200 of something that changes as the log grows.
pub(crate) fn mutable(content_type: &str, body: Vec<u8>) -> Reply {
    with(StatusCode::OK, content_type, "no-cache", body)
}

pub(crate) const OCTETS: &str = "application/octet-stream";
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";
pub(crate) const COSE: &str = "application/cose; cose-type=\"cose-sign1\"";
pub(crate) const CBOR: &str = "application/cbor";
