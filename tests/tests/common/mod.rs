//! What the cross-crate sync tests share: a real cloud (private PostgreSQL, TLS 1.3) on a
//! manual clock, a real keychain, and the owner's side of the cloud's API. Each test binary
//! uses part of it.
#![allow(dead_code)]

use std::sync::Arc;

use galla_client::{
    DataDir, EnrollTerminal, FinalizeRequest, LinkRequest, ManualClock, NewCustomer, NewSeat,
    NewShop, OsKeychain, PaymentInput, ProductRef, Role, SecretKind, SecretString, SessionToken,
    Terminal,
};
use galla_cloud::clock::Clock as _;
use galla_cloud::testing::TestCloud;
use uuid::Uuid;

/// 2026-11-21 10:00 IST.
pub const START_MS: i64 = 1_795_240_800_000;
pub const OWNER_PASSPHRASE: &str = "owner passphrase 1";
pub const CLOUD_PASSPHRASE: &str = "cloud owner passphrase";

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub cloud: TestCloud,
    pub clock: Arc<ManualClock>,
    pub keychain: Arc<OsKeychain>,
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cloud = rt.block_on(TestCloud::start(&dir.path().join("cloud"), START_MS));
        World {
            rt,
            cloud,
            clock: Arc::new(ManualClock::at(START_MS)),
            keychain: Arc::new(OsKeychain::connect().unwrap_or_else(|e| {
                panic!("run through scripts/keyring-session.sh: a real keychain is needed ({e})")
            })),
            dir,
        }
    }

    /// Moves the terminals' and the cloud's clocks together.
    pub fn advance(&self, ms: i64) {
        self.clock.advance_ms(ms);
        self.cloud.clock.advance_ms(ms);
    }

    /// A standalone shop and its owner's session.
    pub fn shop(&self, name: &str) -> (Arc<Terminal>, SessionToken, DataDir) {
        let data = DataDir::new(self.dir.path().join(name));
        let (t, token) = Terminal::init(
            &data,
            self.keychain.as_ref(),
            self.clock.clone(),
            &NewShop {
                shop_name: "Sharma Mobiles".into(),
                gstin: Some("27AAPFU0939F1ZV".into()),
                state_code: None,
                owner_name: "Ravi Sharma".into(),
                owner_passphrase: SecretString::new(OWNER_PASSPHRASE),
                terminal_name: "Counter 1".into(),
                series_code: "T1".into(),
            },
        )
        .unwrap();
        (Arc::new(t), token, data)
    }

    pub fn link_request(&self) -> LinkRequest {
        LinkRequest {
            server_url: self.cloud.url(),
            ca_pem: self.cloud.ca_pem.clone(),
            owner_passphrase: SecretString::new(CLOUD_PASSPHRASE),
        }
    }

    pub fn link(&self, t: &Terminal, token: &SessionToken) -> totp_rs::Totp {
        let outcome = t.link_cloud(token, &self.link_request()).unwrap();
        assert_eq!(outcome.tenant_id, t.tenant_id());
        totp_rs::Totp::from_url(&outcome.owner_totp_uri).unwrap()
    }

    pub fn count(&self, tenant: Uuid, sql: &str) -> i64 {
        let sql = sql.to_owned();
        self.rt
            .block_on(
                self.cloud
                    .db
                    .in_tenant(tenant, async |tx| Ok(tx.query_one(&sql, &[]).await?.get(0))),
            )
            .unwrap()
    }

    /// A row of the cloud's shared state, as the change feed serves it.
    pub fn shared_row(&self, tenant: Uuid, table: &str, id: &str) -> serde_json::Value {
        let (table, id) = (table.to_owned(), id.to_owned());
        self.rt
            .block_on(self.cloud.db.in_tenant(tenant, async |tx| {
                Ok(tx
                    .query_one(
                        "SELECT data FROM shared_row WHERE tbl = $1 AND row_id = $2",
                        &[&table, &id],
                    )
                    .await?
                    .get(0))
            }))
            .unwrap()
    }

    /// Another terminal's change as the cloud derives it from that terminal's push (the
    /// derivation itself is tested in galla-cloud's shared_state tests): the row is replaced
    /// and takes the next place in the change feed.
    pub fn change_elsewhere(&self, tenant: Uuid, table: &str, id: &str, row: serde_json::Value) {
        let (table, id) = (table.to_owned(), id.to_owned());
        let device = Uuid::now_v7();
        self.rt
            .block_on(self.cloud.db.in_tenant(tenant, async |tx| {
                let change: i64 = tx
                    .query_one(
                        "UPDATE change_feed SET last_change = last_change + 1
                         WHERE tenant_id = $1 RETURNING last_change",
                        &[&tenant],
                    )
                    .await?
                    .get(0);
                tx.execute(
                    "UPDATE shared_row SET data = $3, device_id = $4, change = $5
                     WHERE tbl = $1 AND row_id = $2",
                    &[&table, &id, &row, &device, &change],
                )
                .await?;
                Ok(())
            }))
            .unwrap()
    }

    /// The owner, on the cloud's owner API: signs in with passphrase and TOTP, then POSTs.
    pub fn owner_post(
        &self,
        tenant: Uuid,
        totp: &totp_rs::Totp,
        path: &str,
    ) -> reqwest::StatusCode {
        self.owner_call(tenant, totp, path, serde_json::json!({})).0
    }

    /// An enrollment code for a new terminal, as the owner's screen would show it.
    pub fn enrollment_code(&self, tenant: Uuid, totp: &totp_rs::Totp) -> String {
        let (status, code) = self.owner_call(
            tenant,
            totp,
            galla_proto::api::PATH_OWNER_ENROLLMENT_CODES,
            serde_json::json!({}),
        );
        assert!(status.is_success(), "{status}: {code}");
        code["code"].as_str().expect("a code").to_owned()
    }

    /// [`World::owner_post`] with a body, giving back the answer.
    pub fn owner_call(
        &self,
        tenant: Uuid,
        totp: &totp_rs::Totp,
        path: &str,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.advance(30_000); // each TOTP step is accepted once
        let code = totp
            .generate((self.cloud.clock.now_ms() / 1000) as u64)
            .to_string();
        let http = https_client(&self.cloud.ca_pem);
        let base = self.cloud.url();
        self.rt.block_on(async {
            let session: serde_json::Value = http
                .post(format!("{base}{}", galla_proto::api::PATH_OWNER_SESSION))
                .json(&serde_json::json!({
                    "tenant_id": tenant, "passphrase": CLOUD_PASSPHRASE, "totp_code": code
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let token = session["token"]
                .as_str()
                .expect("an owner session")
                .to_owned();
            let answer = http
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            (status, answer.json().await.unwrap_or_default())
        })
    }
}

pub fn https_client(ca_pem: &str) -> reqwest::Client {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
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
        .build()
        .unwrap()
}

pub fn add_customers(t: &Terminal, token: &SessionToken, from: usize, n: usize) {
    for i in from..from + n {
        t.add_customer(
            token,
            &NewCustomer {
                name: format!("Customer {i}"),
                phone: Some(format!("98{:08}", i)),
                ..Default::default()
            },
        )
        .unwrap();
    }
}

pub fn pin_seat(t: &Terminal, owner: &SessionToken, name: &str, role: Role, pin: &str) -> Uuid {
    t.add_seat(
        owner,
        &NewSeat {
            display_name: name.into(),
            roles: vec![role],
            overrides: vec![],
            secret_kind: SecretKind::Pin,
            secret: SecretString::new(pin),
        },
    )
    .unwrap()
}

/// Finalizes the cart on `t`, paid in cash to the paisa; the invoice number.
pub fn paid_in_cash(t: &Terminal, who: &SessionToken, amount_paise: i64) -> String {
    t.finalize(
        who,
        &FinalizeRequest {
            payments: vec![PaymentInput::Cash {
                amount_paise,
                tendered_paise: None,
            }],
            ..Default::default()
        },
    )
    .unwrap()
    .number
}

/// Sells one back cover for cash on `t`; the invoice number.
pub fn sell_cover(t: &Terminal, who: &SessionToken) -> String {
    t.add_product_to_cart(who, &ProductRef::Sku("COVER".into()), 1)
        .unwrap();
    paid_in_cash(t, who, 29_900)
}

impl World {
    /// A second counter joins the linked shop with an owner's enrollment code.
    pub fn enroll_till(
        &self,
        tenant: Uuid,
        totp: &totp_rs::Totp,
        name: &str,
    ) -> (Terminal, DataDir) {
        let data = DataDir::new(self.dir.path().join(name));
        let code = self.enrollment_code(tenant, totp);
        let t = Terminal::enroll(
            &data,
            self.keychain.as_ref(),
            self.clock.clone(),
            &EnrollTerminal {
                server_url: self.cloud.url(),
                ca_pem: self.cloud.ca_pem.clone(),
                code,
                terminal_name: name.into(),
            },
        )
        .unwrap();
        (t, data)
    }

    /// What a thief takes from one enrolled terminal: its device key from the keychain and its
    /// database key (docs/security.md's "key + SQLite shell" adversary), and with them the
    /// head of its audit chain, so the records it signs continue that chain.
    pub fn steal(&self, t: &Terminal, data: &DataDir) -> Stolen {
        let install = data.install_id().unwrap().unwrap();
        let keys = galla_client::keys::TerminalKeys::load(self.keychain.as_ref(), install).unwrap();
        let raw = rusqlite::Connection::open(data.db_path()).unwrap();
        raw.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\";",
            keys.db.to_hex().as_str()
        ))
        .unwrap();
        let (seq, hash): (i64, Vec<u8>) = raw
            .query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        Stolen {
            tenant_id: t.tenant_id(),
            device_id: t.device_id(),
            key: keys.device,
            next_seq: seq as u64 + 1,
            prev_hash: hash.try_into().unwrap(),
            nonces: 0,
        }
    }
}

