//! The HTTP surface and what every route gets: a body limit, a timeout, a per-address rate
//! limit, strict security headers, and a request log line without PII (method, route, status,
//! time; never a body, a header value or a query string). Served over TLS 1.3 only (`tls`),
//! with graceful shutdown through an `axum_server::Handle`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use galla_proto::api as wire;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::api::{self, ApiError};
use crate::clock::Clock;
use crate::db::Db;
use crate::error::Result;
use crate::kms::Kms;
use crate::rate_limit::RateLimits;
use crate::tlog::LogSigner;

/// The largest request body any route accepts (a full audit batch fits well within it).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// No request may take longer than this (unless configured otherwise).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub kms: Arc<dyn Kms>,
    pub log: LogSigner,
    pub limits: RateLimits,
    /// The longest any request may take, body upload included; then 408.
    pub request_timeout: Duration,
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

/// The per-address bucket, before any route does work. A request with no known peer (only
/// possible when the router is driven without a socket) is let through.
async fn limit_by_address(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && let Err(refused) = state.limits.check_address(peer.ip())
    {
        return refused.into_response();
    }
    next.run(request).await
}

/// One line per request: the route pattern (never the concrete path, which holds ids), the
/// status and the time taken.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    tracing::info!(
        target: "galla_cloud::request",
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see docs/sync-protocol.md")
}

pub fn router(state: Arc<AppState>) -> Router {
    let timeout = state.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(wire::PATH_TENANTS, post(api::tenants::create))
        .route(wire::PATH_OWNER_SESSION, post(api::owner::sign_in))
        .route(
            wire::PATH_OWNER_ENROLLMENT_CODES,
            post(api::owner::issue_enrollment_code),
        )
        .route(wire::PATH_OWNER_DEVICES, get(api::owner::devices))
        .route(
            "/v1/owner/devices/{device_id}/revoke",
            post(api::owner::revoke_device),
        )
        .route(
            "/v1/owner/devices/{device_id}/wipe",
            post(api::owner::wipe_device),
        )
        .route(wire::PATH_OWNER_ALERTS, get(api::owner::alerts))
        .route(wire::PATH_ENROLL, post(api::enroll::redeem))
        .route(wire::PATH_DEVICE_STATUS, get(api::enroll::status))
        .route(wire::PATH_AUDIT, post(api::audit::push))
        .route(wire::PATH_LOG_CHECKPOINT, get(api::log::checkpoint))
        .route(wire::PATH_LOG_INCLUSION, get(api::log::inclusion))
        .route(wire::PATH_LOG_CONSISTENCY, get(api::log::consistency))
        .route(wire::PATH_SYNC_CHANGES, get(api::changes::changes))
        .fallback(not_found)
        .route_layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_by_address,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
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
    let pruner = state.clone();
    let prune = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            pruner.limits.prune();
        }
    });
    let config = axum_server::tls_rustls::RustlsConfig::from_config(tls);
    let served = axum_server::bind_rustls(addr, config)
        .handle(handle)
        .serve(router(state).into_make_service_with_connect_info::<SocketAddr>())
        .await;
    prune.abort();
    served?;
    Ok(())
}
