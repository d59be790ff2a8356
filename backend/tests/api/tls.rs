//! HTTPS in the binary: with `--tls-cert` and `--tls-key` the server speaks TLS (a client
//! that trusts the certificate gets its answers), and plain HTTP on that port gets nothing.

use crate::support::{Store, TestServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A certificate for localhost and 127.0.0.1 signed by a throwaway authority, made with
/// `openssl`; returns the certificate, its key and the authority's certificate (what a client
/// trusts).
fn certificate(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let path = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run openssl (scripts/setup installs it)");
        assert!(status.success(), "openssl {args:?} failed");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "1",
                "-subj",
                "/CN=gridwall test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "key.pem",
                "-out",
                "req.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        path("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n",
    )
    .expect("the extensions");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    (path("cert.pem"), path("key.pem"), path("ca.pem"))
}

#[tokio::test]
async fn the_server_speaks_https_with_its_certificate() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (cert, key, authority) = certificate(dir.path());
    let server =
        TestServer::start_sample(Store::Sqlite, |c| c.tls = Some((cert.clone(), key))).await;

    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(&authority).expect("the authority") {
        roots.add(der.expect("a certificate")).expect("a root");
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let mut tls = connector
        .connect(ServerName::try_from("localhost").expect("a name"), tcp)
        .await
        .expect("a TLS handshake with the server's certificate");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("a request");
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.expect("the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");

    // Plain HTTP on the TLS port is not answered as HTTP.
    let mut plain = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("a request");
    let mut said = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        plain.read_to_end(&mut said),
    )
    .await;
    assert!(
        !String::from_utf8_lossy(&said).contains("200 OK"),
        "plain HTTP was answered on the TLS port"
    );
    server.stop().await;
}