/// A stolen terminal's identity in the thief's hands: records it signs continue the
/// terminal's chain, and requests it signs are the terminal's requests.
pub struct Stolen {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub key: ed25519_dalek::SigningKey,
    pub next_seq: u64,
    pub prev_hash: [u8; 32],
    nonces: u64,
}

impl Stolen {
    /// Signs the next record of the chain (`before`/`after`: `{"table/id": row}` or null). It
    /// does not move the chain on: the attacks here are refused, which leaves the cloud's head
    /// where it was.
    pub fn record(
        &self,
        time_ms: i64,
        action: &str,
        entity: (&str, &str),
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> galla_proto::audit::SignedAuditRecord {
        self.record_as(None, time_ms, action, entity, before, after)
    }

    /// The same, in the name of `seat` (any seat id the thief has read, off a lock screen).
    pub fn record_as(
        &self,
        seat: Option<Uuid>,
        time_ms: i64,
        action: &str,
        entity: (&str, &str),
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> galla_proto::audit::SignedAuditRecord {
        let image = |v: serde_json::Value| (!v.is_null()).then(|| serde_json::to_vec(&v).unwrap());
        galla_proto::audit::AuditRecord {
            tenant_id: self.tenant_id,
            device_id: self.device_id,
            seq: self.next_seq,
            prev_hash: self.prev_hash,
            time_ms,
            seat_id: seat,
            role: "owner".into(),
            action: action.into(),
            entity_type: entity.0.into(),
            entity_id: entity.1.into(),
            before: image(before),
            after: image(after),
        }
        .sign(&self.key)
        .unwrap()
    }

    /// Moves the chain on past `record` (one the cloud is to take into its log), so the next
    /// record continues from it.
    pub fn advance(&mut self, record: &galla_proto::audit::SignedAuditRecord) {
        self.next_seq = record.record.seq + 1;
        self.prev_hash = record.hash;
    }

    /// Pushes `records` as the terminal would: a request signed with its key at the cloud's
    /// time. The answer's status and body.
    pub fn push(
        &mut self,
        w: &World,
        records: &[&galla_proto::audit::SignedAuditRecord],
    ) -> (reqwest::StatusCode, serde_json::Value) {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let body = serde_json::to_vec(&galla_proto::api::AuditPush {
            records: records
                .iter()
                .map(|r| galla_proto::api::PushedRecord {
                    seq: r.record.seq,
                    record: b64(&r.encoded),
                    signature: b64(&r.signature),
                    secrets: None,
                })
                .collect(),
        })
        .unwrap();
        self.send(w, reqwest::Method::POST, galla_proto::api::PATH_AUDIT, body)
    }

    /// Any request, signed as the terminal.
    pub fn send(
        &mut self,
        w: &World,
        method: reqwest::Method,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.nonces += 1;
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&self.nonces.to_be_bytes());
        nonce[8..].copy_from_slice(&self.next_seq.to_be_bytes());
        let headers = galla_proto::request_auth::sign_request(
            &self.key,
            galla_proto::request_auth::RequestParts {
                method: method.as_str(),
                path_and_query,
                body: &body,
            },
            self.tenant_id,
            self.device_id,
            w.cloud.clock.now_ms(),
            nonce,
        );
        let http = https_client(&w.cloud.ca_pem);
        let mut request = http
            .request(method, format!("{}{path_and_query}", w.cloud.url()))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers.to_pairs() {
            request = request.header(name, value);
        }
        w.rt.block_on(async {
            let answer = request.send().await.unwrap();
            let status = answer.status();
            (status, answer.json().await.unwrap_or_default())
        })
    }
}
