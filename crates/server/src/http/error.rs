//! The one error shape of the API: `{"error": {"code": "...", "message": "..."}}`.
//!
//! 4xx messages say what to fix; 5xx are logged with their cause and answered without
//! internals. Nothing here may panic on input.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Error;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (the database is unavailable for now).
    pub retry_after: Option<u32>,
}

/// Seconds a client is told to wait while the database is unavailable.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: `code` for programs, `message` for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 503 with `Retry-After`: the database cannot be used now (`why`; the `cause` is logged);
    /// the request may be sent again.
    pub fn unavailable(why: &str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "database unavailable: {why}");
        Self {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                format!("{why}; nothing was changed, try again in a few seconds"),
            )
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle the request; it has been logged",
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            Error::NotFound(m) => ApiError::not_found(m),
            Error::Invalid(m) => ApiError::unprocessable("invalid", m),
            other => match other.unavailable() {
                Some(why) => ApiError::unavailable(why, &other),
                None => ApiError::internal(other),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Result of a handler.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// A JSON body whose rejections (syntax, wrong type, unknown enum value, missing field, too
/// large, wrong content type) are answered in the API's error shape with serde's message.
///
/// A body is parsed with plain `serde_json` first; axum's parser, which tracks the path to
/// what went wrong (`rollups[3].day: ...`) at a fifth of an upload's cost, runs only to
/// explain a body that failed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// True when the request says its body is `application/json` in the plain form every client
/// sends; anything else is left to axum's own, wider check.
fn plain_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !plain_json(&req) {
            return match axum::Json::<T>::from_request(req, state).await {
                Ok(axum::Json(v)) => Ok(ApiJson(v)),
                Err(rejection) => Err(json_rejection(rejection)),
            };
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| json_rejection(rejection.into()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body as [`ApiJson`] does for `application/json`: plain `serde_json` first,
/// axum's path-tracking parser only to explain a body that failed (`rollups[3].day: ...`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(_) => match axum::Json::<T>::from_bytes(bytes) {
            Ok(axum::Json(v)) => Ok(v),
            Err(rejection) => Err(json_rejection(rejection)),
        },
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::unprocessable(
            "invalid_body",
            format!("the JSON body does not fit the expected shape: {text}"),
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {text}"),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        other => ApiError::bad_request("unreadable_body", other.body_text()),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body is larger than the server accepts; send smaller batches",
    )
}

/// Query-string rejections in the API's error shape.
pub fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", rejection.body_text())
}

/// Rewrites any error answer that is not JSON yet (axum's plain-text rejections for paths and
/// methods, the body-limit layer's 413, unknown routes) into the API's error shape.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let err = match status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        StatusCode::NOT_FOUND => ApiError::not_found(if text.is_empty() {
            "there is nothing at this address; see /api/openapi.json".to_owned()
        } else {
            text
        }),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "this address does not accept that method; see /api/openapi.json",
        ),
        s if s.is_server_error() => ApiError::internal(format!("{s}: {text}")),
        s => ApiError::new(
            s,
            "bad_request",
            if text.is_empty() { s.to_string() } else { text },
        ),
    };
    let mut out = err.into_response();
    // Keep headers such as `Allow` or `WWW-Authenticate` from the original answer.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    out
}

/// Longest a request waits for its answer (the answer's head; a download's body may take
/// longer). Longer than the uploads' own limit (the store's pool patience, 10 s), whose
/// answer says more.
pub const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

/// Answers 503 with `Retry-After` a request that has no answer after [`ANSWER_WITHIN`]: a
/// dashboard read that waits on a database gone silent (a network cut between server and
/// PostgreSQL) is told to try again instead of waiting as long as the cut. The work stops
/// where it is: a PostgreSQL transaction not committed yet is rolled back; a change that was
/// being committed may still be made, so the message does not say that nothing changed.
pub async fn answer_in_time(req: Request, next: Next) -> Response {
    // Kept for the log line without formatting anything for the requests answered in time.
    let (method, uri) = (req.method().clone(), req.uri().clone());
    match tokio::time::timeout(ANSWER_WITHIN, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                %method,
                path = uri.path(),
                "no answer within {} s: answered 503",
                ANSWER_WITHIN.as_secs()
            );
            ApiError {
                retry_after: Some(RETRY_AFTER_SECS),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    format!(
                        "the server got no answer from its database within {} s; try again in a \
                         few seconds",
                        ANSWER_WITHIN.as_secs()
                    ),
                )
            }
            .into_response()
        }
    }
}
