//! The shop owner's side of the cloud: sign-in with passphrase and TOTP (each code once; five
//! failures from one source lock that source out for fifteen minutes, so a stranger who knows
//! the tenant id cannot lock the owner out everywhere; five wrong codes with the right
//! passphrase, from anywhere, lock the tenant's owner sign-in with a doubling back-off and alert
//! the owner, since only someone who knows the passphrase gets that far), a short-lived bearer
//! token, and with it the
//! owner's powers: issue enrollment codes, list devices, revoke one, mark one for wipe, read
//! alerts.
//!
//! Tokens are `<tenant id>.<32 random bytes, base64url>`; the server keeps only the SHA-256 of
//! the secret part, under the tenant's row-level security.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use galla_proto::api::{
    AlertKind, DeviceSummary, EnrollmentCode, ErrorCode, IssueEnrollmentCode, OwnerAlert,
    OwnerSession, OwnerSignIn,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{ApiError, ApiResult, JsonBody, PeerIp, check_series};
use crate::api::enroll;
use crate::rate_limit::client_key;
use crate::server::AppState;

pub const SESSION_MS: i64 = 15 * 60 * 1000;
pub const MAX_FAILURES: i32 = 5;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// The longest a tenant's owner sign-in stays locked after wrong authenticator codes.
pub const MAX_SECOND_FACTOR_LOCKOUT_MS: i64 = 24 * 60 * 60 * 1000;

/// How long the `lockouts`-th lock of a tenant's owner sign-in for wrong authenticator codes
/// lasts: 15 minutes, doubling with each lock, at most a day.
pub fn second_factor_lockout_ms(lockouts: i32) -> i64 {
    let doublings = lockouts.saturating_sub(1).clamp(0, 16) as u32;
    LOCKOUT_MS
        .saturating_mul(1 << doublings)
        .min(MAX_SECOND_FACTOR_LOCKOUT_MS)
}
const TOTP_ISSUER: &str = "Galla";

pub fn totp_aad(tenant: Uuid) -> Vec<u8> {
    format!("{tenant}/owner_totp").into_bytes()
}

pub struct OwnerCredentials {
    pub passphrase_hash: String,
    pub totp_secret: Zeroizing<Vec<u8>>,
    pub totp_uri: String,
}

fn totp(secret: &[u8], account: &str) -> ApiResult<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::from(secret.to_vec()))
        .with_account_name(account.replace(':', " "))
        .with_issuer(Some(TOTP_ISSUER.to_owned()))
        .build()
        .map_err(|_| crate::Error::Crypto("the owner's TOTP secret is unusable").into())
}

/// A fresh argon2id hash of the passphrase and a fresh TOTP secret (off the async workers:
/// argon2 is deliberately slow).
pub async fn new_owner_credentials(passphrase: &str, account: &str) -> ApiResult<OwnerCredentials> {
    let passphrase = Zeroizing::new(passphrase.to_owned());
    let passphrase_hash = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(passphrase.as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| crate::Error::Crypto("hashing the owner passphrase failed"))
    })
    .await
    .map_err(|_| crate::Error::Crypto("hashing the owner passphrase stopped"))??;
    let totp_secret = Zeroizing::new(crate::random::bytes::<20>()?.to_vec());
    let totp_uri = totp(&totp_secret, account)?
        .to_url()
        .map_err(|_| crate::Error::Crypto("the owner's TOTP secret is unusable"))?;
    Ok(OwnerCredentials {
        passphrase_hash,
        totp_secret,
        totp_uri,
    })
}

fn wrong() -> ApiError {
    ApiError::unauthenticated(
        "the shop, passphrase or authenticator code is wrong; check them and try again",
    )
}

enum Reserved {
    NoOwner,
    Locked {
        until_ms: i64,
    },
    /// Locked for the whole tenant: the passphrase came with wrong codes too often.
    SecondFactorLocked {
        until_ms: i64,
    },
    Check {
        hash: String,
        totp_wrapped: Vec<u8>,
        last_step: i64,
        account: String,
    },
}

