//! Enrollment: the owner issues a one-time code that lives fifteen minutes; a terminal redeems
//! it with its device public key (and a signature proving it holds the private half) and gets
//! its device id, its invoice series, the tenant's keys, the seat roster and the log's verifier
//! key. Also `GET /v1/device/status`, a signed request a device makes on every contact.
//!
//! Codes are ten Crockford base32 characters (50 bits), shown as `XXXXX-XXXXX`; the server keeps
//! only an HMAC of each under a KMS key the database never holds. Guessing is bounded by the sensitive-route rate limit per address and the
//! fifteen-minute life.
//!
//! A code is one terminal's: once redeemed, it answers only the key that redeemed it, and only
//! while that device has sent nothing (its first pull failed and it is trying again). So a
//! code's routing row lives its fifteen minutes rather than going at the first redemption (the
//! V2 schema's comment predates this); to anyone else a redeemed code reads as a wrong one.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use galla_proto::api::{
    self as wire, DeviceStatus, EnrollRequest, EnrollResponse, EnrollmentCode, KeyPurpose,
    SeatSummary, TenantKey,
};
use tokio_postgres::Transaction;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::device_auth::SignedRequest;
use super::{ApiError, ApiResult, JsonBody, PeerIp, decode_fixed};
use crate::api::tenants::key_aad;
use crate::server::AppState;

pub const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;
pub const CODE_CHARS: usize = wire::CODE_CHARS;
const ALPHABET: &[u8] = wire::CODE_ALPHABET.as_bytes();
/// Live codes a tenant may hold at once.
const MAX_LIVE_CODES: i64 = 20;

/// Codes are kept as a keyed hash: 50 bits would not survive an offline search of a dump.
fn code_hash(state: &AppState, normalised: &str) -> crate::Result<[u8; 32]> {
    state
        .kms
        .mac(b"galla.enroll-code.v1", normalised.as_bytes())
}

fn new_code() -> crate::Result<String> {
    let random = crate::random::bytes::<CODE_CHARS>()?;
    Ok(random
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect())
}

/// Issues a code for `tenant`, with `series` or the next free `T<n>`.
pub async fn issue(
    state: &AppState,
    tenant: Uuid,
    series: Option<String>,
) -> ApiResult<EnrollmentCode> {
    let code = new_code()?;
    let hash = code_hash(state, &code)?;
    let now = state.clock.now_ms();
    let expires_at_ms = now + CODE_LIFETIME_MS;
    let series_code = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<String> {
            // Serialise issuing per tenant so two codes never get the same series.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('enroll/' || $1::text, 0))",
                &[&tenant.to_string()],
            )
            .await?;
            let taken: Vec<String> = tx
                .query(
                    "SELECT series_code FROM device WHERE tenant_id = $1
                     UNION SELECT series_code FROM enrollment_code
                     WHERE tenant_id = $1 AND redeemed_by IS NULL AND expires_at_ms > $2",
                    &[&tenant, &now],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let live: i64 = tx
                .query_one(
                    "SELECT count(*) FROM enrollment_code
                     WHERE tenant_id = $1 AND redeemed_by IS NULL AND expires_at_ms > $2",
                    &[&tenant, &now],
                )
                .await?
                .get(0);
            if live >= MAX_LIVE_CODES {
                return Err(ApiError::conflict(format!(
                    "{MAX_LIVE_CODES} enrollment codes are waiting to be used; use them or let them expire"
                )));
            }
            let series = match series {
                Some(s) if taken.contains(&s) => {
                    return Err(ApiError::conflict(format!(
                        "series {s} is already in use by another terminal; pick another"
                    )));
                }
                Some(s) => s,
                None => (1..)
                    .map(|n| format!("T{n}"))
                    .find(|s| !taken.contains(s))
                    .unwrap_or_else(|| "T1".into()),
            };
            tx.execute(
                "INSERT INTO enrollment_code (tenant_id, code_hash, series_code, expires_at_ms)
                 VALUES ($1, $2, $3, $4)",
                &[&tenant, &&hash[..], &series, &expires_at_ms],
            )
            .await?;
            tx.execute(
                "DELETE FROM enrollment_route WHERE expires_at_ms <= $1",
                &[&now],
            )
            .await?;
            tx.execute(
                "INSERT INTO enrollment_route (code_hash, tenant_id, expires_at_ms) VALUES ($1, $2, $3)",
                &[&&hash[..], &tenant, &expires_at_ms],
            )
            .await?;
            Ok(series)
        })
        .await?;
    Ok(EnrollmentCode {
        code: format!("{}-{}", &code[..5], &code[5..]),
        series_code,
        expires_at_ms,
    })
}

