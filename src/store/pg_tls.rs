//! Connecting to PostgreSQL: in the clear over a Unix socket or when the connection string
//! does not ask for TLS; with TLS, the server's certificate verified, when it says
//! `sslmode=require`.
//!
//! Verification is always on (libpq's `verify-full`): the chain to a root in the PEM file
//! named by the connection string's `sslrootcert` (as libpq names it; this module takes it
//! out before rust-postgres, which does not know it, reads the rest), else by the
//! `PGSSLROOTCERT` environment variable (libpq's), else in the system's store; and the host
//! name. A TLS connection that does not verify is refused, never downgraded. rust-postgres
//! knows `disable`, `prefer` and `require`; `prefer` (its default) connects in the clear
//! here, as before TLS was supported, so an existing connection string keeps working.

use std::path::PathBuf;
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::StoreError;

/// A connection as `config` (a libpq connection string or URL) asks.
pub(crate) fn connect(config: &str) -> Result<Client, StoreError> {
    let (rest, rootcert) = take_rootcert(config);
    let parsed: Config = rest.parse().map_err(|e| super::pg::db(&e))?;
    if parsed.get_ssl_mode() == SslMode::Require {
        let rootcert = rootcert.or_else(|| std::env::var_os("PGSSLROOTCERT").map(Into::into));
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(rootcert)?);
        parsed.connect(tls).map_err(|e| super::pg::db(&e))
    } else {
        parsed.connect(NoTls).map_err(|e| super::pg::db(&e))
    }
}

fn tls_error(what: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("TLS: {what}"))
}

/// `config` without its `sslrootcert` parameter, and that parameter's value: a `?…&…`
/// pair of a URL (percent-decoded), or a `key=value` word of a connection string (without
/// quotes: a path with spaces goes in `PGSSLROOTCERT`).
fn take_rootcert(config: &str) -> (String, Option<PathBuf>) {
    const KEY: &str = "sslrootcert=";
    if let Some((base, query)) = config.split_once('?') {
        let (ours, rest): (Vec<&str>, Vec<&str>) =
            query.split('&').partition(|p| p.starts_with(KEY));
        if ours.is_empty() {
            return (config.to_owned(), None);
        }
        let path = ours
            .last()
            .map(|p| PathBuf::from(percent_decode(&p[KEY.len()..])));
        let kept = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        return (kept, path);
    }
    let (ours, rest): (Vec<&str>, Vec<&str>) =
        config.split_whitespace().partition(|w| w.starts_with(KEY));
    if ours.is_empty() {
        // Untouched: quoted values keep their spacing.
        return (config.to_owned(), None);
    }
    (
        rest.join(" "),
        ours.last().map(|w| PathBuf::from(&w[KEY.len()..])),
    )
}

/// `%XX` escapes decoded (others left as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// rustls with its default provider (aws-lc-rs), verifying against [`roots`].
fn client_config(rootcert: Option<PathBuf>) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots(rootcert)?)
        .with_no_client_auth())
}

/// The certificates in `rootcert` (PEM), or the system's roots.
fn roots(rootcert: Option<PathBuf>) -> Result<rustls::RootCertStore, StoreError> {
    let mut store = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = match rootcert {
        Some(path) => CertificateDer::pem_file_iter(&path)
            .and_then(Iterator::collect)
            .map_err(|e| tls_error(format!("sslrootcert {}: {e}", path.display())))?,
        None => rustls_native_certs::load_native_certs().certs,
    };
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(tls_error("no root certificate to verify the server with"));
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_certificate_parameter_is_taken_out_of_both_forms() {
        let url = "postgresql://u@db:5432/ledger?sslmode=require&sslrootcert=%2Fetc%2Fca.pem&application_name=w";
        let (rest, path) = take_rootcert(url);
        assert_eq!(
            rest,
            "postgresql://u@db:5432/ledger?sslmode=require&application_name=w"
        );
        assert_eq!(path, Some(PathBuf::from("/etc/ca.pem")));
        let (rest, path) = take_rootcert("postgresql://u@db/ledger?sslrootcert=/ca.pem");
        assert_eq!(
            (rest.as_str(), path),
            ("postgresql://u@db/ledger", Some(PathBuf::from("/ca.pem")))
        );
        let (rest, path) = take_rootcert("host=db sslmode=require sslrootcert=/ca.pem user=u");
        assert_eq!(
            (rest.as_str(), path),
            (
                "host=db sslmode=require user=u",
                Some(PathBuf::from("/ca.pem"))
            )
        );
        let (rest, path) = take_rootcert("host=db user=u");
        assert_eq!((rest.as_str(), path), ("host=db user=u", None));
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }
}