/// `POST /v1/owner/session`.
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    PeerIp(peer): PeerIp,
    JsonBody(request): JsonBody<OwnerSignIn>,
) -> ApiResult<Json<OwnerSession>> {
    if let Some(ip) = peer {
        state.limits.check_sensitive(ip)?;
    }
    if request.passphrase.len() > super::tenants::MAX_PASSPHRASE_BYTES
        || request.totp_code.len() > 16
    {
        return Err(wrong());
    }
    let tenant = request.tenant_id;
    let now = state.clock.now_ms();
    let source = peer.map_or_else(|| "unknown".to_owned(), |ip| client_key(ip).to_string());

    // 1. Reserve the attempt (count it as a failure now) and read what checking needs.
    let reserved = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<Reserved> {
            tx.execute(
                "DELETE FROM owner_session WHERE tenant_id = $1 AND expires_at_ms <= $2",
                &[&tenant, &now],
            )
            .await?;
            let Some(owner) = tx
                .query_opt(
                    "SELECT o.passphrase_hash, o.totp_secret_wrapped, o.totp_last_step, s.display_name,
                            o.totp_locked_until_ms
                     FROM owner_account o JOIN seat s USING (tenant_id, seat_id)
                     WHERE o.tenant_id = $1",
                    &[&tenant],
                )
                .await?
            else {
                return Ok(Reserved::NoOwner);
            };
            let tenant_locked_until: i64 = owner.get(4);
            if tenant_locked_until > now {
                return Ok(Reserved::SecondFactorLocked {
                    until_ms: tenant_locked_until,
                });
            }
            let source_row = tx
                .query_one(
                    "INSERT INTO owner_sign_in_source (tenant_id, source) VALUES ($1, $2)
                     ON CONFLICT (tenant_id, source) DO UPDATE SET failures = owner_sign_in_source.failures
                     RETURNING failures, locked_until_ms",
                    &[&tenant, &source],
                )
                .await?;
            let locked_until: i64 = source_row.get(1);
            if locked_until > now {
                return Ok(Reserved::Locked {
                    until_ms: locked_until,
                });
            }
            let failures = source_row.get::<_, i32>(0) + 1;
            let (failures, locked_until) = if failures >= MAX_FAILURES {
                (0, now + LOCKOUT_MS)
            } else {
                (failures, 0)
            };
            tx.execute(
                "UPDATE owner_sign_in_source SET failures = $3, locked_until_ms = $4
                 WHERE tenant_id = $1 AND source = $2",
                &[&tenant, &source, &failures, &locked_until],
            )
            .await?;
            if locked_until > 0 {
                tracing::warn!(%tenant, "owner sign-in locked for one source after repeated failures");
            }
            Ok(Reserved::Check {
                hash: owner.get(0),
                totp_wrapped: owner.get(1),
                last_step: owner.get(2),
                account: owner.get(3),
            })
        })
        .await?;
    let (hash, totp_wrapped, last_step, account) = match reserved {
        Reserved::NoOwner => return Err(wrong()),
        Reserved::Locked { until_ms } => {
            return Err(locked(
                "owner sign-in from here is locked after repeated failures",
                "",
                until_ms,
                now,
            ));
        }
        Reserved::SecondFactorLocked { until_ms } => {
            return Err(locked(
                "owner sign-in for this shop is locked after repeated wrong authenticator codes",
                ", and change the passphrase",
                until_ms,
                now,
            ));
        }
        Reserved::Check {
            hash,
            totp_wrapped,
            last_step,
            account,
        } => (hash, totp_wrapped, last_step, account),
    };

    // 2. The slow check, holding no lock and no connection.
    let passphrase = Zeroizing::new(request.passphrase.clone());
    let passphrase_ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(passphrase.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false);
    let secret = state.kms.unwrap(&totp_aad(tenant), &totp_wrapped)?;
    let step = totp(&secret, &account)?
        .check(request.totp_code.trim(), (now.max(0) / 1000) as u64)
        .map(|s| s as i64)
        .filter(|s| *s > last_step);
    let Some(step) = step.filter(|_| passphrase_ok) else {
        if passphrase_ok {
            second_factor_failed(&state, tenant, now).await?;
        }
        return Err(wrong());
    };

    // 3. Settle: take the TOTP step (refused if a parallel sign-in took it first), clear this
    // source's count, open the session.
    let session = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<Option<OwnerSession>> {
            let took_step = tx
                .execute(
                    // Not while the tenant is locked (a guess in flight when the lock fell).
                    "UPDATE owner_account SET totp_last_step = $2, totp_failures = 0
                     WHERE tenant_id = $1 AND totp_last_step < $2 AND totp_locked_until_ms <= $3",
                    &[&tenant, &step, &now],
                )
                .await?;
            if took_step == 0 {
                return Ok(None);
            }
            tx.execute(
                "UPDATE owner_sign_in_source SET failures = 0, locked_until_ms = 0
                 WHERE tenant_id = $1 AND source = $2",
                &[&tenant, &source],
            )
            .await?;
            let secret = crate::random::bytes::<32>()?;
            let expires_at_ms = now + SESSION_MS;
            tx.execute(
                "INSERT INTO owner_session (tenant_id, token_hash, expires_at_ms) VALUES ($1, $2, $3)",
                &[&tenant, &Sha256::digest(secret).as_slice(), &expires_at_ms],
            )
            .await?;
            Ok(Some(OwnerSession {
                token: format!("{tenant}.{}", URL_SAFE_NO_PAD.encode(secret)),
                expires_at_ms,
            }))
        })
        .await?;
    session.map(Json).ok_or_else(wrong)
}

