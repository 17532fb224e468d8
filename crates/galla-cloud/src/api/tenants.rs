//! `POST /v1/tenants`: a shop signs up. The owner is created with a passphrase (argon2id) and a
//! fresh TOTP secret (shown once, as an otpauth URI). A new shop gets fresh data and
//! blind-index keys; a standalone shop that links brings its own tenant id, keys and first
//! device, and then pushes its history as ordinary audit records from sequence 1.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ed25519_dalek::{Signature, VerifyingKey};
use galla_proto::api::{
    self as wire, CreateTenantRequest, CreateTenantResponse, KeyPurpose, TenantKey,
};
use tokio_postgres::error::SqlState;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{ApiError, ApiResult, JsonBody, PeerIp, check_series, check_text, decode_fixed};
use crate::api::enroll::{self, NewDevice};
use crate::api::owner;
use crate::server::AppState;
use crate::tlog;

pub const MIN_PASSPHRASE_CHARS: usize = 8;
pub const MAX_PASSPHRASE_BYTES: usize = 1024;
const MAX_LINKED_SEATS: usize = 500;
const MAX_KEYS: usize = 64;

/// The associated data a tenant key is wrapped with.
pub fn key_aad(tenant: Uuid, purpose: KeyPurpose, version: u32) -> Vec<u8> {
    format!("{tenant}/{}/{version}", purpose.as_str()).into_bytes()
}

/// A tenant key in the clear, on its way to the KMS.
type PlainKey = (KeyPurpose, u32, Zeroizing<[u8; 32]>);

fn check_keys(keys: &[TenantKey]) -> ApiResult<Vec<PlainKey>> {
    if keys.len() > MAX_KEYS {
        return Err(ApiError::bad_request(format!("at most {MAX_KEYS} keys")));
    }
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        if k.version == 0
            || i32::try_from(k.version).is_err()
            || (k.purpose == KeyPurpose::BlindIndex && k.version != 1)
        {
            return Err(ApiError::bad_request(
                "key versions start at 1, and there is one blind-index key (version 1)",
            ));
        }
        if out
            .iter()
            .any(|(p, v, _)| *p == k.purpose && *v == k.version)
        {
            return Err(ApiError::bad_request(
                "a key purpose and version appear twice",
            ));
        }
        out.push((
            k.purpose,
            k.version,
            Zeroizing::new(decode_fixed::<32>(&k.key, "keys[].key")?),
        ));
    }
    let has = |p| out.iter().any(|(q, _, _)| *q == p);
    if !has(KeyPurpose::Data) || !has(KeyPurpose::BlindIndex) {
        return Err(ApiError::bad_request(
            "a linking shop sends its data keys and its blind-index key",
        ));
    }
    Ok(out)
}

