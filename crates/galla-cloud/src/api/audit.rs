//! `POST /v1/audit`: a device pushes the next records of its signed audit chain.
//!
//! Each record must continue the device's chain as the server holds it (`seq = last + 1`,
//! `prev_hash = last hash`, signed by the enrolled key, of this tenant and device), checked with
//! the same `ChainVerifier` the terminal uses. A record already accepted and sent again with the
//! same bytes is acknowledged (a retry after a lost response is harmless). The same sequence
//! number with different bytes that the device signed as that number, or a signed record that
//! follows something other than the accepted head, is equivocation: the device signed two
//! histories. Nothing of the batch is written; in the same transaction the device is quarantined
//! (its pushes are refused until the owner deals with it) and the owner gets an alert that keeps
//! the second record as evidence.
//!
//! A batch with a record stamped from the future (its time, or a merged row's HLC stamp, more
//! than `MAX_DRIFT_MS` ahead of the cloud's clock) is refused whole with `clock_skew`, and the
//! owner alerted once per record: merged, such a stamp would win every later edit and stop
//! every till's clock (issue 21).
//!
//! Accepted records go to `audit_record` and to the tenant's Merkle log, and their effect to
//! the shared state (`crate::shared`), in the same transaction; the response carries the new
//! signed checkpoint.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::VerifyingKey;
use galla_proto::api::{AuditPush, AuditPushResponse, ErrorCode, MAX_AUDIT_BATCH};
use galla_proto::audit::{
    AuditRecord, ChainBreak, ChainVerifier, MAX_IMAGE_BYTES, verify_signature,
};
use galla_proto::hlc::MAX_DRIFT_MS;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::device_auth::{AuthedDevice, SignedRequest};
use super::{ApiError, ApiResult, parse_json};
use crate::server::AppState;
use crate::{shared, tlog};

struct Incoming {
    seq: u64,
    encoded: Vec<u8>,
    signature: [u8; 64],
    secrets: Option<serde_json::Map<String, serde_json::Value>>,
}

enum Pushed {
    Accepted(AuditPushResponse),
    /// Committed as a quarantine and an alert, answered as a refusal.
    Equivocation,
    /// Committed as an alert only, answered as a refusal (see `shared::FromTheFuture`).
    FromTheFuture(shared::FromTheFuture),
}

fn chain_broken(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, ErrorCode::ChainBroken, message)
}

fn decode(push: AuditPush) -> ApiResult<Vec<Incoming>> {
    if push.records.is_empty() || push.records.len() > MAX_AUDIT_BATCH {
        return Err(ApiError::bad_request(format!(
            "push 1 to {MAX_AUDIT_BATCH} audit records at a time"
        )));
    }
    let mut out: Vec<Incoming> = Vec::with_capacity(push.records.len());
    for (i, r) in push.records.into_iter().enumerate() {
        if let Some(prev) = out.last()
            && prev.seq.checked_add(1) != Some(r.seq)
        {
            return Err(ApiError::bad_request(format!(
                "records[{i}] has seq {} after {}; send consecutive records in order",
                r.seq, prev.seq
            )));
        }
        if r.record.len() > (MAX_IMAGE_BYTES * 2 + 4096) * 4 / 3 + 4 {
            return Err(ApiError::bad_request(format!("records[{i}] is too large")));
        }
        let encoded = BASE64
            .decode(&r.record)
            .map_err(|_| ApiError::bad_request(format!("records[{i}].record is not base64")))?;
        let signature = BASE64
            .decode(&r.signature)
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or_else(|| {
                ApiError::bad_request(format!("records[{i}].signature is not 64 bytes of base64"))
            })?;
        if r.seq == 0 || r.seq > i64::MAX as u64 {
            return Err(ApiError::bad_request(format!(
                "records[{i}].seq is out of range"
            )));
        }
        if r.secrets.as_ref().is_some_and(|s| s.len() > 1000) {
            return Err(ApiError::bad_request(format!(
                "records[{i}].secrets has too many rows"
            )));
        }
        out.push(Incoming {
            seq: r.seq,
            encoded,
            signature,
            secrets: r.secrets,
        });
    }
    Ok(out)
}