/// A device to enroll, checked.
pub struct NewDevice {
    pub device_id: Uuid,
    pub public_key: [u8; 32],
    pub series_code: String,
}

/// Inserts the device and gathers what it receives: ids, series, keys, roster, log key.
pub async fn enroll_device(
    state: &AppState,
    tx: &Transaction<'_>,
    tenant: Uuid,
    device: &NewDevice,
) -> ApiResult<EnrollResponse> {
    let device_id = device.device_id;
    let inserted = tx
        .execute(
            "INSERT INTO device (tenant_id, device_id, public_key, series_code) VALUES ($1, $2, $3, $4)",
            &[&tenant, &device_id, &&device.public_key[..], &device.series_code],
        )
        .await;
    if let Err(e) = inserted {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return Err(ApiError::conflict(
                "this device key or series is already enrolled in this shop",
            ));
        }
        return Err(e.into());
    }
    tracing::info!(%tenant, %device_id, series = %device.series_code, "device enrolled");
    enrollment(state, tx, tenant, device_id, device.series_code.clone()).await
}

/// What an enrolled device is given: its id and series, the tenant's keys, the roster and the
/// log's identity.
async fn enrollment(
    state: &AppState,
    tx: &Transaction<'_>,
    tenant: Uuid,
    device_id: Uuid,
    series_code: String,
) -> ApiResult<EnrollResponse> {
    let mut keys = vec![];
    for row in tx
        .query(
            "SELECT purpose, version, wrapped FROM tenant_key WHERE tenant_id = $1 ORDER BY purpose, version",
            &[&tenant],
        )
        .await?
    {
        let purpose = match row.get::<_, &str>(0) {
            "data" => KeyPurpose::Data,
            _ => KeyPurpose::BlindIndex,
        };
        let version = row.get::<_, i32>(1) as u32;
        let key = state
            .kms
            .unwrap(&key_aad(tenant, purpose, version), row.get(2))?;
        keys.push(TenantKey {
            purpose,
            version,
            key: base64::engine::general_purpose::STANDARD.encode(&*key),
        });
    }
    let seats = tx
        .query(
            "SELECT seat_id, display_name, roles, revoked FROM seat WHERE tenant_id = $1 ORDER BY seat_id",
            &[&tenant],
        )
        .await?
        .iter()
        .map(|r| SeatSummary {
            seat_id: r.get(0),
            display_name: r.get(1),
            roles: r.get(2),
            revoked: r.get(3),
        })
        .collect();
    Ok(EnrollResponse {
        tenant_id: tenant,
        device_id,
        series_code,
        keys,
        seats,
        log_origin: state.log.origin(tenant),
        log_verifier_key: state.log.verifier_key(),
        server_time_ms: state.clock.now_ms(),
    })
}

fn invalid_code() -> ApiError {
    ApiError::unauthenticated(
        "this enrollment code is not valid, was used already or has expired; ask the owner for a new one",
    )
}

