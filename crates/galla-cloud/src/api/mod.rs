//! The HTTP API: one module per capability, one refusal type for all of them. Handlers parse
//! and check input, then do their work in one tenant-scoped transaction (`Db::tenant_tx`).
//! Refusals carry a code a program acts on and a message that says what to do; internal
//! failures are logged for the operator and reach the client as a bare 500.

pub mod audit;
pub mod changes;
pub mod device_auth;
pub mod enroll;
pub mod log;
pub mod owner;
pub mod tenants;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use galla_proto::api::{self as wire, ErrorCode};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A refusal, as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            message,
        )
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub fn rate_limited(retry_after_s: u64) -> ApiError {
        ApiError {
            retry_after_s: Some(retry_after_s.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "too many requests; wait and try again",
            )
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        if matches!(e, Error::Pool(_)) {
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the server is busy; try again shortly",
            );
        }
        tracing::error!(error = %e, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the server could not finish this request; try again, and tell support if it persists",
        )
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> ApiError {
        Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(wire::ApiError {
            code: self.code,
            message: self.message,
        });
        let mut response = (self.status, body).into_response();
        if let Some(s) = self.retry_after_s
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A query string parsed, or a refusal naming what the route takes.
pub(crate) fn query<T>(
    q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
    takes: &str,
) -> ApiResult<T> {
    q.map(|axum::extract::Query(t)| t)
        .map_err(|_| ApiError::bad_request(format!("this request takes ?{takes}")))
}

/// Parses a JSON body. The error names the place, never the value (which may be a passphrase).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not the JSON this request takes ({} at line {}, column {})",
            match e.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof =>
                    "malformed JSON",
                _ => "a field is missing, unknown or of the wrong type",
            },
            e.line(),
            e.column()
        ))
    })
}

/// Reads the body within the body limit; an oversized body is a 413 with our error shape.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> ApiResult<Bytes> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!(
                    "the body is larger than {} bytes; send fewer records per request",
                    crate::server::MAX_BODY_BYTES
                ),
            )
        } else {
            ApiError::bad_request("the body could not be read")
        }
    })
}

/// A JSON body, parsed with our error shape and limits.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let bytes = read_body(req, state).await?;
        Ok(JsonBody(parse_json(&bytes)?))
    }
}

/// Decodes a base64 field that must be exactly `N` bytes.
pub fn decode_fixed<const N: usize>(text: &str, field: &str) -> ApiResult<[u8; N]> {
    BASE64
        .decode(text)
        .ok()
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or_else(|| ApiError::bad_request(format!("{field} must be {N} bytes in base64")))
}

pub fn encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Checks a display text: trimmed, 1..=max characters, no control characters.
pub fn check_text(value: &str, field: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    let n = v.chars().count();
    if n == 0 || n > max || v.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1 to {max} characters, without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Checks an invoice-series code: a capital letter, then up to three capitals or digits.
pub fn check_series(code: &str) -> ApiResult<String> {
    let ok = (1..=4).contains(&code.len())
        && code.as_bytes()[0].is_ascii_uppercase()
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !ok {
        return Err(ApiError::bad_request(
            "series_code must be a capital letter and up to three more capitals or digits, e.g. T2",
        ));
    }
    Ok(code.to_owned())
}

/// The client's address, when the server knows it (always, when served on a socket).
pub struct PeerIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