pub fn check_passphrase(passphrase: &str) -> ApiResult<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS || passphrase.len() > MAX_PASSPHRASE_BYTES
    {
        return Err(ApiError::bad_request(format!(
            "the owner passphrase must be at least {MIN_PASSPHRASE_CHARS} characters (and under {MAX_PASSPHRASE_BYTES} bytes)"
        )));
    }
    Ok(())
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    PeerIp(peer): PeerIp,
    JsonBody(request): JsonBody<CreateTenantRequest>,
) -> ApiResult<(StatusCode, Json<CreateTenantResponse>)> {
    if let Some(ip) = peer {
        state.limits.check_sensitive(ip)?;
    }
    let shop_name = check_text(&request.shop_name, "shop_name", 120)?;
    let owner_name = check_text(&request.owner_name, "owner_name", 80)?;
    check_passphrase(&request.owner_passphrase)?;

    // Everything the link brings is checked before anything is written.
    let mut tenant_id = Uuid::now_v7();
    let mut owner_seat_id = Uuid::now_v7();
    let mut keys = vec![];
    let mut linked_device = None;
    let mut seats: Vec<(Uuid, String, Vec<String>, bool)> = vec![];
    if let Some(link) = &request.link {
        tenant_id = link.tenant_id;
        owner_seat_id = link.owner_seat_id;
        keys = check_keys(&link.keys)?;
        let public = decode_fixed::<32>(&link.device_public_key, "link.device_public_key")?;
        let proof = decode_fixed::<64>(&link.proof, "link.proof")?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| ApiError::bad_request("link.device_public_key is not an Ed25519 key"))?;
        key.verify_strict(
            &wire::link_proof_message(tenant_id, link.device_id, &public),
            &Signature::from_bytes(&proof),
        )
        .map_err(|_| {
            ApiError::unauthenticated("link.proof does not verify with link.device_public_key")
        })?;
        linked_device = Some(NewDevice {
            device_id: link.device_id,
            public_key: public,
            series_code: check_series(&link.series_code)?,
        });
        if link.seats.len() > MAX_LINKED_SEATS {
            return Err(ApiError::bad_request(format!(
                "at most {MAX_LINKED_SEATS} seats link at once"
            )));
        }
        for seat in &link.seats {
            if seat.seat_id == owner_seat_id {
                continue;
            }
            if seats.iter().any(|(id, ..)| *id == seat.seat_id) {
                return Err(ApiError::bad_request(format!(
                    "seat {} is listed twice",
                    seat.seat_id
                )));
            }
            let name = check_text(&seat.display_name, "seats[].display_name", 80)?;
            if seat.roles.len() > 16 {
                return Err(ApiError::bad_request("a seat has at most 16 roles"));
            }
            let roles = seat
                .roles
                .iter()
                .map(|r| check_text(r, "seats[].roles[]", 40))
                .collect::<ApiResult<Vec<_>>>()?;
            seats.push((seat.seat_id, name, roles, seat.revoked));
        }
    }

    if keys.is_empty() {
        // A new shop: its keys are made here.
        for purpose in [KeyPurpose::Data, KeyPurpose::BlindIndex] {
            keys.push((purpose, 1, Zeroizing::new(crate::random::bytes::<32>()?)));
        }
    }

    let credentials = owner::new_owner_credentials(&request.owner_passphrase, &owner_name).await?;
    let totp_wrapped = state.kms.wrap(
        &owner::totp_aad(tenant_id),
        credentials.totp_secret.as_slice(),
    )?;
    let wrapped_keys = keys
        .iter()
        .map(|(purpose, version, key)| {
            Ok((
                *purpose,
                *version,
                state
                    .kms
                    .wrap(&key_aad(tenant_id, *purpose, *version), key.as_slice())?,
            ))
        })
        .collect::<crate::Result<Vec<_>>>()?;

    let now = state.clock.now_ms();
    let enrolled = state
        .db
        .tenant_tx(tenant_id, async |tx| -> ApiResult<_> {
            let inserted = tx
                .execute(
                    "INSERT INTO tenant (tenant_id, name) VALUES ($1, $2)",
                    &[&tenant_id, &shop_name],
                )
                .await;
            if let Err(e) = inserted {
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                    return Err(ApiError::conflict(
                        "this shop is already linked to the cloud; sign in as its owner instead",
                    ));
                }
                return Err(e.into());
            }
            tx.execute(
                "INSERT INTO owner_account (tenant_id, seat_id, passphrase_hash, totp_secret_wrapped)
                 VALUES ($1, $2, $3, $4)",
                &[&tenant_id, &owner_seat_id, &credentials.passphrase_hash, &totp_wrapped],
            )
            .await?;
            tx.execute(
                "INSERT INTO seat (tenant_id, seat_id, display_name, roles) VALUES ($1, $2, $3, $4)",
                &[&tenant_id, &owner_seat_id, &owner_name, &vec!["owner"]],
            )
            .await?;
            for (seat_id, name, roles, revoked) in &seats {
                tx.execute(
                    "INSERT INTO seat (tenant_id, seat_id, display_name, roles, revoked)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[&tenant_id, seat_id, name, roles, revoked],
                )
                .await?;
            }
            for (purpose, version, wrapped) in &wrapped_keys {
                tx.execute(
                    "INSERT INTO tenant_key (tenant_id, purpose, version, wrapped) VALUES ($1, $2, $3, $4)",
                    &[&tenant_id, &purpose.as_str(), &(*version as i32), wrapped],
                )
                .await?;
            }
            tlog::create(tx, tenant_id, &state.log, now).await?;
            match &linked_device {
                Some(device) => {
                    let enrolled = enroll::enroll_device(&state, tx, tenant_id, device).await?;
                    tx.execute(
                        "UPDATE device SET pre_link_history = true WHERE tenant_id = $1 AND device_id = $2",
                        &[&tenant_id, &device.device_id],
                    )
                    .await?;
                    Ok(Some(enrolled))
                }
                None => Ok(None),
            }
        })
        .await?;
    tracing::info!(%tenant_id, linked = enrolled.is_some(), "tenant created");
    Ok((
        StatusCode::CREATED,
        Json(CreateTenantResponse {
            tenant_id,
            owner_seat_id,
            owner_totp_uri: credentials.totp_uri,
            enrolled,
        }),
    ))
}
