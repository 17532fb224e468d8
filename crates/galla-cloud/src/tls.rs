//! TLS for the cloud: TLS 1.3 only (a TLS 1.2 client is refused at the handshake), with the
//! ring provider. `DevCa` makes the development CA and server certificate `galla-cloud dev`
//! prints for terminals to pin; production loads its own certificate and key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

fn tls_error(what: impl std::fmt::Display) -> Error {
    Error::Setup {
        what: format!("TLS: {what}"),
        fix: "check the certificate and key files (PEM), or run `galla-cloud dev` for a development pair".into(),
    }
}

/// A server configuration that speaks TLS 1.3 and nothing older.
pub fn server_config(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>> {
    let certs = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(tls_error)?;
    if certs.is_empty() {
        return Err(tls_error("no certificate in the certificate file"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(tls_error)?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_error)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(tls_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A development CA and a server certificate it signed, for `localhost` and 127.0.0.1, as
/// PEM files in one folder (the key files readable by the owner only).
pub struct DevCa {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl DevCa {
    /// Makes the pair in `dir` unless it is already there.
    pub fn ensure(dir: &Path) -> Result<DevCa> {
        let pair = DevCa {
            ca_cert: dir.join("dev-ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
        };
        if pair.ca_cert.exists() && pair.server_cert.exists() && pair.server_key.exists() {
            return Ok(pair);
        }
        std::fs::create_dir_all(dir)?;
        let ca_key = KeyPair::generate().map_err(tls_error)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
        ca.distinguished_name
            .push(DnType::CommonName, "Galla development CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).map_err(tls_error)?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(tls_error)?;
        let mut server = CertificateParams::new(vec!["localhost".to_owned()]).map_err(tls_error)?;
        server
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        server
            .distinguished_name
            .push(DnType::CommonName, "galla-cloud (development)");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).map_err(tls_error)?;

        std::fs::write(&pair.ca_cert, ca_cert.pem())?;
        std::fs::write(&pair.server_cert, server_cert.pem())?;
        write_private(&pair.server_key, server_key.serialize_pem().as_bytes())?;
        Ok(pair)
    }

    /// The CA certificate's SHA-256 fingerprint, as a till shows the CA it is about to pin.
    pub fn fingerprint(&self) -> Result<String> {
        let pem = std::fs::read(&self.ca_cert)?;
        let cert = CertificateDer::from_pem_slice(&pem).map_err(|e| Error::Setup {
            what: format!(
                "the CA certificate {} is unreadable: {e}",
                self.ca_cert.display()
            ),
            fix: "delete the tls folder to make a new development CA".into(),
        })?;
        Ok(galla_proto::certificate_fingerprint(cert.as_ref()))
    }

    pub fn server_config(&self) -> Result<Arc<ServerConfig>> {
        server_config(
            &std::fs::read(&self.server_cert)?,
            &std::fs::read(&self.server_key)?,
        )
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    Ok(())
}