/// Whether each record's signature verifies under `key`, in order, computed on up to as many
/// threads as there are cores (a small batch on this one).
async fn signatures_valid(key: VerifyingKey, records: Arc<Vec<Incoming>>) -> ApiResult<Vec<bool>> {
    let check = |r: &Incoming| verify_signature(&key, &r.encoded, &r.signature);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if records.len() < 64 || threads == 1 {
        return Ok(records.iter().map(check).collect());
    }
    let chunk = records.len().div_ceil(threads);
    let mut tasks = Vec::with_capacity(threads);
    for start in (0..records.len()).step_by(chunk) {
        let records = records.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            let end = (start + chunk).min(records.len());
            records[start..end]
                .iter()
                .map(|r| verify_signature(&key, &r.encoded, &r.signature))
                .collect::<Vec<bool>>()
        }));
    }
    let mut out = Vec::with_capacity(records.len());
    for task in tasks {
        out.extend(
            task.await
                .map_err(|_| crate::Error::Integrity("a signature check did not finish"))?,
        );
    }
    Ok(out)
}

pub async fn push(
    State(state): State<Arc<AppState>>,
    signed: SignedRequest,
) -> ApiResult<Json<AuditPushResponse>> {
    let records = Arc::new(decode(parse_json::<AuditPush>(&signed.body)?)?);
    let device = signed.device;
    let (tenant, device_id) = (device.tenant_id, device.device_id);
    // Ed25519 is most of a push's CPU: the batch's signatures are checked on every core, before
    // the transaction and the tenant's lock, so the lock is held for the cheap checks only.
    let signature_valid = signatures_valid(device.public_key, records.clone()).await?;
    let now = state.clock.now_ms();
    let outcome = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<Pushed> {
            let row = tx
                .query_one(
                    "SELECT audit_seq, audit_head, quarantined_at_ms IS NOT NULL FROM device
                     WHERE tenant_id = $1 AND device_id = $2 FOR NO KEY UPDATE",
                    &[&tenant, &device_id],
                )
                .await?;
            if row.get::<_, bool>(2) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::DeviceQuarantined,
                    "this terminal is quarantined after sending conflicting audit records; the owner has been alerted",
                ));
            }
            let head_seq = row.get::<_, i64>(0) as u64;
            let head_hash: [u8; 32] = row
                .get::<_, &[u8]>(1)
                .try_into()
                .map_err(|_| crate::Error::Integrity("a stored chain head is not 32 bytes"))?;

            // Resends: compare with what was accepted, byte for byte.
            let resent: Vec<&Incoming> = records.iter().filter(|r| r.seq <= head_seq).collect();
            if let (Some(first), Some(last)) = (resent.first(), resent.last()) {
                let stored = tx
                    .query(
                        "SELECT seq, record FROM audit_record
                         WHERE tenant_id = $1 AND device_id = $2 AND seq BETWEEN $3 AND $4
                         ORDER BY seq",
                        &[&tenant, &device_id, &(first.seq as i64), &(last.seq as i64)],
                    )
                    .await?;
                if stored.len() != resent.len() {
                    return Err(crate::Error::Integrity("accepted audit records are missing").into());
                }
                for (incoming, row) in resent.iter().zip(stored.iter()) {
                    if row.get::<_, &[u8]>(1) != incoming.encoded.as_slice() {
                        if proves_a_second_version(&device, incoming) {
                            quarantine(tx, tenant, device_id, incoming, now).await?;
                            return Ok(Pushed::Equivocation);
                        }
                        return Err(chain_broken(format!(
                            "record {} differs from the one accepted, and is not a record {} \
                             this terminal signed",
                            incoming.seq, incoming.seq
                        )));
                    }
                }
            }

            let fresh: Vec<&Incoming> = records.iter().filter(|r| r.seq > head_seq).collect();
            if fresh.is_empty() {
                let (_, checkpoint) = tlog::latest_checkpoint(tx, tenant).await?;
                return Ok(Pushed::Accepted(AuditPushResponse {
                    head_seq,
                    appended: 0,
                    checkpoint,
                }));
            }
            let mut chain =
                ChainVerifier::resume(device.public_key, tenant, device_id, head_seq, head_hash);
            let mut hashes = Vec::with_capacity(fresh.len());
            let fresh_valid = records
                .iter()
                .zip(&signature_valid)
                .filter(|(r, _)| r.seq > head_seq)
                .map(|(_, valid)| *valid);
            for (r, valid) in fresh.iter().zip(fresh_valid) {
                match chain.push_verified(r.seq, &r.encoded, valid) {
                    // The verifier has just hashed the record: its new head is that hash.
                    Ok(_) => hashes.push(chain.head_hash()),
                    // A signed record that follows something other than the accepted head is a
                    // second history after it: the device rewrote what it had pushed.
                    Err(ChainBreak::BrokenLink { seq })
                        if seq == head_seq + 1 && proves_a_second_version(&device, r) =>
                    {
                        quarantine(tx, tenant, device_id, r, now).await?;
                        return Ok(Pushed::Equivocation);
                    }
                    Err(e) => {
                        return Err(chain_broken(format!("{e}; the server has {head_seq}")));
                    }
                }
            }

            // The records' effect on the shop's shared books, in this same transaction.
            let decoded: Vec<AuditRecord> = fresh
                .iter()
                .map(|r| AuditRecord::decode(&r.encoded))
                .collect::<Result<_, _>>()
                .map_err(|e| chain_broken(format!("a verified record does not decode: {e}")))?;
            let pushed: Vec<shared::Pushed<'_>> = decoded
                .iter()
                .zip(fresh.iter())
                .map(|(record, r)| shared::Pushed {
                    record,
                    secrets: r.secrets.as_ref(),
                })
                .collect();
            let mut frontier = tlog::lock(tx, tenant).await?;
            if let shared::Derived::Refused(refused) =
                shared::derive(
                    tx,
                    tenant,
                    device_id,
                    device.public_key.as_bytes(),
                    &pushed,
                    now,
                )
                .await?
            {
                let evidence = fresh
                    .iter()
                    .find(|r| r.seq == refused.seq)
                    .ok_or(crate::Error::Integrity("a refused record is not in the batch"))?;
                alert_clock_ahead(tx, tenant, device_id, &refused, evidence, now).await?;
                return Ok(Pushed::FromTheFuture(refused));
            }
            let leaves: Vec<&[u8]> = fresh.iter().map(|r| r.encoded.as_slice()).collect();
            let (first_index, nodes) = tlog::append(&mut frontier, &leaves)?;
            let seqs: Vec<i64> = fresh.iter().map(|r| r.seq as i64).collect();
            let hash_refs: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
            let signatures: Vec<&[u8]> = fresh.iter().map(|r| &r.signature[..]).collect();
            let indexes: Vec<i64> = (0..fresh.len() as i64)
                .map(|i| first_index as i64 + i)
                .collect();
            tx.execute(
                "INSERT INTO audit_record
                     (tenant_id, device_id, seq, record, hash, signature, log_index)
                 SELECT $1, $2, * FROM unnest($3::bigint[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bigint[])",
                &[&tenant, &device_id, &seqs, &leaves, &hash_refs, &signatures, &indexes],
            )
            .await?;
            let new_head = chain.verified();
            tx.execute(
                "UPDATE device SET audit_seq = $3, audit_head = $4 WHERE tenant_id = $1 AND device_id = $2",
                &[&tenant, &device_id, &(new_head as i64), &&chain.head_hash()[..]],
            )
            .await?;
            let checkpoint = tlog::commit(tx, tenant, &frontier, &nodes, &state.log, now).await?;
            Ok(Pushed::Accepted(AuditPushResponse {
                head_seq: new_head,
                appended: fresh.len() as u64,
                checkpoint,
            }))
        })
        .await?;
    match outcome {
        Pushed::Accepted(response) => Ok(Json(response)),
        Pushed::Equivocation => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Equivocation,
            "this terminal signed a second, different audit history; it is quarantined and the owner alerted",
        )),
        Pushed::FromTheFuture(r) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ClockSkew,
            format!(
                "record {} ({}) is stamped {} ahead of the cloud's clock, more than the {} \
                 minutes a clock may be off; set this terminal's date and time right. Its \
                 records wait (nothing is lost) until the cloud's time reaches them; the owner \
                 has been alerted",
                r.seq,
                r.action,
                how_long(r.ahead_ms),
                MAX_DRIFT_MS / 60_000
            ),
        )),
    }
}

