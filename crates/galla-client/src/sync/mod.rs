//! Sync with the shop's cloud tenant: linking a standalone shop, pushing this terminal's signed
//! audit chain, and checking the cloud's transparency log on every contact.
//!
//! One pass ([`Terminal::sync_pass`]) asks the server how far it holds this terminal's chain,
//! pushes the rest in batches bounded by count and bytes, then checks the newest signed
//! checkpoint: signed by the key pinned at linking, extending the last checkpoint this terminal
//! verified (a consistency proof), and including this terminal's newest pushed record (an
//! inclusion proof; the chain's hash links make that record vouch for every earlier one). A
//! log that fails any of these raises an alarm kept with its evidence, and the old checkpoint
//! stays the trusted one. Nothing here ever deletes or rewrites a sale: the server's word can
//! mark outbox entries sent, never remove them.
//!
//! The network is never touched while the store is locked: a pass reads what to send, lets the
//! till go on billing while the request is out, and then records the answer.

pub mod cloud_client;
pub mod enroll;
pub mod pull;
pub(crate) mod records;
pub mod worker;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use galla_proto::api::{self, ErrorCode, LinkShop, TenantKey};
use galla_proto::checkpoint::{Checkpoint, NoteVerifier};
use galla_proto::merkle;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::SecretString;
use crate::engine::session::SessionToken;
use crate::error::{Error, InputError, Result};
use crate::keychain::SecretStore;
use crate::keys::TerminalKeys;
use crate::ops::Op;
use crate::terminal::Terminal;

use cloud_client::{CloudClient, DeviceIdentity};

/// The schema version that added the sync tables (`0012_cloud_sync.sql`).
pub(crate) const SCHEMA_VERSION: i64 = 12;

/// A push body stays well under the server's 4 MiB limit: records travel as base64.
const MAX_PUSH_RECORD_BYTES: usize = 2 << 20;

/// Where this shop's cloud is and what to trust there: stored once, at linking or enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudLink {
    pub server_url: String,
    pub ca_pem: String,
    pub log_origin: String,
    pub log_vkey: String,
    pub linked_at_ms: i64,
}

/// What the owner gives to link a standalone shop to a new cloud tenant.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LinkRequest {
    /// `https://host[:port]` of the tenant server.
    pub server_url: String,
    /// The server's CA certificate (PEM), pinned from now on.
    pub ca_pem: String,
    /// The owner's passphrase for the cloud (signing in there takes it and a TOTP code).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub owner_passphrase: SecretString,
}

/// What linking gives back, shown once.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LinkOutcome {
    pub tenant_id: Uuid,
    /// `otpauth://` URI of the owner's cloud TOTP secret, for an authenticator app. Shown once;
    /// never logged.
    pub owner_totp_uri: String,
}

/// Something the owner must see about the cloud's log or what it served.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncAlarm {
    pub id: i64,
    /// `bad_checkpoint`, `log_rewritten`, `record_missing` or `future_stamp`.
    pub kind: String,
    pub detail: String,
    pub raised_at_ms: i64,
}

/// Something the cloud found while taking in the counters' records, for the owner to resolve:
/// `duplicate_number`, `imei_conflict`, `seat_change_refused`, `equivocation`, `clock_ahead`,
/// `device_change_refused`, `change_refused`, `revoked_seat_fact` or `second_factor_guessing`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CloudAlert {
    pub id: String,
    pub kind: String,
    /// The counter whose records raised it, by name when this terminal knows it.
    pub terminal: Option<String>,
    pub detail: String,
    pub raised_at_ms: i64,
    /// The owner's answer, once one was given at any counter.
    pub resolution: Option<AlertResolution>,
}

/// How an alert was resolved: by whom, when, and what was done.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlertResolution {
    /// The seat's name, when this terminal knows the seat.
    pub resolved_by: Option<String>,
    pub resolved_at_ms: i64,
    pub note: String,
}

