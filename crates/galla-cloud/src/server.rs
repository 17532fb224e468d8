//! The HTTP surface: health and readiness so far, behind the limits every route gets (a body
//! limit, a timeout, strict security headers). Served over TLS 1.3 only (`tls`), with graceful
//! shutdown through an `axum_server::Handle`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::db::Db;
use crate::error::Result;

/// The largest request body any route accepts (a sync batch is bounded well below it).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// No request may take longer than this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

/// Alive: the process answers. Says nothing about the database.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers through the pool as the app role. The error says nothing of why.
async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready")
        }
    }
}

fn header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(header(
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ))
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header("referrer-policy", "no-referrer"))
        .layer(header("cache-control", "no-store"))
        .layer(header(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Serves `router` on `addr` over TLS 1.3 until `handle` is told to shut down (in-flight
/// requests get `grace` to finish).
pub async fn serve(
    addr: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
    handle: axum_server::Handle<SocketAddr>,
) -> Result<()> {
    let config = axum_server::tls_rustls::RustlsConfig::from_config(tls);
    axum_server::bind_rustls(addr, config)
        .handle(handle)
        .serve(router(state).into_make_service())
        .await?;
    Ok(())
}
