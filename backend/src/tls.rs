//! HTTPS in the binary: the certificate chain and private key (PEM files named by
//! `--tls-cert` and `--tls-key`) become the acceptor the server loop wraps each connection in.
//! Phones need HTTPS for their location, and tokens must not cross a network in clear.

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The acceptor for the certificate chain at `cert` and the private key at `key`; an error
/// names the file that is wrong and how.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the certificate file {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    if chain.is_empty() {
        bail!(
            "{} holds no certificate (PEM `CERTIFICATE` blocks)",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "cannot read a private key (PEM: PKCS#8, PKCS#1 or SEC1) from {}",
            key.display()
        )
    })?;
    // ring rather than aws-lc-rs, which needs cmake and a longer C build on every machine
    // that builds gridwall; rustls marks ring's provider deprecated because it has no
    // post-quantum key exchange, which browsers still fall back from.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS provider offers no protocol version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and the private key do not belong together")?;
    // HTTP/1.1 only, as the server loop speaks; WebSocket upgrades ride on it.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_wrong_files_are_named() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let err = format!("{:#}", acceptor(&cert, &key).err().expect("no files"));
        assert!(err.contains("cert.pem"), "{err}");
        std::fs::write(&cert, "not a certificate").expect("write");
        std::fs::write(&key, "not a key").expect("write");
        let err = format!("{:#}", acceptor(&cert, &key).err().expect("no certificate"));
        assert!(
            err.contains("cert.pem") && err.contains("no certificate"),
            "{err}"
        );
    }
}