/// The longest note an alert's resolution takes.
pub const ALERT_NOTE_MAX: usize = 500;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Records the server took as new in this pass.
    pub pushed: u64,
    /// The highest sequence number the server holds of this terminal's chain.
    pub server_seq: u64,
    /// The size of the newest checkpoint verified.
    pub checkpoint_size: u64,
    /// Alarms raised in this pass.
    pub alarms: Vec<SyncAlarm>,
    /// What applying the cloud's shared state did (nothing when the feed had no news).
    pub pulled: pull::Applied,
}

/// How the server stands with this terminal (what `sync_state.standing` holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    Active,
    Revoked,
    Quarantined,
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Revoked => "revoked",
            Standing::Quarantined => "quarantined",
        }
    }
}

/// The sync state as stored after the last contact.
#[derive(Debug, Clone)]
pub(crate) struct StoredSyncState {
    pub server_seq: u64,
    pub checkpoint_size: u64,
    pub checkpoint_root: Option<[u8; 32]>,
    pub checkpoint_note: Option<String>,
    pub included_seq: u64,
    pub last_attempt_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub last_error: Option<String>,
    pub standing: String,
}

impl Default for StoredSyncState {
    fn default() -> Self {
        StoredSyncState {
            server_seq: 0,
            checkpoint_size: 0,
            checkpoint_root: None,
            checkpoint_note: None,
            included_seq: 0,
            last_attempt_ms: None,
            last_success_ms: None,
            last_error: None,
            standing: Standing::Active.as_str().to_owned(),
        }
    }
}

