//! Trusting the company server beyond the system's roots: `[server] ca_file` (only this CA, or
//! this self-signed certificate, is trusted) and `[server] pin_sha256` (only the certificate
//! with this SHA-256 fingerprint is accepted, before a byte of the request is sent).
//!
//! A small rustls verifier; handshake signatures are still checked by rustls' own code.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

/// The fingerprint a pinned connection saw when it did not match: the client turns it into
/// [`super::SyncError::PinMismatch`].
pub type SeenPin = Arc<Mutex<Option<String>>>;

/// The SHA-256 of a certificate (DER), lower-case hex: what `pin_sha256` holds.
pub fn fingerprint(cert: &[u8]) -> String {
    hex::encode(Sha256::digest(cert))
}

/// Reads the PEM certificates of `ca_file`.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem =
        std::fs::read(path).map_err(|e| format!("[server] ca_file {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("[server] ca_file {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "[server] ca_file {} holds no certificate; give the CA (or the server's \
             self-signed certificate) as PEM, -----BEGIN CERTIFICATE-----",
            path.display()
        ));
    }
    Ok(certs)
}

/// Accepts the server's certificate when its fingerprint is the pinned one (and, with a CA
/// file as well, when the CA also vouches for it).
#[derive(Debug)]
struct PinnedVerifier {
    pin: String,
    also: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    seen: SeenPin,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = fingerprint(end_entity);
        if seen != self.pin {
            if let Ok(mut slot) = self.seen.lock() {
                *slot = Some(seen.clone());
            }
            return Err(rustls::Error::General(format!(
                "the server's certificate has SHA-256 {seen}, not the pinned {}",
                self.pin
            )));
        }
        match &self.also {
            Some(ca) => {
                ca.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The TLS configuration for a server with a CA file, a pin, or both (at least one is given).
pub fn client_config(
    ca_file: Option<&Path>,
    pin: Option<&str>,
    seen: SeenPin,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let roots = match ca_file {
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in read_ca_file(path)? {
                roots.add(cert).map_err(|e| {
                    format!(
                        "[server] ca_file {}: a certificate cannot be trusted ({e})",
                        path.display()
                    )
                })?;
            }
            Some(Arc::new(roots))
        }
        None => None,
    };
    let config = match (pin, roots) {
        (Some(pin), roots) => {
            let also = match roots {
                Some(roots) => Some(
                    WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                        .build()
                        .map_err(|e| format!("[server] ca_file: {e}"))?,
                ),
                None => None,
            };
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                    pin: pin.to_owned(),
                    also,
                    provider,
                    seen,
                }))
                .with_no_client_auth()
        }
        (None, Some(roots)) => builder.with_root_certificates(roots).with_no_client_auth(),
        (None, None) => return Err("neither ca_file nor pin_sha256 is set".into()),
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_lower_case_hex_sha256() {
        // SHA-256 of the empty input, as `sha256sum` prints it.
        assert_eq!(
            fingerprint(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "hello\n").expect("write");
        let e = read_ca_file(&path).expect_err("no certificate");
        assert!(
            e.contains("ca.pem") && e.contains("BEGIN CERTIFICATE"),
            "{e}"
        );
        let e = read_ca_file(&dir.path().join("gone.pem")).expect_err("missing");
        assert!(e.contains("gone.pem"), "{e}");
    }
}
