//! HTTPS served by the server itself: the certificate chain and private key (PEM files) turned
//! into a rustls configuration, with errors that name the file and what to fix.
//!
//! Reads only the two files it is given; it must never panic on their contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The PEM files of `--tls-cert` and `--tls-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate, followed by any intermediate certificates.
    pub cert: PathBuf,
    /// The private key of the first certificate (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The crypto provider of every TLS connection the server makes or accepts.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        Error::Config(format!(
            "cannot read the TLS {what} file {}: {e}; check the path given to --tls-{what}",
            path.display()
        ))
    })
}

/// Reads the PEM certificates of a file (a chain, a CA bundle).
pub fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Config(format!(
                "the TLS {what} file {} is not valid PEM ({e}); give a file with \
                 -----BEGIN CERTIFICATE----- blocks",
                path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "the TLS {what} file {} holds no certificate; give a PEM file with \
             -----BEGIN CERTIFICATE----- blocks",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let pem = read(path, "key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "holds no private key".to_owned(),
            other => format!("is not a valid PEM private key ({other})"),
        };
        Error::Config(format!(
            "the TLS key file {} {why}; give the certificate's unencrypted private key \
             (-----BEGIN PRIVATE KEY-----)",
            path.display()
        ))
    })
}

/// The rustls configuration for serving HTTPS with these files (HTTP/2 and HTTP/1.1).
///
/// ```text
/// cert.pem + key.pem of that cert   -> Ok
/// cert.pem + key.pem of another one -> Err("… does not belong to the certificate in cert.pem …")
/// ```
pub fn server_config(files: &TlsFiles) -> Result<rustls::ServerConfig> {
    let certs = read_certs(&files.cert, "cert")?;
    let key = read_key(&files.key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            let why = match e {
                rustls::Error::InconsistentKeys(_) => format!(
                    "the key in {} does not belong to the certificate in {}",
                    files.key.display(),
                    files.cert.display()
                ),
                other => format!(
                    "the certificate {} and key {} cannot be used ({other})",
                    files.cert.display(),
                    files.key.display()
                ),
            };
            Error::Config(format!(
                "{why}; give the certificate and the private key it was issued for"
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
