//! A running cloud for API tests: a private PostgreSQL, the server over real TLS 1.3 on a free
//! port with a manual clock, and an HTTPS client that trusts only the test's development CA.
//! Also a test terminal: a device key that enrolls, signs requests and writes an audit chain.

#![allow(dead_code)] // each test file uses its own part

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::SigningKey;
use galla_cloud::clock::ManualClock;
use galla_cloud::rate_limit::RateLimitConfig;
use galla_cloud::server;
use galla_cloud::tls::DevCa;
use galla_cloud::{Db, PgCluster};
use galla_proto::api::{self as wire, *};
use galla_proto::audit::{AuditRecord, GENESIS_HASH, SignedAuditRecord};
use galla_proto::request_auth::{RequestParts, sign_request};
use reqwest::{Method, StatusCode};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::common;

pub const PASSPHRASE: &str = "correct horse battery staple";
/// 2026-11-21 10:00 IST: tests start here and move the clock by hand.
pub const START_MS: i64 = 1_795_240_800_000;

pub struct Cloud {
    pub cluster: PgCluster,
    pub db: Db,
    pub clock: ManualClock,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    handle: axum_server::Handle<SocketAddr>,
    pub dir: tempfile::TempDir,
}

impl Drop for Cloud {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// A cloud whose sensitive-route limit does not get in the way of a test's many sign-ins.
pub async fn cloud() -> Cloud {
    cloud_with(RateLimitConfig {
        sensitive_per_minute: 10_000,
        ..RateLimitConfig::default()
    })
    .await
}

pub async fn cloud_with(limits: RateLimitConfig) -> Cloud {
    let dir = tempfile::tempdir().expect("a temp folder");
    let (cluster, db) = common::migrated_cluster(&dir.path().join("pg"), 16).await;
    let clock = ManualClock::new(START_MS);
    let state = common::app_state(dir.path(), db.clone(), clock.clone(), &limits);
    let ca = DevCa::ensure(&dir.path().join("tls")).expect("dev CA");
    let addr: SocketAddr = format!("127.0.0.1:{}", common::free_port())
        .parse()
        .unwrap();
    let handle = axum_server::Handle::new();
    tokio::spawn(server::serve(
        addr,
        ca.server_config().unwrap(),
        state,
        handle.clone(),
    ));
    handle.listening().await.expect("the server listens");
    let http = https_client(&ca.ca_cert, None);
    Cloud {
        cluster,
        db,
        clock,
        addr,
        http,
        handle,
        dir,
    }
}

/// An HTTPS client that speaks TLS 1.3 only and trusts only the test's CA; `local` binds its
/// source address (any 127.x.y.z reaches the server, so a test can be two clients).
pub fn https_client(ca: &std::path::Path, local: Option<std::net::IpAddr>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .local_address(local)
        .build()
        .expect("an HTTPS client")
}

/// A response's status and JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }

    /// The error code of a refusal.
    pub fn code(&self) -> String {
        self.body["code"].as_str().unwrap_or_default().to_owned()
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        body,
        headers,
    }
}

impl Cloud {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    pub async fn post(&self, path: &str, body: &impl Serialize) -> Answer {
        answer(
            self.http
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        answer(request.send().await.unwrap()).await
    }

