//! Every request a device makes is signed by its enrolled key (`galla_proto::request_auth`).
//! This extractor checks, in order: the headers are well formed; the timestamp is within the
//! window (before any database work); the device exists in the claimed tenant (before the body
//! is read); the signature verifies over method, path, body hash, time and nonce; the nonce is
//! new (a replay is refused); the device is not marked for wipe (told so, and the telling
//! recorded), revoked or quarantined (on every route, reads too); the device's rate limit. Only
//! then does the handler see the body.
//!
//! An unknown device, a device of another tenant and a bad signature get the same answer, so the
//! refusal says nothing about which devices exist. Revocation and wipe are looked up on every
//! request, so they take effect at once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use ed25519_dalek::VerifyingKey;
use galla_proto::api::ErrorCode;
use galla_proto::request_auth::{MAX_CLOCK_SKEW_MS, RequestAuthError, SignedHeaders};
use uuid::Uuid;

use super::{ApiError, ApiResult, read_body};
use crate::server::AppState;

/// The device a signed request came from, as the server knows it.
#[derive(Debug, Clone)]
pub struct AuthedDevice {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub public_key: VerifyingKey,
    pub series_code: String,
    pub audit_seq: i64,
}

/// A verified request: who sent it, and its body.
pub struct SignedRequest {
    pub device: AuthedDevice,
    pub body: Bytes,
}

fn refused() -> ApiError {
    ApiError::unauthenticated(
        "the request's device signature does not verify; is this terminal enrolled in this shop?",
    )
}

impl From<RequestAuthError> for ApiError {
    fn from(e: RequestAuthError) -> ApiError {
        match e {
            RequestAuthError::ClockSkew { .. } => ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::ClockSkew,
                e.to_string(),
            ),
            RequestAuthError::BadSignature => refused(),
            other => ApiError::unauthenticated(other.to_string()),
        }
    }
}

enum Outcome {
    Ok,
    Revoked,
    Wipe,
    Quarantined,
    Replayed,
}

impl FromRequest<Arc<AppState>> for SignedRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> ApiResult<Self> {
        let method = req.method().as_str().to_owned();
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| req.uri().path().to_owned());
        let headers =
            SignedHeaders::parse(|name| req.headers().get(name).and_then(|v| v.to_str().ok()))?;
        let now = state.clock.now_ms();
        headers.check_clock(now)?;
        let tenant = headers.tenant_id;

        // The device from the headers alone, before the body: a request naming no enrolled
        // device is refused without the server taking in up to 4 MiB for it (issue 21).
        let device = state
            .db
            .tenant_tx(tenant, async |tx| -> ApiResult<Option<AuthedDevice>> {
                let Some(row) = tx
                    .query_opt(
                        "SELECT public_key, series_code, audit_seq FROM device
                         WHERE tenant_id = $1 AND device_id = $2",
                        &[&tenant, &headers.device_id],
                    )
                    .await?
                else {
                    return Ok(None);
                };
                Ok(<[u8; 32]>::try_from(row.get::<_, &[u8]>(0))
                    .ok()
                    .and_then(|k| VerifyingKey::from_bytes(&k).ok())
                    .map(|public_key| AuthedDevice {
                        tenant_id: tenant,
                        device_id: headers.device_id,
                        public_key,
                        series_code: row.get(1),
                        audit_seq: row.get(2),
                    }))
            })
            .await?;
        let Some(device) = device else {
            return Err(refused());
        };
        let body = read_body(req, state).await?;
        if headers
            .verify(&device.public_key, &method, &path, &body)
            .is_err()
        {
            return Err(refused());
        }

        let outcome = state
            .db
            .tenant_tx(tenant, async |tx| -> ApiResult<Outcome> {
                // The nonce first: a replayed request learns nothing and marks nothing.
                // Nonces older than the window can no longer pass the clock check: drop them.
                tx.execute(
                    "DELETE FROM request_nonce
                     WHERE tenant_id = $1 AND device_id = $2 AND seen_at_ms < $3",
                    &[&tenant, &headers.device_id, &(now - 2 * MAX_CLOCK_SKEW_MS)],
                )
                .await?;
                let fresh = tx
                    .execute(
                        "INSERT INTO request_nonce (tenant_id, device_id, nonce, seen_at_ms)
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        &[&tenant, &headers.device_id, &&headers.nonce[..], &now],
                    )
                    .await?;
                if fresh == 0 {
                    return Ok(Outcome::Replayed);
                }
                // Read again in this transaction: a revocation since the first look counts.
                let row = tx
                    .query_one(
                        "SELECT revoked_at IS NOT NULL, wipe_requested_at_ms IS NOT NULL,
                                quarantined_at_ms IS NOT NULL
                         FROM device WHERE tenant_id = $1 AND device_id = $2",
                        &[&tenant, &headers.device_id],
                    )
                    .await?;
                // Wipe before revocation: a stolen terminal is usually both, and must still
                // hear that it should erase its keys.
                if row.get::<_, bool>(1) {
                    tx.execute(
                        "UPDATE device SET wipe_told_at_ms = coalesce(wipe_told_at_ms, $3)
                         WHERE tenant_id = $1 AND device_id = $2",
                        &[&tenant, &headers.device_id, &now],
                    )
                    .await?;
                    return Ok(Outcome::Wipe);
                }
                if row.get::<_, bool>(0) {
                    return Ok(Outcome::Revoked);
                }
                if row.get::<_, bool>(2) {
                    return Ok(Outcome::Quarantined);
                }
                Ok(Outcome::Ok)
            })
            .await?;
        match outcome {
            Outcome::Ok => {}
            Outcome::Revoked => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::DeviceRevoked,
                    "the owner revoked this terminal; it can no longer sync",
                ));
            }
            Outcome::Wipe => {
                tracing::warn!(%tenant, device = %headers.device_id, "device told to wipe");
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::WipeRequested,
                    "the owner asked this terminal to erase its keys",
                ));
            }
            // On every route, reads too: a terminal that signed two histories gets nothing of
            // the shop's state until the owner has dealt with it.
            Outcome::Quarantined => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::DeviceQuarantined,
                    "this terminal is quarantined after sending conflicting audit records; the owner has been alerted",
                ));
            }
            Outcome::Replayed => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Replayed,
                    "this request was already received; sign each request with a fresh nonce",
                ));
            }
        }
        state.limits.check_device(device.device_id)?;
        Ok(SignedRequest { device, body })
    }
}
