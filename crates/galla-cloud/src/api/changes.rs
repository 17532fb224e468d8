//! `GET /v1/sync/changes`: the tenant's shared state (`crate::shared`) as a change feed, read
//! by its terminals (signed requests). A page is read in one snapshot; pushes are serialized
//! per tenant and take their change numbers under that lock, so every snapshot holds every
//! change up to its newest, and a terminal that pages on until `complete` has a whole state.

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
    let rows = state
        .db
        .tenant_tx(tenant, async |tx| -> ApiResult<_> {
            Ok(tx
                .query(
                    "SELECT change, tbl, row_id, data, device_id FROM shared_row
                     WHERE tenant_id = $1 AND change > $2 ORDER BY change LIMIT $3",
                    &[&tenant, &q.after, &(limit as i64)],
                )
                .await?)
        })
        .await?;
    let complete = rows.len() < limit;
    let rows: Vec<SharedRow> = rows
        .iter()
        .map(|r| SharedRow {
            change: r.get(0),
            table: r.get(1),
            id: r.get(2),
            row: r
                .get::<_, Option<serde_json::Value>>(3)
                .unwrap_or(serde_json::Value::Null),
            device_id: r.get(4),
        })
        .collect();
    let next = rows.last().map_or(q.after, |r| r.change);
    Ok(Json(ChangesResponse {
        rows,
        next,
        complete,
    }))
}
