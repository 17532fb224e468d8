//! Enrollment: a new terminal joins a shop that already has a cloud tenant, with the one-time
//! code the owner issued (`XXXXX-XXXXX`, fifteen minutes, one use).
//!
//! The terminal makes its own keys first (the keychain holds them before anything else
//! exists), proves to the server that it holds its device key while redeeming the code, and
//! receives its device id, invoice series, the tenant's keys and the log's verifier key. It
//! then pulls the shop's whole shared state (the shop, its seats with their credentials, the
//! catalogue, customers, other terminals and their documents) into a new database, applied at
//! the complete checkpoint in one transaction as every later pull is, and records its own
//! device row, its wrapped copy of the tenant keys and the cloud link as its first audited
//! operation. Like creating a shop, all of this happens in `galla.db.new` and becomes
//! `galla.db` only when complete, so a failure at any step leaves no half-made terminal.
//!
//! A code is this terminal's once the server answers it. If the pull that follows fails (the
//! network drops, the owner's terminal has not synced yet), nothing is kept but the keys, and
//! trying again with the same code within its fifteen minutes finishes the job: the keys an
//! unfinished attempt left in the keychain are used again, and the cloud answers a redeemed
//! code again for the key that redeemed it, as long as that device has sent nothing.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use galla_proto::api::{self, EnrollRequest, EnrollResponse, KeyPurpose};
use galla_proto::checkpoint::NoteVerifier;
use serde::Deserialize;

use super::cloud_client::{self, CloudClient, DeviceIdentity};
use super::{protocol, pull};
use crate::clock::Clock;
use crate::crypto::ColumnCipher;
use crate::crypto::{self, SecretKey};
use crate::engine::{self, Env, Founder, Record};
use crate::error::{Error, InputError, Result, required};
use crate::keychain::SecretStore;
use crate::keys::TerminalKeys;
use crate::store::Store;
use crate::terminal::{DataDir, PURPOSE_BLIND, PURPOSE_PII, Terminal};

/// What the first-run screen or `galla-cli enroll` asks for.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrollTerminal {
    /// `https://host[:port]` of the shop's cloud.
    pub server_url: String,
    /// The cloud's CA certificate (PEM), pinned from now on.
    pub ca_pem: String,
    /// The code the owner issued, as typed (case, spaces and dashes do not matter).
    pub code: String,
    /// What this till is called in the shop (for example "Counter 2").
    pub terminal_name: String,
}

struct ValidEnrollment {
    server_url: String,
    ca_pem: String,
    code: String,
    terminal_name: String,
}

impl EnrollTerminal {
    fn validate(&self) -> Result<ValidEnrollment, InputError> {
        let server_url = cloud_client::server_url(&self.server_url)?;
        cloud_client::ca_certificates(&self.ca_pem)?;
        if !api::is_code_shaped(&self.code) {
            return Err(InputError::Rejected {
                field: "code",
                reason: "an enrollment code is ten letters and digits, like 7K2M0-QX1RS: check \
                         it against what the owner's screen shows"
                    .into(),
            });
        }
        Ok(ValidEnrollment {
            server_url,
            ca_pem: self.ca_pem.trim().to_owned() + "\n",
            code: api::normalise_code(&self.code),
            terminal_name: required("terminal_name", &self.terminal_name, 60)?,
        })
    }
}

/// The tenant keys the server sent, checked and decoded.
struct TenantKeys {
    data: BTreeMap<u32, SecretKey>,
    blind: SecretKey,
}

fn tenant_keys(keys: &[api::TenantKey]) -> Result<TenantKeys> {
    let mut data = BTreeMap::new();
    let mut blind = None;
    for k in keys {
        let bytes = zeroize::Zeroizing::new(
            BASE64
                .decode(&k.key)
                .map_err(|_| protocol("a tenant key is not base64"))?,
        );
        let key = SecretKey::from_slice(&bytes)
            .ok_or_else(|| protocol("a tenant key is not 32 bytes"))?;
        match k.purpose {
            KeyPurpose::Data => {
                data.insert(k.version, key);
            }
            KeyPurpose::BlindIndex => blind = Some(key),
        }
    }
    let blind = blind.ok_or_else(|| protocol("the enrollment carried no blind-index key"))?;
    if data.is_empty() {
        return Err(protocol("the enrollment carried no data key"));
    }
    Ok(TenantKeys { data, blind })
}

impl Terminal {
    /// Joins this terminal to an existing cloud shop with an enrollment code, in `dir`, and
    /// opens it. Nobody is signed in: the shop's seats sign in here with the secrets they
    /// already have.
    pub fn enroll(
        dir: &DataDir,
        keychain: &dyn SecretStore,
        clock: Arc<dyn Clock>,
        request: &EnrollTerminal,
    ) -> Result<Terminal> {
        let valid = request.validate()?;
        if dir.db_path().exists() {
            return Err(Error::AlreadyInitialised {
                data_dir: dir.root().to_path_buf(),
            });
        }
        let client = CloudClient::new(&valid.server_url, &valid.ca_pem)?;
        dir.create()?;
        let install_id = dir.install_id_or_new()?;
        // Keys filed for an install without a database belong to an attempt that never finished:
        // perhaps one that redeemed this very code and then failed to pull, which the cloud
        // answers again only for the same device key. So they are used again, not replaced.
        let keys = match TerminalKeys::load(keychain, install_id) {
            Ok(keys) => keys,
            Err(Error::KeyMissing { .. } | Error::KeyDamaged { .. }) => {
                TerminalKeys::create(keychain, install_id)?
            }
            Err(e) => return Err(e),
        };
        let result = build_enrolled_database(dir, &keys, clock.clone(), &client, &valid);
        dir.remove_unfinished();
        let enrolled = result?;
        tracing::info!(
            tenant = %enrolled.tenant_id,
            device = %enrolled.device_id,
            series = %enrolled.series_code,
            "enrolled in the shop's cloud"
        );
        Terminal::open(dir, keychain, clock)
    }
}

