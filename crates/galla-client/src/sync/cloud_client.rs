//! HTTPS to the shop's cloud tenant: rustls with TLS 1.3 only and the tenant server's CA as the
//! only trust root (pinned when the shop linked or the terminal enrolled), device-signed
//! requests (`galla_proto::request_auth`), bounded answers, and refusals turned into typed
//! errors. Blocking: it runs on the sync loop's own thread, never on the UI's.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use galla_proto::api::{self, ErrorCode};
use galla_proto::request_auth::{self, NONCE_BYTES, RequestParts};
use reqwest::StatusCode;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::crypto;
use crate::error::{Error, InputError, Result};

/// The largest answer read; anything longer is the server misbehaving.
const MAX_ANSWER_BYTES: u64 = 64 << 20;

/// Who signs: this terminal's tenant, device and key.
pub(crate) struct DeviceIdentity<'k> {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub key: &'k SigningKey,
}

/// A connection to one tenant server.
pub(crate) struct CloudClient {
    http: reqwest::blocking::Client,
    base: String,
}

/// `https://host[:port]`, without a path: what a shop types or pastes.
pub(crate) fn server_url(value: &str) -> Result<String, InputError> {
    let v = value.trim().trim_end_matches('/');
    let reject = |reason: &str| InputError::Rejected {
        field: "server_url",
        reason: reason.into(),
    };
    let rest = v
        .strip_prefix("https://")
        .ok_or_else(|| reject("must start with https:// (the cloud speaks only HTTPS)"))?;
    if rest.is_empty()
        || rest.len() > 253
        || rest.contains(['/', '?', '#', '@', ' '])
        || !rest.is_ascii()
    {
        return Err(reject(
            "must be https:// followed by a host name and an optional :port, nothing else",
        ));
    }
    Ok(v.to_owned())
}

/// The pinned CA: one or more PEM certificates.
pub(crate) fn ca_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let reject = |reason: &str| InputError::Rejected {
        field: "ca_pem",
        reason: reason.into(),
    };
    if pem.len() > 64 * 1024 {
        return Err(reject("is larger than any CA certificate (64 KiB)"));
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| reject("is not PEM (-----BEGIN CERTIFICATE-----)"))?;
    if certs.is_empty() {
        return Err(reject("holds no certificate"));
    }
    Ok(certs)
}

/// The SHA-256 fingerprints of the certificates in `pem` (a CA the owner brought as a file or
/// a paste), for the owner to compare with what the cloud shows before it is pinned.
pub fn ca_fingerprints(pem: &str) -> Result<Vec<String>, InputError> {
    Ok(ca_certificates(pem)?
        .iter()
        .map(|c| galla_proto::certificate_fingerprint(c.as_ref()))
        .collect())
}

