//! `GET /v1/sync/changes`: the tenant's shared state (`crate::shared`) as a change feed, read
//! by its terminals (signed requests). A page is read in one snapshot; pushes are serialized
//! per tenant and take their change numbers under that lock, so every snapshot holds every
//! change up to its newest, and a terminal that pages on until `complete` has a whole state.
//!
//! A terminal is not sent its own facts: a fact is the row exactly as that terminal wrote it
//! and never changes, so it holds it already (most of a busy till's feed is its own sales).
//! Merged rows it last wrote are sent, since the cloud's merge may hold other terminals'
//! columns it has not seen. The cursor still moves past what was left out.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use galla_proto::api::{ChangesResponse, MAX_CHANGES_PAGE, SharedRow};
use serde::Deserialize;

use super::device_auth::SignedRequest;
use super::{ApiError, ApiResult, query};
use crate::server::AppState;

#[derive(Deserialize)]
pub struct ChangesQuery {
    after: i64,
    limit: Option<usize>,
}

pub async fn changes(
    State(state): State<Arc<AppState>>,
    q: Result<Query<ChangesQuery>, QueryRejection>,
    signed: SignedRequest,
) -> ApiResult<Json<ChangesResponse>> {
    let q = query(q, "after=N[&limit=L]")?;
    if q.after < 0 {
        return Err(ApiError::bad_request("after is a change number, 0 or more"));
    }
    let limit = q
        .limit
        .unwrap_or(MAX_CHANGES_PAGE)
        .clamp(1, MAX_CHANGES_PAGE);
    let tenant = signed.device.tenant_id;
    let me = signed.device.device_id;
    let facts: Vec<&str> = galla_proto::tables::facts().collect();
    let scanned = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            Ok(tx
                .query(
                    "SELECT change, tbl, row_id, device_id,
                            CASE WHEN device_id = $4 AND tbl = ANY($5) THEN NULL ELSE data END,
                            device_id = $4 AND tbl = ANY($5)
                     FROM shared_row
                     WHERE tenant_id = $1 AND change > $2 ORDER BY change LIMIT $3",
                    &[&tenant, &q.after, &(limit as i64), &me, &facts],
                )
                .await?)
        })
        .await?;
    let complete = scanned.len() < limit;
    let next = scanned.last().map_or(q.after, |r| r.get(0));
    let rows: Vec<SharedRow> = scanned
        .iter()
        .filter(|r| !r.get::<_, bool>(5))
        .map(|r| SharedRow {
            change: r.get(0),
            table: r.get(1),
            id: r.get(2),
            row: r
                .get::<_, Option<serde_json::Value>>(4)
                .unwrap_or(serde_json::Value::Null),
            device_id: r.get(3),
        })
        .collect();
    Ok(Json(ChangesResponse {
        rows,
        next,
        complete,
    }))
}