/// A locked sign-in's answer: why, when to try again (whole minutes, rounded up), and `then`.
fn locked(why: &str, then: &str, until_ms: i64, now: i64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::SignInLocked,
        format!(
            "{why}; try again in {} minutes{then}",
            (until_ms - now + 59_999) / 60_000
        ),
    )
}

/// Counts a wrong authenticator code given with the right passphrase, for the whole tenant
/// whatever the source: every [`MAX_FAILURES`]th locks owner sign-in for the tenant
/// ([`second_factor_lockout_ms`]) and tells the owner, at any counter, that the passphrase may
/// be known.
async fn second_factor_failed(state: &AppState, tenant: Uuid, now: i64) -> ApiResult<()> {
    state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<()> {
            let failures: i32 = tx
                .query_one(
                    "UPDATE owner_account SET totp_failures = totp_failures + 1
                     WHERE tenant_id = $1 RETURNING totp_failures",
                    &[&tenant],
                )
                .await?
                .get(0);
            if failures % MAX_FAILURES != 0 {
                return Ok(());
            }
            let lockout = second_factor_lockout_ms(failures / MAX_FAILURES);
            tx.execute(
                "UPDATE owner_account SET totp_locked_until_ms = $2 WHERE tenant_id = $1",
                &[&tenant, &(now + lockout)],
            )
            .await?;
            tracing::warn!(%tenant, failures, "owner sign-in locked for the tenant: wrong authenticator codes with the right passphrase");
            let detail = format!(
                "The owner's passphrase was given with a wrong authenticator code {failures} times \
                 since the last sign-in, from any number of addresses; owner sign-in is locked for \
                 {} minutes. Someone may know the passphrase: change it.",
                lockout / 60_000
            );
            crate::shared::raise_alert(
                tx,
                tenant,
                AlertKind::SecondFactorGuessing.as_str(),
                None,
                &detail,
                None,
                now,
            )
            .await?;
            Ok(())
        })
        .await
}

/// A request carrying a live owner token.
pub struct OwnerAuth {
    pub tenant_id: Uuid,
}

impl FromRequestParts<Arc<AppState>> for OwnerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> ApiResult<Self> {
        let unauthenticated = || {
            ApiError::unauthenticated("sign in as the owner again (the session is missing or over)")
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthenticated)?;
        let (tenant, secret) = token.split_once('.').ok_or_else(unauthenticated)?;
        let tenant_id = Uuid::parse_str(tenant).map_err(|_| unauthenticated())?;
        let secret = URL_SAFE_NO_PAD
            .decode(secret)
            .ok()
            .filter(|s| s.len() == 32)
            .ok_or_else(unauthenticated)?;
        let hash = Sha256::digest(&secret);
        let now = state.clock.now_ms();
        let live = state
            .db
            .tenant_tx(tenant_id, async |tx| -> ApiResult<bool> {
                Ok(tx
                    .query_opt(
                        "SELECT 1 FROM owner_session
                         WHERE tenant_id = $1 AND token_hash = $2 AND expires_at_ms > $3",
                        &[&tenant_id, &hash.as_slice(), &now],
                    )
                    .await?
                    .is_some())
            })
            .await?;
        if !live {
            return Err(unauthenticated());
        }
        Ok(OwnerAuth { tenant_id })
    }
}