fn build_enrolled_database(
    dir: &DataDir,
    keys: &TerminalKeys,
    clock: Arc<dyn Clock>,
    client: &CloudClient,
    valid: &ValidEnrollment,
) -> Result<EnrollResponse> {
    let public = keys.device_public().to_bytes();
    let proof = keys
        .device
        .sign(&api::enroll_proof_message(&valid.code, &public));
    let enrolled: EnrollResponse = client.post_public(
        api::PATH_ENROLL,
        &EnrollRequest {
            code: valid.code.clone(),
            device_public_key: BASE64.encode(public),
            proof: BASE64.encode(proof.to_bytes()),
        },
    )?;
    NoteVerifier::from_vkey(&enrolled.log_verifier_key)
        .map_err(|e| protocol(format!("the log's verifier key is unusable ({e})")))?;
    let tenant_keys = tenant_keys(&enrolled.keys)?;
    let tenant_id = enrolled.tenant_id;
    let device_id = enrolled.device_id;

    dir.remove_unfinished();
    let unfinished = dir.unfinished_db_path();
    let mut store = Store::create(&unfinished, &keys.db)?;

    // The shop as the cloud has it, complete, before this terminal writes anything.
    let who = DeviceIdentity {
        tenant_id,
        device_id,
        key: &keys.device,
    };
    // The database is not in place until the end, so nothing needs staging for a resumed pull:
    // pages are applied as they come, in one transaction (foreign keys are checked once the
    // whole feed is in, since a row may come before one it refers to).
    let nothing_unsynced = HashSet::new();
    let applied = store.apply_pulled(|tx| {
        let mut applier = pull::Applier::new(&nothing_unsynced, clock.now_ms());
        let mut cursor = 0;
        loop {
            let path = format!("{}?after={cursor}", api::PATH_SYNC_CHANGES);
            let page: api::ChangesResponse =
                client.signed(&who, clock.now_ms(), "GET", &path, Vec::new())?;
            pull::check_page(cursor, &page)?;
            for r in &page.rows {
                applier.row(tx, &r.table, &r.id, &r.row)?;
            }
            cursor = page.next;
            if page.complete {
                break;
            }
        }
        tx.execute(
            "UPDATE sync_state SET pull_staged = ?1, pull_cursor = ?1, last_pull_ms = ?2
             WHERE id = 1",
            rusqlite::params![cursor, clock.now_ms()],
        )?;
        Ok(applier.applied)
    })?;
    let shop: i64 = store.reader().query_row(
        "SELECT count(*) FROM tenant WHERE id = ?",
        [tenant_id.to_string()],
        |r| r.get(0),
    )?;
    if shop == 0 {
        return Err(Error::CloudProtocol {
            detail: "the cloud has none of this shop's records yet: the owner's terminal must \
                     sync once before another terminal joins; then try the same code again \
                     (it stays good for this terminal for its fifteen minutes)"
                .into(),
        });
    }
    tracing::info!(
        written = applied.written,
        skipped = applied.skipped,
        from_the_future = applied.from_the_future,
        "pulled the shop"
    );

    let now = clock.now_ms();
    let mut wrapped = Vec::new();
    for (version, key) in &tenant_keys.data {
        let w = crypto::wrap_key(&keys.wrap, tenant_id, PURPOSE_PII, *version, key)?;
        wrapped.push((PURPOSE_PII, *version, w));
    }
    let w = crypto::wrap_key(&keys.wrap, tenant_id, PURPOSE_BLIND, 1, &tenant_keys.blind)?;
    wrapped.push((PURPOSE_BLIND, 1, w));
    let env = Env {
        tenant_id,
        device_id,
        series_code: enrolled.series_code.clone(),
        cipher: ColumnCipher::new(tenant_id, tenant_keys.data, tenant_keys.blind)
            .ok_or_else(|| protocol("the enrollment carried no data key"))?,
        rates: galla_domain::RateSchedule::bundled(),
        clock,
        device_public: keys.device_public(),
    };
    let link = super::CloudLink {
        server_url: valid.server_url.clone(),
        ca_pem: valid.ca_pem.clone(),
        log_origin: enrolled.log_origin.clone(),
        log_vkey: enrolled.log_verifier_key.clone(),
        linked_at_ms: now,
    };
    // Nobody has signed in on this terminal yet: the code the owner issued is the authority.
    engine::found(
        &mut store,
        &env,
        &keys.device,
        Founder::Enrollment,
        Record::new("device.enroll", "device", device_id),
        |cx| {
            crate::shop::insert_device(cx, &valid.terminal_name, &enrolled.series_code, &public)?;
            crate::shop::insert_tenant_keys(cx, &wrapped)?;
            super::records::insert_link(cx, &link)
        },
    )?;
    dir.put_in_place(store)?;
    Ok(enrolled)
}
