//! The tenant's transparency log, read by its devices (signed requests): the newest signed
//! checkpoint, the inclusion proof of one of the asking device's own records, and consistency
//! proofs between two sizes, so a terminal can tell if the log it saw was ever rewritten.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use galla_proto::api::{CheckpointResponse, ConsistencyResponse, InclusionResponse};
use serde::Deserialize;

use super::device_auth::SignedRequest;
use super::{ApiError, ApiResult, encode, query};
use crate::server::AppState;
use crate::tlog;

/// `GET /v1/log/checkpoint`.
pub async fn checkpoint(
    State(state): State<Arc<AppState>>,
    signed: SignedRequest,
) -> ApiResult<Json<CheckpointResponse>> {
    let tenant = signed.device.tenant_id;
    let (_, checkpoint) = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            Ok(tlog::latest_checkpoint(tx, tenant).await?)
        })
        .await?;
    Ok(Json(CheckpointResponse { checkpoint }))
}

#[derive(Deserialize)]
pub struct InclusionQuery {
    seq: u64,
    tree_size: u64,
}

/// `GET /v1/log/inclusion?seq=N&tree_size=S`: the asking device's record N.
pub async fn inclusion(
    State(state): State<Arc<AppState>>,
    q: Result<Query<InclusionQuery>, QueryRejection>,
    signed: SignedRequest,
) -> ApiResult<Json<InclusionResponse>> {
    let q = query(q, "seq=N&tree_size=S")?;
    let (tenant, device) = (signed.device.tenant_id, signed.device.device_id);
    let seq = i64::try_from(q.seq).map_err(|_| ApiError::bad_request("seq is out of range"))?;
    let proof = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            let size = tlog::size(tx, tenant).await?;
            if q.tree_size > size {
                return Err(ApiError::bad_request(format!(
                    "tree_size {} is larger than the log ({size})",
                    q.tree_size
                )));
            }
            let Some(row) = tx
                .query_opt(
                    "SELECT log_index FROM audit_record
                     WHERE tenant_id = $1 AND device_id = $2 AND seq = $3",
                    &[&tenant, &device, &seq],
                )
                .await?
            else {
                return Err(ApiError::not_found(
                    "the server has no audit record of this terminal with that number",
                ));
            };
            let index = row.get::<_, i64>(0) as u64;
            if index >= q.tree_size {
                return Err(ApiError::bad_request(format!(
                    "record {} entered the log after size {}; ask with a later checkpoint",
                    q.seq, q.tree_size
                )));
            }
            let proof = tlog::inclusion_proof(tx, tenant, index, q.tree_size).await?;
            Ok((index, proof))
        })
        .await?;
    Ok(Json(InclusionResponse {
        leaf_index: proof.0,
        tree_size: q.tree_size,
        proof: proof.1.iter().map(|h| encode(h)).collect(),
    }))
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// `GET /v1/log/consistency?from=A&to=B`.
pub async fn consistency(
    State(state): State<Arc<AppState>>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
    signed: SignedRequest,
) -> ApiResult<Json<ConsistencyResponse>> {
    let q = query(q, "from=A&to=B")?;
    let tenant = signed.device.tenant_id;
    let proof = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            let size = tlog::size(tx, tenant).await?;
            if q.from > q.to || q.to > size || (q.from == 0 && q.to > 0) {
                return Err(ApiError::bad_request(format!(
                    "ask for 1 <= from <= to <= {size} (the log's size); there is no proof from the empty log"
                )));
            }
            Ok(tlog::consistency_proof(tx, tenant, q.from, q.to).await?)
        })
        .await?;
    Ok(Json(ConsistencyResponse {
        from: q.from,
        to: q.to,
        proof: proof.iter().map(|h| encode(h)).collect(),
    }))
}
