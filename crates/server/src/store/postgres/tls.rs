//! TLS to PostgreSQL with rustls, honouring libpq's `sslmode` and `sslrootcert` in the URL:
//! `disable`, `prefer` (the default) and `require` encrypt without checking the certificate
//! (unless `sslrootcert` is given, as in libpq); `verify-ca` checks it against `sslrootcert`;
//! `verify-full` also checks the host name.
//!
//! Reads only the root certificate file named in the URL.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encrypted, certificate not checked (libpq's `prefer` and `require`).
    Nothing,
    /// Signed by a root of `sslrootcert` (`verify-ca`).
    Chain,
    /// Signed, and issued for the host connected to (`verify-full`).
    Full,
}

/// A URL with `sslmode` and `sslrootcert` taken out (tokio-postgres knows only `disable`,
/// `prefer` and `require`), and the connector that does what they asked.
///
/// ```text
/// postgres://h/db?sslmode=verify-full&sslrootcert=/ca.pem
///   -> postgres://h/db?sslmode=require, connector checking chain and host name against /ca.pem
/// ```
pub fn connector(url: &str) -> Result<(String, MakeRustlsConnect, String)> {
    let (url, mode, root) = take_params(url);
    let mode = mode.unwrap_or_else(|| "prefer".into());
    let check = match (mode.as_str(), &root) {
        ("disable" | "prefer" | "require", None) => Check::Nothing,
        ("require" | "verify-ca", Some(_)) => Check::Chain,
        ("verify-full", Some(_)) => Check::Full,
        ("disable" | "prefer", Some(_)) => Check::Chain,
        ("verify-ca" | "verify-full", None) => {
            return Err(Error::Config(format!(
                "sslmode={mode} needs the CA to check the server against: add \
                 sslrootcert=/path/to/ca.pem to the PostgreSQL URL"
            )))
        }
        (other, _) => {
            return Err(Error::Config(format!(
                "sslmode={other} is not known; use disable, prefer, require, verify-ca or \
                 verify-full"
            )))
        }
    };
    let pg_mode = match mode.as_str() {
        "disable" | "prefer" => mode.as_str(),
        _ => "require",
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = if url.contains("://") {
        format!("{url}{sep}sslmode={pg_mode}")
    } else {
        format!("{url} sslmode={pg_mode}")
    };
    let provider = crate::tls::provider();
    let verifier: Arc<dyn ServerCertVerifier> = match (check, root) {
        (Check::Nothing, _) | (_, None) => Arc::new(Unchecked(provider.clone())),
        (check, Some(root)) => {
            let mut roots = RootCertStore::empty();
            for cert in crate::tls::read_certs(Path::new(&root), "sslrootcert")? {
                roots.add(cert).map_err(|e| {
                    Error::Config(format!(
                        "sslrootcert {root}: a certificate cannot be used ({e})"
                    ))
                })?;
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone())
                    .build()
                    .map_err(|e| Error::Config(format!("sslrootcert {root}: {e}")))?;
            Arc::new(Rooted {
                webpki,
                names: check == Check::Full,
            })
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((url, MakeRustlsConnect::new(config), mode))
}

/// Splits `sslmode` and `sslrootcert` off a URL (`postgres://…?a=b`) or a key=value string.
fn take_params(url: &str) -> (String, Option<String>, Option<String>) {
    let (mut mode, mut root) = (None, None);
    let mut take = |key: &str, value: &str| match key {
        "sslmode" => {
            mode = Some(value.to_owned());
            true
        }
        "sslrootcert" => {
            root = Some(value.to_owned());
            true
        }
        _ => false,
    };
    let rest = if url.contains("://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(k, &percent_decode(v))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_owned(),
        }
    } else {
        url.split_whitespace()
            .filter(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                !take(k.trim(), v.trim().trim_matches('\''))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, mode, root)
}

/// `%2F` → `/`, for paths in URL query values.
fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && v.is_char_boundary(i + 3) {
            if let Ok(b) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn tls12(
    p: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(message, cert, dss, &p.signature_verification_algorithms)
}

fn tls13(
    p: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(message, cert, dss, &p.signature_verification_algorithms)
}

/// libpq's `require`: the connection is encrypted, whoever answers.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        tls12(&self.0, m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        tls13(&self.0, m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (chain only) and `verify-full` (chain and host name).
#[derive(Debug)]
struct Rooted {
    webpki: Arc<WebPkiServerVerifier>,
    names: bool,
}

impl ServerCertVerifier for Rooted {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        let (url, mode, root) =
            take_params("postgres://u@h:5/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&x=1");
        assert_eq!(url, "postgres://u@h:5/db?x=1");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        let (url, mode, _) = take_params("host=h dbname=d sslmode=require");
        assert_eq!(
            (url.as_str(), mode.as_deref()),
            ("host=h dbname=d", Some("require"))
        );
        let (url, mode, root) = take_params("postgres://h/db");
        assert_eq!((url.as_str(), mode, root), ("postgres://h/db", None, None));
    }

    #[test]
    fn verify_modes_need_a_root_and_unknown_modes_are_named() {
        let e = connector("postgres://h/db?sslmode=verify-full")
            .err()
            .expect("needs sslrootcert")
            .to_string();
        assert!(e.contains("sslrootcert"), "{e}");
        let e = connector("postgres://h/db?sslmode=sometimes")
            .err()
            .expect("unknown")
            .to_string();
        assert!(e.contains("sometimes") && e.contains("verify-full"), "{e}");
        let (url, _, _) = connector("postgres://h/db?sslmode=require").expect("require");
        assert_eq!(url, "postgres://h/db?sslmode=require");
    }
}