    /// A new shop: (its answer, the owner's TOTP generator).
    pub async fn create_shop(
        &self,
        link: Option<LinkShop>,
    ) -> (CreateTenantResponse, totp_rs::Totp) {
        let a = self
            .post(
                PATH_TENANTS,
                &CreateTenantRequest {
                    shop_name: "Sharma Mobiles".into(),
                    owner_name: "Ravi Sharma".into(),
                    owner_passphrase: PASSPHRASE.into(),
                    link,
                },
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let created: CreateTenantResponse = a.json();
        let totp = totp_rs::Totp::from_url(&created.owner_totp_uri).expect("an otpauth URI");
        (created, totp)
    }

    /// The owner's TOTP code at the clock's time plus `steps` 30-second steps.
    pub fn code_at(&self, totp: &totp_rs::Totp, steps: i64) -> String {
        totp.generate((self.clock_ms() / 1000 + steps * 30) as u64)
            .to_string()
    }

    pub fn clock_ms(&self) -> i64 {
        use galla_cloud::clock::Clock as _;
        self.clock.now_ms()
    }

    pub async fn owner_sign_in(&self, tenant: Uuid, totp: &totp_rs::Totp) -> String {
        // Each code is accepted once: step the clock so every sign-in has a fresh one.
        self.clock.advance_ms(30_000);
        let a = self
            .post(
                PATH_OWNER_SESSION,
                &OwnerSignIn {
                    tenant_id: tenant,
                    passphrase: PASSPHRASE.into(),
                    totp_code: self.code_at(totp, 0),
                },
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.json::<OwnerSession>().token
    }

    pub async fn owner(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> Answer {
        let mut r = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            r = r.json(b);
        }
        self.send(r).await
    }

    pub async fn issue_code(&self, token: &str, series: Option<&str>) -> EnrollmentCode {
        let a = self
            .owner(
                Method::POST,
                PATH_OWNER_ENROLLMENT_CODES,
                token,
                Some(&serde_json::json!({ "series_code": series })),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.json()
    }

    /// Counts rows of a table of `tenant` (through the app role and RLS).
    pub async fn count(&self, tenant: Uuid, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        self.db
            .in_tenant(tenant, async |tx| Ok(tx.query_one(&sql, &[]).await?.get(0)))
            .await
            .unwrap()
    }
}

/// A terminal as the cloud sees it: a device key, and once enrolled its ids and audit chain.
pub struct Terminal {
    pub key: SigningKey,
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub enrolled: Option<EnrollResponse>,
    pub chain: Vec<SignedAuditRecord>,
    nonce_counter: u64,
}

impl Terminal {
    pub fn new(seed: u8) -> Terminal {
        Terminal {
            key: SigningKey::from_bytes(&[seed; 32]),
            tenant_id: Uuid::nil(),
            device_id: Uuid::nil(),
            enrolled: None,
            chain: vec![],
            nonce_counter: 0,
        }
    }

    pub fn public_b64(&self) -> String {
        BASE64.encode(self.key.verifying_key().as_bytes())
    }

    pub fn enroll_request(&self, code: &str) -> EnrollRequest {
        use ed25519_dalek::Signer as _;
        let public = self.key.verifying_key().to_bytes();
        EnrollRequest {
            code: code.into(),
            device_public_key: self.public_b64(),
            proof: BASE64.encode(
                self.key
                    .sign(&wire::enroll_proof_message(code, &public))
                    .to_bytes(),
            ),
        }
    }

    pub fn adopt(&mut self, enrolled: EnrollResponse) {
        self.tenant_id = enrolled.tenant_id;
        self.device_id = enrolled.device_id;
        self.enrolled = Some(enrolled);
    }

    pub async fn enroll(&mut self, cloud: &Cloud, code: &str) -> Answer {
        let a = cloud.post(PATH_ENROLL, &self.enroll_request(code)).await;
        if a.status == StatusCode::CREATED {
            self.adopt(a.json());
        }
        a
    }

    /// A request signed by this terminal (a fresh nonce each time), at the cloud's clock.
    pub fn signed(
        &mut self,
        cloud: &Cloud,
        method: Method,
        path_and_query: &str,
        body: &[u8],
    ) -> reqwest::RequestBuilder {
        self.nonce_counter += 1;
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&self.nonce_counter.to_be_bytes());
        nonce[8..].copy_from_slice(&self.device_id.as_bytes()[8..]);
        let headers = sign_request(
            &self.key,
            RequestParts {
                method: method.as_str(),
                path_and_query,
                body,
            },
            self.tenant_id,
            self.device_id,
            cloud.clock_ms(),
            nonce,
        );
        let mut r = cloud
            .http
            .request(method, cloud.url(path_and_query))
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (name, value) in headers.to_pairs() {
            r = r.header(name, value);
        }
        r
    }

    pub async fn get(&mut self, cloud: &Cloud, path_and_query: &str) -> Answer {
        let r = self.signed(cloud, Method::GET, path_and_query, b"");
        cloud.send(r).await
    }

    /// The next `n` records of this terminal's chain (kept, not yet pushed).
    pub fn write(&mut self, n: usize) -> std::ops::Range<usize> {
        let start = self.chain.len();
        for _ in 0..n {
            let seq = self.chain.len() as u64 + 1;
            let prev_hash = self.chain.last().map_or(GENESIS_HASH, |r| r.hash);
            let record = AuditRecord {
                tenant_id: self.tenant_id,
                device_id: self.device_id,
                seq,
                prev_hash,
                time_ms: START_MS + seq as i64,
                seat_id: None,
                role: "counter_staff".into(),
                action: "invoice.finalize".into(),
                entity_type: "invoice".into(),
                entity_id: format!("A1/26-27/{seq:06}"),
                before: None,
                // A sale as a terminal records it: the invoice and the phone's IMEI, so every
                // push also derives shared state.
                after: Some(
                    serde_json::to_vec(&serde_json::json!({
                        format!("invoice/inv-{seq}"): {
                            "id": format!("inv-{seq}"), "number": format!("A1/26-27/{seq:06}"),
                            "fy": 2026, "total_paise": seq * 100,
                        },
                        format!("invoice_imei/imei-{seq}"): {
                            "id": format!("imei-{seq}"), "invoice_id": format!("inv-{seq}"),
                            "imei": format!("35{seq:013}"),
                        },
                    }))
                    .unwrap(),
                ),
            };
            self.chain.push(record.sign(&self.key).expect("a record"));
        }
        start..self.chain.len()
    }

    /// Appends one record with these images (`{"table/id": row}` objects, or null), made by
    /// `seat` at the cloud's start time plus its sequence number; returns its index.
    pub fn write_op(
        &mut self,
        seat: Option<Uuid>,
        action: &str,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> usize {
        let seq = self.chain.len() as u64 + 1;
        let prev_hash = self.chain.last().map_or(GENESIS_HASH, |r| r.hash);
        let image = |v: serde_json::Value| (!v.is_null()).then(|| serde_json::to_vec(&v).unwrap());
        let record = AuditRecord {
            tenant_id: self.tenant_id,
            device_id: self.device_id,
            seq,
            prev_hash,
            time_ms: START_MS + seq as i64,
            seat_id: seat,
            role: "owner".into(),
            action: action.into(),
            entity_type: action.split('.').next().unwrap_or("x").into(),
            entity_id: seq.to_string(),
            before: image(before),
            after: image(after),
        };
        self.chain.push(record.sign(&self.key).expect("a record"));
        self.chain.len() - 1
    }

    pub fn push_body(records: &[SignedAuditRecord]) -> Vec<u8> {
        serde_json::to_vec(&AuditPush {
            records: records
                .iter()
                .map(|r| PushedRecord {
                    seq: r.record.seq,
                    record: BASE64.encode(&r.encoded),
                    signature: BASE64.encode(r.signature),
                    secrets: None,
                })
                .collect(),
        })
        .unwrap()
    }

    pub async fn push(&mut self, cloud: &Cloud, range: std::ops::Range<usize>) -> Answer {
        let body = Self::push_body(&self.chain[range]);
        let r = self.signed(cloud, Method::POST, PATH_AUDIT, &body);
        cloud.send(r).await
    }
}

/// A shop with its owner signed in and one enrolled terminal.
pub async fn shop_with_terminal(cloud: &Cloud, seed: u8) -> (Uuid, String, Terminal) {
    let (created, totp) = cloud.create_shop(None).await;
    let token = cloud.owner_sign_in(created.tenant_id, &totp).await;
    let code = cloud.issue_code(&token, None).await;
    let mut terminal = Terminal::new(seed);
    let a = terminal.enroll(cloud, &code.code).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    (created.tenant_id, token, terminal)
}