/// `POST /v1/owner/enrollment-codes`.
pub async fn issue_enrollment_code(
    State(state): State<Arc<AppState>>,
    owner: OwnerAuth,
    JsonBody(request): JsonBody<IssueEnrollmentCode>,
) -> ApiResult<(StatusCode, Json<EnrollmentCode>)> {
    let series = request
        .series_code
        .as_deref()
        .map(check_series)
        .transpose()?;
    let code = enroll::issue(&state, owner.tenant_id, series).await?;
    Ok((StatusCode::CREATED, Json(code)))
}

/// `GET /v1/owner/devices`.
pub async fn devices(
    State(state): State<Arc<AppState>>,
    owner: OwnerAuth,
) -> ApiResult<Json<Vec<DeviceSummary>>> {
    let tenant = owner.tenant_id;
    let devices = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            let rows = tx
                .query(
                    "SELECT device_id, series_code,
                            (extract(epoch FROM enrolled_at) * 1000)::bigint,
                            revoked_at IS NOT NULL, wipe_requested_at_ms IS NOT NULL,
                            quarantined_at_ms IS NOT NULL, audit_seq
                     FROM device WHERE tenant_id = $1 ORDER BY enrolled_at",
                    &[&tenant],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| DeviceSummary {
                    device_id: r.get(0),
                    series_code: r.get(1),
                    enrolled_at_ms: r.get(2),
                    revoked: r.get(3),
                    wipe_requested: r.get(4),
                    quarantined: r.get(5),
                    audit_seq: r.get(6),
                })
                .collect())
        })
        .await?;
    Ok(Json(devices))
}

async fn mark_device(
    state: &AppState,
    tenant: Uuid,
    device: Uuid,
    statement: &str,
) -> ApiResult<StatusCode> {
    let now = state.clock.now_ms();
    let changed = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<u64> {
            Ok(tx.execute(statement, &[&tenant, &device, &now]).await?)
        })
        .await?;
    if changed == 0 {
        return Err(ApiError::not_found("this shop has no such device"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/owner/devices/{id}/revoke`: refused from its next request on.
pub async fn revoke_device(
    State(state): State<Arc<AppState>>,
    owner: OwnerAuth,
    Path(device): Path<Uuid>,
) -> ApiResult<StatusCode> {
    mark_device(
        &state,
        owner.tenant_id,
        device,
        "UPDATE device SET revoked_at = coalesce(revoked_at, to_timestamp($3::bigint / 1000.0))
         WHERE tenant_id = $1 AND device_id = $2",
    )
    .await
}

/// `POST /v1/owner/devices/{id}/wipe`: told to erase its keys on its next contact.
pub async fn wipe_device(
    State(state): State<Arc<AppState>>,
    owner: OwnerAuth,
    Path(device): Path<Uuid>,
) -> ApiResult<StatusCode> {
    mark_device(
        &state,
        owner.tenant_id,
        device,
        "UPDATE device SET wipe_requested_at_ms = coalesce(wipe_requested_at_ms, $3)
         WHERE tenant_id = $1 AND device_id = $2",
    )
    .await
}

/// `GET /v1/owner/alerts`: newest first.
pub async fn alerts(
    State(state): State<Arc<AppState>>,
    owner: OwnerAuth,
) -> ApiResult<Json<Vec<OwnerAlert>>> {
    let tenant = owner.tenant_id;
    let alerts = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            let rows = tx
                .query(
                    "SELECT alert_id, kind, device_id, detail, raised_at_ms FROM owner_alert
                     WHERE tenant_id = $1 ORDER BY raised_at_ms DESC LIMIT 500",
                    &[&tenant],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    let kind = AlertKind::parse(r.get::<_, &str>(1))
                        .ok_or(crate::Error::Integrity("an alert of an unknown kind"))?;
                    Ok(OwnerAlert {
                        alert_id: r.get(0),
                        kind,
                        device_id: r.get(2),
                        detail: r.get(3),
                        raised_at_ms: r.get(4),
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(Json(alerts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_factor_lockout_doubles_up_to_a_day() {
        let minutes = |n| second_factor_lockout_ms(n) / 60_000;
        assert_eq!(minutes(1), 15);
        assert_eq!(minutes(2), 30);
        assert_eq!(minutes(3), 60);
        assert_eq!(minutes(7), 16 * 60);
        assert_eq!(minutes(8), 24 * 60);
        assert_eq!(minutes(i32::MAX), 24 * 60);
        assert_eq!(minutes(0), 15, "never shorter than the first");
    }
}
