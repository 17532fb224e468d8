//! The server over real TLS on a real port, with a real PostgreSQL behind it: TLS 1.3 works
//! and a TLS 1.2-only client is refused (`openssl s_client`); health and readiness answer;
//! every answer carries the security headers; the server shuts down gracefully on request.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use galla_cloud::server;
use galla_cloud::tls::DevCa;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTP/1.1 GET over a TLS 1.3 connection that trusts only the dev CA; the whole answer.
async fn get(addr: SocketAddr, ca: &[u8], path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("a TLS 1.3 handshake with the dev CA");
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap_or_default();
    answer
}

/// Whether `openssl s_client` completes a handshake with only `version` enabled.
fn openssl_handshakes(addr: SocketAddr, version: &str) -> bool {
    let out = Command::new("openssl")
        .args([
            "s_client",
            version,
            "-connect",
            &addr.to_string(),
            "-servername",
            "localhost",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("openssl is installed (Debian: openssl)");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && !text.contains("Cipher is (NONE)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_13_answers_with_security_headers_tls_12_is_refused_and_shutdown_is_graceful() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, db) = common::migrated_cluster(&dir.path().join("pg"), 4).await;
    let ca = DevCa::ensure(&dir.path().join("tls")).unwrap();
    let key_mode = std::fs::metadata(&ca.server_key).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key_mode.permissions()) & 0o777,
        0o600
    );

    let addr: SocketAddr = format!("127.0.0.1:{}", common::free_port())
        .parse()
        .unwrap();
    let handle = axum_server::Handle::new();
    let server = tokio::spawn(server::serve(
        addr,
        ca.server_config().unwrap(),
        common::app_state(
            dir.path(),
            db,
            galla_cloud::clock::ManualClock::new(0),
            &Default::default(),
        ),
        handle.clone(),
    ));
    let _ = tokio::time::timeout(Duration::from_secs(10), handle.listening()).await;
    let ca_pem = std::fs::read(&ca.ca_cert).unwrap();

    let health = get(addr, &ca_pem, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"), "{health}");
    for h in [
        "strict-transport-security: max-age=63072000",
        "x-content-type-options: nosniff",
        "x-frame-options: DENY",
        "content-security-policy: default-src 'none'",
        "cache-control: no-store",
    ] {
        assert!(
            health.to_lowercase().contains(&h.to_lowercase()),
            "{h}: {health}"
        );
    }
    let ready = get(addr, &ca_pem, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    let missing = get(addr, &ca_pem, "/nowhere").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    let probe = addr;
    let (tls12, tls13) = tokio::task::spawn_blocking(move || {
        (
            openssl_handshakes(probe, "-tls1_2"),
            openssl_handshakes(probe, "-tls1_3"),
        )
    })
    .await
    .unwrap();
    assert!(!tls12, "a TLS 1.2-only client must be refused");
    assert!(tls13, "openssl with TLS 1.3 must get through");

    // With the database gone, the process is alive but not ready.
    drop(cluster);
    let ready = get(addr, &ca_pem, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.ends_with("not ready"), "no internals: {ready}");

    handle.graceful_shutdown(Some(Duration::from_secs(5)));
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
