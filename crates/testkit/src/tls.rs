//! A throwaway certificate authority for TLS tests: a CA and a server certificate it signed
//! (for `localhost` and 127.0.0.1), written as PEM files into a temp dir.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use sha2::{Digest, Sha256};

/// A CA and one server certificate, as files. Dropping it removes them.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
    /// The CA certificate (what a client trusts).
    pub ca_cert: PathBuf,
    /// The server certificate (PEM), signed by the CA.
    pub server_cert: PathBuf,
    /// The server certificate's private key (PEM, PKCS#8).
    pub server_key: PathBuf,
    server_der: Vec<u8>,
}

fn err(e: impl std::fmt::Display) -> String {
    format!("test certificates: {e}")
}

impl TestPki {
    /// A new CA and a server certificate for `localhost`, `127.0.0.1` and `::1`.
    pub fn new() -> Result<Self, String> {
        Self::for_names(&["localhost", "127.0.0.1", "::1"])
    }

    /// A new CA and a server certificate for these names and addresses.
    pub fn for_names(names: &[&str]) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("worktrace-pki-")
            .tempdir()
            .map_err(err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Worktrace test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca =
            CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(err)?).map_err(err)?;
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf = CertificateParams::new(names).map_err(err)?;
        leaf.distinguished_name
            .push(DnType::CommonName, "Worktrace test server");
        let key = KeyPair::generate().map_err(err)?;
        let cert = leaf.signed_by(&key, &ca).map_err(err)?;
        let pki = Self {
            ca_cert: dir.path().join("ca.pem"),
            server_cert: dir.path().join("server.pem"),
            server_key: dir.path().join("server.key"),
            server_der: cert.der().to_vec(),
            dir,
        };
        std::fs::write(&pki.ca_cert, ca.pem()).map_err(err)?;
        std::fs::write(&pki.server_cert, cert.pem()).map_err(err)?;
        std::fs::write(&pki.server_key, key.serialize_pem()).map_err(err)?;
        Ok(pki)
    }

    /// The folder holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A private key that belongs to no certificate here, for mismatch tests.
    pub fn write_stranger_key(&self) -> Result<PathBuf, String> {
        let path = self.dir.path().join("stranger.key");
        std::fs::write(&path, KeyPair::generate().map_err(err)?.serialize_pem()).map_err(err)?;
        Ok(path)
    }

    /// The SHA-256 of the server certificate (DER), lower-case hex.
    pub fn server_sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.server_der))
    }
}