/// A span of time as a person reads it.
fn how_long(ms: i64) -> String {
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    match ms {
        ms if ms >= 2 * 365 * DAY => format!("about {} years", ms / (365 * DAY)),
        ms if ms >= 2 * DAY => format!("{} days", ms / DAY),
        ms if ms >= 2 * HOUR => format!("{} hours", ms / HOUR),
        ms => format!("{} minutes", (ms + MINUTE - 1) / MINUTE),
    }
}

/// Raises the owner's alert for a record stamped from the future, once per record (the
/// record and its signature are the evidence, and the key that tells a retry from a new one:
/// the terminal retries the push, and each refusal would otherwise add an alert).
async fn alert_clock_ahead(
    tx: &Transaction<'_>,
    tenant: Uuid,
    device: Uuid,
    refused: &shared::FromTheFuture,
    record: &Incoming,
    now: i64,
) -> ApiResult<()> {
    let raised: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM owner_alert WHERE tenant_id = $1 AND device_id = $2
                            AND kind = 'clock_ahead' AND evidence = $3)",
            &[&tenant, &device, &record.encoded],
        )
        .await?
        .get(0);
    if raised {
        return Ok(());
    }
    let detail = format!(
        "record {} ({}) of this terminal is stamped {} ahead of the cloud's clock; the cloud \
         refused it, so nothing it changed reached the other counters. Either this terminal's \
         clock is wrong (set it; its records go through once the time reaches them) or its key \
         is in someone else's hands (revoke it)",
        refused.seq,
        refused.action,
        how_long(refused.ahead_ms)
    );
    tracing::warn!(%tenant, %device, seq = refused.seq, "a pushed record is stamped from the future; refused");
    let evidence = (&record.encoded[..], &record.signature[..]);
    shared::raise_alert(
        tx,
        tenant,
        "clock_ahead",
        Some(device),
        &detail,
        Some(evidence),
        now,
    )
    .await?;
    Ok(())
}