pub(crate) fn load_link(conn: &rusqlite::Connection) -> Result<Option<CloudLink>> {
    Ok(conn
        .query_row(
            "SELECT server_url, ca_pem, log_origin, log_vkey, linked_at_ms FROM cloud_link",
            [],
            |r| {
                Ok(CloudLink {
                    server_url: r.get(0)?,
                    ca_pem: r.get(1)?,
                    log_origin: r.get(2)?,
                    log_vkey: r.get(3)?,
                    linked_at_ms: r.get(4)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn load_state(conn: &rusqlite::Connection) -> Result<StoredSyncState> {
    let state = conn.query_row(
        "SELECT server_seq, checkpoint_size, checkpoint_root, checkpoint_note, included_seq,
                last_attempt_ms, last_success_ms, last_error, standing
         FROM sync_state WHERE id = 1",
        [],
        |r| {
            let root: Option<Vec<u8>> = r.get(2)?;
            Ok(StoredSyncState {
                server_seq: r.get::<_, i64>(0)? as u64,
                checkpoint_size: r.get::<_, i64>(1)? as u64,
                checkpoint_root: root.and_then(|b| b.try_into().ok()),
                checkpoint_note: r.get(3)?,
                included_seq: r.get::<_, i64>(4)? as u64,
                last_attempt_ms: r.get(5)?,
                last_success_ms: r.get(6)?,
                last_error: r.get(7)?,
                standing: r.get(8)?,
            })
        },
    )?;
    Ok(state)
}

pub(crate) fn alarms(conn: &rusqlite::Connection) -> Result<Vec<SyncAlarm>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, detail, raised_at_ms FROM sync_alarm ORDER BY id DESC LIMIT 100",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SyncAlarm {
            id: r.get(0)?,
            kind: r.get(1)?,
            detail: r.get(2)?,
            raised_at_ms: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A checkpoint this terminal has verified.
#[derive(Debug, Clone)]
struct Trusted {
    size: u64,
    root: [u8; 32],
}

/// One of this terminal's audit records, as pushed.
struct OwnRecord {
    seq: u64,
    record: Vec<u8>,
    signature: Vec<u8>,
    secrets: Option<serde_json::Map<String, serde_json::Value>>,
}

/// This terminal's records after `after`: at most `limit` of them, and no more than
/// [`MAX_PUSH_RECORD_BYTES`] of records unless the first alone is larger.
fn own_records(conn: &rusqlite::Connection, after: u64, limit: usize) -> Result<Vec<OwnRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.seq, a.record, a.signature, o.payload
         FROM audit_log a LEFT JOIN outbox o ON o.seq = a.seq
         WHERE a.seq > ? ORDER BY a.seq LIMIT ?",
    )?;
    let mut rows = stmt.query(rusqlite::params![after as i64, limit as i64])?;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while let Some(r) = rows.next()? {
        let record: Vec<u8> = r.get(1)?;
        let payload: Option<Vec<u8>> = r.get(3)?;
        bytes += record.len() + 128 + payload.as_ref().map_or(0, Vec::len);
        if !out.is_empty() && bytes > MAX_PUSH_RECORD_BYTES {
            break;
        }
        let seq = r.get::<_, i64>(0)? as u64;
        out.push(OwnRecord {
            seq,
            record,
            signature: r.get(2)?,
            secrets: outbox_secrets(seq, payload.as_deref())?,
        });
    }
    Ok(out)
}

/// The redacted values an outbox entry keeps for its record (see `write::REDACTED`).
fn outbox_secrets(
    seq: u64,
    payload: Option<&[u8]>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let Some(payload) = payload.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let damaged = || Error::DatabaseDamaged {
        detail: format!("the outbox entry of audit record {seq} is not what this build wrote"),
    };
    let mut v: serde_json::Value = serde_json::from_slice(payload).map_err(|_| damaged())?;
    if let Some(serde_json::Value::Object(m)) = v.get_mut("secrets").map(serde_json::Value::take) {
        return Ok(Some(m));
    }
    // Entries written before schema 13 copied the whole after images.
    let Some(serde_json::Value::Object(images)) = v.get("after") else {
        return Err(damaged());
    };
    let secrets: serde_json::Map<_, _> = images
        .iter()
        .filter_map(|(key, image)| {
            let table = key.split('/').next()?;
            let values = crate::engine::write::redacted_values(table, image);
            (!values.is_empty()).then(|| (key.clone(), serde_json::Value::Object(values)))
        })
        .collect();
    Ok((!secrets.is_empty()).then_some(secrets))
}

fn protocol(detail: impl Into<String>) -> Error {
    Error::CloudProtocol {
        detail: detail.into(),
    }
}

fn hash32(b64: &str) -> Result<[u8; 32]> {
    BASE64
        .decode(b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| protocol("a proof hash that is not 32 bytes of base64"))
}

/// Raises an alarm unless the same one (kind and evidence) is already raised: a server that
/// keeps showing a bad log would otherwise add one on every pass.
fn raise_alarm(
    tx: &rusqlite::Transaction<'_>,
    kind: &str,
    detail: &str,
    evidence: &str,
    now: i64,
) -> Result<Option<SyncAlarm>> {
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sync_alarm WHERE kind = ? AND evidence = ?)",
        [kind, evidence],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO sync_alarm (kind, detail, evidence, raised_at_ms) VALUES (?, ?, ?, ?)",
        rusqlite::params![kind, detail, evidence, now],
    )?;
    tracing::warn!(kind, "sync alarm raised for the owner");
    Ok(Some(SyncAlarm {
        id: tx.last_insert_rowid(),
        kind: kind.to_owned(),
        detail: detail.to_owned(),
        raised_at_ms: now,
    }))
}

/// What checking a checkpoint concluded.
enum Verdict {
    /// It extends what was trusted and holds this terminal's newest pushed record.
    Good {
        trusted: Trusted,
        note: String,
        included_seq: u64,
    },
    /// The server showed something it must not: raise this alarm, keep the old checkpoint.
    Alarm {
        kind: &'static str,
        detail: String,
        evidence: String,
    },
}

impl Terminal {
    fn identity(&self) -> DeviceIdentity<'_> {
        DeviceIdentity {
            tenant_id: self.tenant_id(),
            device_id: self.device_id(),
            key: self.engine().device_key(),
        }
    }

    /// Whether this shop is linked to a cloud tenant, and where.
    pub fn cloud_link(&self) -> Result<Option<CloudLink>> {
        self.engine().read(load_link)
    }

    /// "Sync now": wakes the sync loop, which runs a pass at once (even while backing off).
    pub fn sync_now(&self, token: &SessionToken) -> Result<()> {
        self.engine().check(token, Op::SyncNow)?;
        self.sync_signal().ask();
        Ok(())
    }

    /// Alarms about the cloud's log, newest first (the owner's sync screen).
    pub fn sync_alarms(&self, token: &SessionToken) -> Result<Vec<SyncAlarm>> {
        self.engine().query(token, records::SyncAlarms)
    }

    /// The cloud's alerts, newest first, as the last pull brought them.
    pub fn cloud_alerts(&self, token: &SessionToken) -> Result<Vec<CloudAlert>> {
        self.engine().query(token, records::CloudAlerts)
    }

    /// The owner resolves a cloud alert with a note saying what was done: an audited write,
    /// shared through the cloud, so every counter shows it resolved.
    pub fn resolve_cloud_alert(
        &self,
        token: &SessionToken,
        alert_id: &str,
        note: &str,
    ) -> Result<()> {
        self.engine()
            .execute(token, records::ResolveCloudAlert::new(alert_id, note)?)
    }

    /// Links this standalone shop to a new tenant on the server at `request.server_url`: the
    /// shop keeps its tenant id, keys, seats and this terminal's identity, the signed-in owner
    /// becomes the cloud's owner, and the next sync pushes the whole audit chain from 1.
    pub fn link_cloud(&self, token: &SessionToken, request: &LinkRequest) -> Result<LinkOutcome> {
        crate::secret_hash::check_passphrase(request.owner_passphrase.expose())?;
        let shop = self.engine().query(token, records::GetLinkFacts)?;
        let client = CloudClient::new(&request.server_url, &request.ca_pem)?;
        let body = self.link_body(shop, request);
        // The store is not held while the server is asked: the till keeps billing.
        let created: api::CreateTenantResponse = client.post_public(api::PATH_TENANTS, &body)?;
        let enrolled = created
            .enrolled
            .ok_or_else(|| protocol("a link answered without this terminal's enrollment"))?;
        if created.tenant_id != self.tenant_id()
            || enrolled.tenant_id != self.tenant_id()
            || enrolled.device_id != self.device_id()
        {
            return Err(protocol("a link answered for another tenant or terminal"));
        }
        NoteVerifier::from_vkey(&enrolled.log_verifier_key)
            .map_err(|e| protocol(format!("the log's verifier key is unusable ({e})")))?;
        let link = CloudLink {
            server_url: cloud_client::server_url(&request.server_url)?,
            ca_pem: request.ca_pem.trim().to_owned() + "\n",
            log_origin: enrolled.log_origin,
            log_vkey: enrolled.log_verifier_key,
            linked_at_ms: self.now_ms(),
        };
        self.engine().execute(token, records::RecordLink(link))?;
        tracing::info!(tenant = %self.tenant_id(), "linked to the cloud tenant");
        Ok(LinkOutcome {
            tenant_id: created.tenant_id,
            owner_totp_uri: created.owner_totp_uri,
        })
    }

    /// What linking sends: the shop's seats (its owner first), its keys, this terminal's key
    /// with its proof of possession.
    fn link_body(
        &self,
        shop: records::LinkFacts,
        request: &LinkRequest,
    ) -> api::CreateTenantRequest {
        let records::LinkFacts {
            owner_seat,
            owner_name,
            seats,
        } = shop;
        let env = self.engine().env();
        let (data_keys, blind) = env.cipher.raw_keys();
        let mut keys: Vec<TenantKey> = data_keys
            .map(|(version, key)| TenantKey {
                purpose: api::KeyPurpose::Data,
                version,
                key: BASE64.encode(key.expose()),
            })
            .collect();
        keys.push(TenantKey {
            purpose: api::KeyPurpose::BlindIndex,
            version: 1,
            key: BASE64.encode(blind.expose()),
        });
        let public = env.device_public.to_bytes();
        let proof = {
            use ed25519_dalek::Signer as _;
            let message = api::link_proof_message(self.tenant_id(), self.device_id(), &public);
            self.engine().device_key().sign(&message)
        };
        api::CreateTenantRequest {
            shop_name: self.engine().shop_name(),
            owner_name,
            owner_passphrase: request.owner_passphrase.expose().to_owned(),
            link: Some(LinkShop {
                tenant_id: self.tenant_id(),
                keys,
                device_id: self.device_id(),
                device_public_key: BASE64.encode(public),
                series_code: env.series_code.clone(),
                proof: BASE64.encode(proof.to_bytes()),
                seats,
                owner_seat_id: owner_seat,
            }),
        }
    }

    /// One sync with the cloud: push what the server lacks, then check its log. The sync loop
    /// ([`worker::SyncWorker`]) calls this; so does "sync now". A terminal the owner marked for
    /// wipe erases its keys from `keychain` here and answers [`Error::TerminalWiped`].
    pub fn sync_pass(&self, keychain: &dyn SecretStore) -> Result<SyncReport> {
        let link = self.engine().read(|conn| {
            let state = load_state(conn)?;
            if state.standing == Standing::Revoked.as_str() {
                return Err(Error::CloudRefused {
                    code: ErrorCode::DeviceRevoked,
                    message: "this terminal was removed from the shop's cloud".into(),
                });
            }
            load_link(conn)?.ok_or(Error::NotLinked)
        })?;
        let result = self.sync_with(&link, keychain);
        let now = self.now_ms();
        let standing = match &result {
            Err(Error::CloudRefused {
                code: ErrorCode::DeviceRevoked,
                ..
            }) => Some(Standing::Revoked),
            Err(Error::CloudRefused {
                code: ErrorCode::DeviceQuarantined | ErrorCode::Equivocation,
                ..
            }) => Some(Standing::Quarantined),
            Ok(_) => Some(Standing::Active),
            _ => None,
        };
        if matches!(result, Err(Error::TerminalWiped)) {
            return result;
        }
        let error_text = result.as_ref().err().map(|e| e.to_string());
        self.engine().bookkeeping(|tx| {
            tx.execute(
                "UPDATE sync_state SET last_attempt_ms = ?1,
                        last_success_ms = CASE WHEN ?2 IS NULL THEN ?1 ELSE last_success_ms END,
                        last_error = ?2,
                        standing = coalesce(?3, standing)
                 WHERE id = 1",
                rusqlite::params![now, error_text, standing.map(Standing::as_str)],
            )?;
            Ok(())
        })?;
        result
    }

    /// The push body of this terminal's records after `after` (a batch bounded by count and
    /// bytes) and the last sequence number in it; `None` when there are none.
    fn push_batch_after(&self, after: u64) -> Result<Option<(u64, Vec<u8>)>> {
        let batch = self
            .engine()
            .read(|conn| own_records(conn, after, api::MAX_AUDIT_BATCH))?;
        let Some(last) = batch.last() else {
            return Ok(None);
        };
        let last_seq = last.seq;
        let push = api::AuditPush {
            records: batch
                .into_iter()
                .map(|r| api::PushedRecord {
                    seq: r.seq,
                    record: BASE64.encode(&r.record),
                    signature: BASE64.encode(&r.signature),
                    secrets: r.secrets,
                })
                .collect(),
        };
        let body = serde_json::to_vec(&push)
            .map_err(|_| Error::Internal("encoding a push to the cloud"))?;
        Ok(Some((last_seq, body)))
    }

    fn sync_with(&self, link: &CloudLink, keychain: &dyn SecretStore) -> Result<SyncReport> {
        let client = CloudClient::new(&link.server_url, &link.ca_pem)?;
        let who = self.identity();
        let status: Result<api::DeviceStatus> = client.signed(
            &who,
            self.now_ms(),
            "GET",
            api::PATH_DEVICE_STATUS,
            Vec::new(),
        );
        let status = match status {
            Err(Error::CloudRefused {
                code: ErrorCode::WipeRequested,
                ..
            }) => {
                self.wipe(keychain)?;
                return Err(Error::TerminalWiped);
            }
            other => other?,
        };
        if status.device_id != self.device_id() {
            return Err(protocol("a status for another terminal"));
        }
        let server_seq =
            u64::try_from(status.audit_seq).map_err(|_| protocol("a negative sequence number"))?;
        let mut report = SyncReport {
            server_seq,
            ..SyncReport::default()
        };
        let now = self.now_ms();
        let local_head = self.engine().bookkeeping(|tx| {
            let before = load_state(tx)?.server_seq.min(server_seq);
            let head: i64 =
                tx.query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
                    r.get(0)
                })?;
            tx.execute(
                "UPDATE sync_state SET server_seq = ? WHERE id = 1",
                [server_seq as i64],
            )?;
            mark_sent(tx, before, server_seq, now)?;
            Ok(head as u64)
        })?;
        if server_seq > local_head {
            // The server holds records of this terminal that this database does not: it was
            // restored from an older copy, or its newest records were cut off.
            let detail = format!(
                "the cloud holds this terminal's audit records up to {server_seq}, but this \
                 database ends at {local_head}: it was restored from an older copy or its newest \
                 records were removed"
            );
            let evidence = format!("server_seq={server_seq} local_head={local_head}");
            let now = self.now_ms();
            if let Some(a) = self
                .engine()
                .bookkeeping(|tx| raise_alarm(tx, "record_missing", &detail, &evidence, now))?
            {
                report.alarms.push(a);
            }
            return Err(Error::HistoryBehindCloud {
                local_head,
                server_seq,
            });
        }

        // Push in batches until the server holds everything. The next batch is read and encoded
        // while the current one is on its way and being checked (the store is locked only for
        // the read), so the terminal's share of the work overlaps the server's.
        let mut latest_note: Option<String> = None;
        let mut next = self.push_batch_after(report.server_seq)?;
        while let Some((last_seq, body)) = next.take() {
            let (answer, following) = std::thread::scope(|scope| {
                let sending = scope.spawn(|| {
                    client.signed::<api::AuditPushResponse>(
                        &who,
                        self.now_ms(),
                        "POST",
                        api::PATH_AUDIT,
                        body,
                    )
                });
                let following = self.push_batch_after(last_seq);
                let answer = sending
                    .join()
                    .unwrap_or(Err(Error::Internal("the upload thread failed")));
                (answer, following)
            });
            let answer = answer?;
            if answer.head_seq < last_seq {
                return Err(protocol(format!(
                    "the server acknowledged up to {} after being sent up to {last_seq}",
                    answer.head_seq
                )));
            }
            report.pushed += answer.appended;
            let now = self.now_ms();
            let before = report.server_seq;
            self.engine().bookkeeping(|tx| {
                tx.execute(
                    "UPDATE sync_state SET server_seq = ? WHERE id = 1",
                    [answer.head_seq as i64],
                )?;
                mark_sent(tx, before, answer.head_seq, now)
            })?;
            report.server_seq = answer.head_seq;
            latest_note = Some(answer.checkpoint);
            next = if answer.head_seq == last_seq {
                following?
            } else {
                // The server holds more than was sent (records an earlier, unanswered push
                // delivered): go on from its head instead.
                self.push_batch_after(answer.head_seq)?
            };
        }

        let note = match latest_note {
            Some(n) => n,
            None => {
                let c: api::CheckpointResponse = client.signed(
                    &who,
                    self.now_ms(),
                    "GET",
                    api::PATH_LOG_CHECKPOINT,
                    Vec::new(),
                )?;
                c.checkpoint
            }
        };
        let verdict = self.check_log(&client, link, &note, report.server_seq)?;
        let now = self.now_ms();
        match verdict {
            Verdict::Good {
                trusted,
                note,
                included_seq,
            } => {
                report.checkpoint_size = trusted.size;
                self.engine().bookkeeping(|tx| {
                    tx.execute(
                        "UPDATE sync_state SET checkpoint_size = ?, checkpoint_root = ?,
                                checkpoint_note = ?, included_seq = max(included_seq, ?)
                         WHERE id = 1",
                        rusqlite::params![
                            trusted.size as i64,
                            trusted.root.as_slice(),
                            note,
                            included_seq as i64
                        ],
                    )?;
                    Ok(())
                })?;
                // Only from a server whose log checked out: its shared state comes next.
                let (pulled, alarm) = self.pull(&client, &who, report.server_seq)?;
                report.pulled = pulled;
                report.alarms.extend(alarm);
                Ok(report)
            }
            Verdict::Alarm {
                kind,
                detail,
                evidence,
            } => {
                if let Some(a) = self
                    .engine()
                    .bookkeeping(|tx| raise_alarm(tx, kind, &detail, &evidence, now))?
                {
                    report.alarms.push(a);
                }
                Err(Error::CloudLogAlarm { detail })
            }
        }
    }

    /// Stages the change feed from where the last pull stopped until it is complete, then
    /// applies it in one transaction (see `pull`); rows stamped from the future raise an alarm.
    fn pull(
        &self,
        client: &CloudClient,
        who: &DeviceIdentity<'_>,
        server_seq: u64,
    ) -> Result<(pull::Applied, Option<SyncAlarm>)> {
        let (mut staged, cursor): (i64, i64) = self.engine().read(|conn| {
            Ok(conn.query_row(
                "SELECT pull_staged, pull_cursor FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })?;
        loop {
            let path = format!("{}?after={staged}", api::PATH_SYNC_CHANGES);
            let page: api::ChangesResponse =
                client.signed(who, self.now_ms(), "GET", &path, Vec::new())?;
            self.engine()
                .bookkeeping(|tx| pull::stage(tx, staged, &page))?;
            staged = page.next;
            if page.complete {
                break;
            }
        }
        if staged == cursor {
            return Ok((pull::Applied::default(), None));
        }
        let now = self.now_ms();
        let (applied, future) = self.engine().apply_pulled(|tx| {
            // Read in the apply's transaction: a sale made since the push is kept as it is.
            let unsynced = pull::unsynced_keys(tx, server_seq)?;
            let (applied, future) = pull::apply(tx, &unsynced, now)?;
            tx.execute("UPDATE sync_state SET last_pull_ms = ? WHERE id = 1", [now])?;
            let wrote = applied.written > 0;
            Ok(((applied, future), wrote))
        })?;
        // The alarm goes through the bookkeeping gate, which alone writes `sync_alarm` (applying
        // may not). A crash between the two leaves the rows untaken and the alarm unraised.
        let alarm = match future.first() {
            None => None,
            Some(first) => {
                let detail = format!(
                    "the cloud served {} row{} stamped from the future (more than {} minutes \
                     ahead of this terminal's clock), which were not taken: the cloud refuses \
                     such stamps, so its data may have been altered; first of them: {first}",
                    applied.from_the_future,
                    if applied.from_the_future == 1 {
                        ""
                    } else {
                        "s"
                    },
                    galla_proto::hlc::MAX_DRIFT_MS / 60_000,
                );
                let evidence = future.join(" ");
                self.engine()
                    .bookkeeping(|tx| raise_alarm(tx, "future_stamp", &detail, &evidence, now))?
            }
        };
        tracing::info!(
            written = applied.written,
            kept_local = applied.kept_local,
            skipped = applied.skipped,
            from_the_future = applied.from_the_future,
            "applied the cloud's shared state"
        );
        Ok((applied, alarm))
    }

    /// Checks `note` against the pinned key, the last trusted checkpoint and this terminal's
    /// newest pushed record.
    fn check_log(
        &self,
        client: &CloudClient,
        link: &CloudLink,
        note: &str,
        server_seq: u64,
    ) -> Result<Verdict> {
        let verifier =
            NoteVerifier::from_vkey(&link.log_vkey).map_err(|_| Error::DatabaseDamaged {
                detail: "the pinned log key of the cloud link is unreadable".into(),
            })?;
        let checkpoint: Checkpoint = match verifier.verify_checkpoint(note, &link.log_origin) {
            Ok(c) => c,
            Err(e) => {
                return Ok(Verdict::Alarm {
                    kind: "bad_checkpoint",
                    detail: format!(
                        "the cloud showed a checkpoint its log key did not sign ({e}); its log \
                         cannot be trusted until this is explained"
                    ),
                    evidence: note.to_owned(),
                });
            }
        };
        let state = self.engine().read(load_state)?;
        let old_note = state.checkpoint_note.clone().unwrap_or_default();
        let rewritten = |why: String| Verdict::Alarm {
            kind: "log_rewritten",
            detail: format!(
                "the cloud's audit log does not extend the one it showed before ({why}): \
                 records were removed or changed there"
            ),
            evidence: format!("{old_note}\n---\n{note}"),
        };
        let who = self.identity();
        if let (Some(old_root), true) = (state.checkpoint_root, state.checkpoint_size > 0) {
            let old_size = state.checkpoint_size;
            if checkpoint.size < old_size {
                return Ok(rewritten(format!(
                    "it shrank from {old_size} to {} records",
                    checkpoint.size
                )));
            }
            if checkpoint.size == old_size {
                if checkpoint.root != old_root {
                    return Ok(rewritten(format!(
                        "two different logs of {old_size} records"
                    )));
                }
            } else {
                let path = format!(
                    "{}?from={old_size}&to={}",
                    api::PATH_LOG_CONSISTENCY,
                    checkpoint.size
                );
                let proof: api::ConsistencyResponse =
                    client.signed(&who, self.now_ms(), "GET", &path, Vec::new())?;
                let hashes = proof
                    .proof
                    .iter()
                    .map(|h| hash32(h))
                    .collect::<Result<Vec<_>>>()?;
                if let Err(e) = merkle::verify_consistency(
                    old_size,
                    checkpoint.size,
                    &hashes,
                    &old_root,
                    &checkpoint.root,
                ) {
                    return Ok(rewritten(format!("the consistency proof fails: {e}")));
                }
            }
        }

        // This terminal's newest pushed record must be in the log; its hash links vouch for
        // every record before it.
        let mut included_seq = state.included_seq;
        if server_seq > state.included_seq && server_seq > 0 {
            let record: Vec<u8> = self.engine().read(|conn| {
                Ok(conn.query_row(
                    "SELECT record FROM audit_log WHERE seq = ?",
                    [server_seq as i64],
                    |r| r.get(0),
                )?)
            })?;
            let path = format!(
                "{}?seq={server_seq}&tree_size={}",
                api::PATH_LOG_INCLUSION,
                checkpoint.size
            );
            let missing = |why: String| Verdict::Alarm {
                kind: "record_missing",
                detail: format!(
                    "the cloud's log does not hold this terminal's record {server_seq} ({why})"
                ),
                evidence: note.to_owned(),
            };
            let proof: api::InclusionResponse =
                match client.signed(&who, self.now_ms(), "GET", &path, Vec::new()) {
                    Ok(p) => p,
                    Err(Error::CloudRefused {
                        code: ErrorCode::NotFound,
                        ..
                    }) => return Ok(missing("the server has no proof for it".into())),
                    Err(e) => return Err(e),
                };
            let hashes = proof
                .proof
                .iter()
                .map(|h| hash32(h))
                .collect::<Result<Vec<_>>>()?;
            if let Err(e) = merkle::verify_inclusion(
                proof.leaf_index,
                checkpoint.size,
                &merkle::leaf_hash(&record),
                &hashes,
                &checkpoint.root,
            ) {
                return Ok(missing(format!("the inclusion proof fails: {e}")));
            }
            included_seq = server_seq;
        }
        Ok(Verdict::Good {
            trusted: Trusted {
                size: checkpoint.size,
                root: checkpoint.root,
            },
            note: note.to_owned(),
            included_seq,
        })
    }

    /// The owner marked this terminal for wipe: its keys leave the keychain and its recovery
    /// kit the folder, so the database can no longer be opened, and the open terminal stops
    /// serving.
    fn wipe(&self, keychain: &dyn SecretStore) -> Result<()> {
        self.engine().mark_wiped();
        TerminalKeys::erase(keychain, self.install_id())?;
        // The kit would put the keys back: it goes too.
        crate::recovery::erase_kit(self.dir())?;
        tracing::warn!(device = %self.device_id(), "wiped on the owner's instruction: keys erased");
        Ok(())
    }
}

/// Marks the outbox entries after `from` up to `to` sent (the server holds them). Entries up
/// to `from` were marked by an earlier pass, so the update touches only the new range.
fn mark_sent(tx: &rusqlite::Transaction<'_>, from: u64, to: u64, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET sent_at_ms = ? WHERE seq > ? AND seq <= ? AND sent_at_ms IS NULL",
        rusqlite::params![now, from as i64, to as i64],
    )?;
    Ok(())
}

/// Input checks that do not need the network, for the first-run and link screens.
pub fn check_server(server_url: &str, ca_pem: &str) -> Result<(), InputError> {
    cloud_client::server_url(server_url)?;
    cloud_client::ca_certificates(ca_pem)?;
    Ok(())
}