impl CloudClient {
    pub fn new(server_url_text: &str, ca_pem: &str) -> Result<CloudClient> {
        let base = server_url(server_url_text)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in ca_certificates(ca_pem)? {
            roots.add(cert).map_err(|_| InputError::Rejected {
                field: "ca_pem",
                reason: "is not a usable CA certificate".into(),
            })?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls {
            detail: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("galla-terminal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Tls {
                detail: format!("the HTTPS client: {e}"),
            })?;
        Ok(CloudClient { http, base })
    }

    /// An unauthenticated JSON POST (creating or linking a tenant, redeeming a code).
    pub fn post_public<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R> {
        let body = serde_json::to_vec(body)
            .map_err(|_| Error::Internal("encoding a request to the cloud"))?;
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        self.answer(request)
    }

    /// A device-signed request; `body` is empty for a GET.
    pub fn signed<R: DeserializeOwned>(
        &self,
        who: &DeviceIdentity<'_>,
        now_ms: i64,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<R> {
        let mut nonce = [0u8; NONCE_BYTES];
        crypto::fill_random(&mut nonce)?;
        let headers = request_auth::sign_request(
            who.key,
            RequestParts {
                method,
                path_and_query,
                body: &body,
            },
            who.tenant_id,
            who.device_id,
            now_ms,
            nonce,
        );
        let url = format!("{}{path_and_query}", self.base);
        let mut request = match method {
            "GET" => self.http.get(url),
            "POST" => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body),
            _ => {
                return Err(Error::Internal(
                    "a request method the cloud client does not send",
                ));
            }
        };
        for (name, value) in headers.to_pairs() {
            request = request.header(name, value);
        }
        self.answer(request)
    }

    fn answer<R: DeserializeOwned>(&self, request: reqwest::blocking::RequestBuilder) -> Result<R> {
        let response = request.send().map_err(|e| Error::CloudUnreachable {
            detail: describe_transport(&e),
        })?;
        let status = response.status();
        let mut bytes = Vec::new();
        response
            .take(MAX_ANSWER_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::CloudUnreachable {
                detail: format!("the answer was cut off ({e})"),
            })?;
        if bytes.len() as u64 > MAX_ANSWER_BYTES {
            return Err(Error::CloudProtocol {
                detail: format!("an answer larger than {MAX_ANSWER_BYTES} bytes"),
            });
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| Error::CloudProtocol {
                detail: format!("an answer that is not what the protocol says ({e})"),
            });
        }
        match serde_json::from_slice::<api::ApiError>(&bytes) {
            Ok(refusal) => Err(Error::CloudRefused {
                code: refusal.code,
                message: printable(&refusal.message),
            }),
            // Proxies and load balancers answer in their own words: a 502 from one is the
            // server being away, not a protocol fault.
            Err(_) if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
                Err(Error::CloudUnreachable {
                    detail: format!("the server answered {status}"),
                })
            }
            Err(_) => Err(Error::CloudProtocol {
                detail: format!("a refusal ({status}) without an error code"),
            }),
        }
    }
}

/// The server's words, kept to one short printable line: they reach the status bar.
fn printable(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect()
}

/// What a shop can act on: not reachable, not trusted, or too slow. reqwest's own text names
/// the URL, which is fine (it holds no secret) but says less than this.
fn describe_transport(e: &reqwest::Error) -> String {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        chain.push_str(": ");
        source = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("unknownissuer") {
        "its certificate is not signed by the CA pinned for this shop (a different server, or \
         someone in between)"
            .into()
    } else if e.is_timeout() {
        "it did not answer in time".into()
    } else if e.is_connect() {
        "no connection (is the internet or the server down?)".into()
    } else {
        "the connection failed part-way".into()
    }
}

/// Whether an error means "try again later" (the loop backs off) rather than "stop".
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::CloudUnreachable { .. } => true,
        Error::CloudRefused { code, .. } => matches!(
            code,
            ErrorCode::RateLimited
                | ErrorCode::Unavailable
                | ErrorCode::Internal
                | ErrorCode::Replayed
                | ErrorCode::ClockSkew
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_is_https_and_a_host_only() {
        assert_eq!(
            server_url(" https://cloud.example.in:8443/ ").unwrap(),
            "https://cloud.example.in:8443"
        );
        for bad in [
            "http://cloud.example.in",
            "cloud.example.in",
            "https://",
            "https://cloud.example.in/v1",
            "https://user@cloud.example.in",
            "https://cloud.example.in?x=1",
        ] {
            assert!(server_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_ca_must_be_pem_certificates() {
        assert!(ca_certificates("").is_err());
        assert!(ca_certificates("not a certificate").is_err());
        assert!(ca_certificates(&"A".repeat(70_000)).is_err());
        let broken = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(ca_certificates(broken).is_err());
    }

    #[test]
    fn refusals_that_pass_are_retried_and_the_rest_stop() {
        let refused = |code| Error::CloudRefused {
            code,
            message: String::new(),
        };
        assert!(is_transient(&Error::CloudUnreachable {
            detail: "x".into()
        }));
        assert!(is_transient(&refused(ErrorCode::RateLimited)));
        assert!(is_transient(&refused(ErrorCode::Internal)));
        assert!(!is_transient(&refused(ErrorCode::DeviceRevoked)));
        assert!(!is_transient(&refused(ErrorCode::WipeRequested)));
        assert!(!is_transient(&refused(ErrorCode::ChainBroken)));
    }
}