/// Whether `incoming` is proof the device signed two histories: a record this device signed,
/// for this tenant and device, under the number it was sent as. Anything less (bytes from
/// another number, a bad signature) is a bad record, not evidence.
fn proves_a_second_version(device: &AuthedDevice, incoming: &Incoming) -> bool {
    AuditRecord::decode(&incoming.encoded).is_ok_and(|r| {
        r.seq == incoming.seq && r.tenant_id == device.tenant_id && r.device_id == device.device_id
    }) && verify_signature(&device.public_key, &incoming.encoded, &incoming.signature)
}

/// Quarantines the device and raises the owner's alert with the second record as evidence, in
/// the push's transaction (nothing of the batch itself is written), so no later push of the
/// device can slip in between.
async fn quarantine(
    tx: &Transaction<'_>,
    tenant: Uuid,
    device: Uuid,
    second: &Incoming,
    now: i64,
) -> ApiResult<()> {
    tx.execute(
        "UPDATE device SET quarantined_at_ms = coalesce(quarantined_at_ms, $3)
         WHERE tenant_id = $1 AND device_id = $2",
        &[&tenant, &device, &now],
    )
    .await?;
    let detail = format!(
        "terminal signed a second, different audit record number {}; it is quarantined",
        second.seq
    );
    let evidence = (&second.encoded[..], &second.signature[..]);
    crate::shared::raise_alert(
        tx,
        tenant,
        "equivocation",
        Some(device),
        &detail,
        Some(evidence),
        now,
    )
    .await?;
    tracing::warn!(%tenant, %device, seq = second.seq, "audit equivocation: device quarantined");
    Ok(())
}