/// `POST /v1/enroll`.
pub async fn redeem(
    State(state): State<Arc<AppState>>,
    PeerIp(peer): PeerIp,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> ApiResult<(StatusCode, Json<EnrollResponse>)> {
    if let Some(ip) = peer {
        state.limits.check_sensitive(ip)?;
    }
    let code = wire::normalise_code(&request.code);
    if code.len() != CODE_CHARS || !code.bytes().all(|b| ALPHABET.contains(&b)) {
        return Err(ApiError::bad_request(format!(
            "an enrollment code is {CODE_CHARS} letters and digits, like 7KQ2M-XD9TF"
        )));
    }
    let public = decode_fixed::<32>(&request.device_public_key, "device_public_key")?;
    let proof = decode_fixed::<64>(&request.proof, "proof")?;
    VerifyingKey::from_bytes(&public)
        .map_err(|_| ApiError::bad_request("device_public_key is not an Ed25519 key"))?
        .verify_strict(
            &wire::enroll_proof_message(&code, &public),
            &Signature::from_bytes(&proof),
        )
        .map_err(|_| ApiError::unauthenticated("proof does not verify with device_public_key"))?;
    let hash = code_hash(&state, &code)?;
    let now = state.clock.now_ms();
    let tenant = state
        .db
        .untenanted_tx(async |tx| -> ApiResult<Option<Uuid>> {
            Ok(tx
                .query_opt(
                    "SELECT tenant_id FROM enrollment_route WHERE code_hash = $1 AND expires_at_ms > $2",
                    &[&&hash[..], &now],
                )
                .await?
                .map(|r| r.get(0)))
        })
        .await?
        .ok_or_else(invalid_code)?;
    let response = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<EnrollResponse> {
            let Some(row) = tx
                .query_opt(
                    "SELECT series_code, redeemed_by FROM enrollment_code
                     WHERE tenant_id = $1 AND code_hash = $2 AND expires_at_ms > $3
                     FOR UPDATE",
                    &[&tenant, &&hash[..], &now],
                )
                .await?
            else {
                return Err(invalid_code());
            };
            if let Some(redeemed_by) = row.get::<_, Option<Uuid>>(1) {
                // The same terminal asking again, its first pull having failed: it gets its
                // enrollment again. Anyone else gets the answer a wrong code gets.
                return again(&state, tx, tenant, redeemed_by, &public).await;
            }
            let device = NewDevice {
                device_id: Uuid::now_v7(),
                public_key: public,
                series_code: row.get(0),
            };
            let response = enroll_device(&state, tx, tenant, &device).await?;
            tx.execute(
                "UPDATE enrollment_code SET redeemed_by = $3 WHERE tenant_id = $1 AND code_hash = $2",
                &[&tenant, &&hash[..], &response.device_id],
            )
            .await?;
            Ok(response)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(response)))
}

/// A code redeemed already, redeemed again: answered only for the key that redeemed it, while
/// the code is live (its fifteen minutes) and that device has sent nothing and is neither
/// revoked nor marked for wipe. A terminal whose first pull failed (the network dropped, the
/// owner's terminal had not synced yet) then finishes joining with the same code, instead of
/// leaving a half-enrolled device behind and the owner issuing another.
async fn again(
    state: &AppState,
    tx: &Transaction<'_>,
    tenant: Uuid,
    redeemed_by: Uuid,
    public_key: &[u8; 32],
) -> ApiResult<EnrollResponse> {
    let same = tx
        .query_opt(
            "SELECT series_code FROM device
             WHERE tenant_id = $1 AND device_id = $2 AND public_key = $3 AND audit_seq = 0
               AND revoked_at IS NULL AND wipe_requested_at_ms IS NULL
               AND quarantined_at_ms IS NULL",
            &[&tenant, &redeemed_by, &&public_key[..]],
        )
        .await?;
    let Some(row) = same else {
        return Err(invalid_code());
    };
    tracing::info!(%tenant, device = %redeemed_by, "enrollment answered again for its own device");
    enrollment(state, tx, tenant, redeemed_by, row.get(0)).await
}

/// `GET /v1/device/status`: a signed request; the device learns it is revoked or must wipe
/// from the refusal (`device_auth`), otherwise its state as the server sees it.
pub async fn status(
    State(state): State<Arc<AppState>>,
    signed: SignedRequest,
) -> ApiResult<Json<DeviceStatus>> {
    let device = signed.device;
    Ok(Json(DeviceStatus {
        device_id: device.device_id,
        series_code: device.series_code,
        audit_seq: device.audit_seq,
        server_time_ms: state.clock.now_ms(),
    }))
}
