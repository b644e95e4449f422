//! Errors as Consul writes them: plain text bodies with Consul's status codes and texts.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proconsul_server::ServerError;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// 400: bad parameters or body (`Missing key name`, `Invalid wait time`, ...).
    #[error("{0}")]
    BadRequest(String),
    /// 404 with a text body (`Session id '..' not found`); empty for missing keys.
    #[error("{0}")]
    NotFound(String),
    /// 413: body over the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// 500: everything else (`No cluster leader`, `invalid session "x"`, ...).
    #[error("{0}")]
    Internal(String),
    /// 405 with the `Allow` list.
    #[error("method {method} not allowed")]
    MethodNotAllowed { method: String, allow: String },
}

impl From<ServerError> for HttpError {
    fn from(err: ServerError) -> Self {
        HttpError::Internal(err.to_string())
    }
}

fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = self.to_string();
        match self {
            HttpError::BadRequest(_) => text(StatusCode::BAD_REQUEST, body),
            HttpError::NotFound(_) => text(StatusCode::NOT_FOUND, body),
            HttpError::TooLarge(_) => text(StatusCode::PAYLOAD_TOO_LARGE, body),
            HttpError::Internal(_) => text(StatusCode::INTERNAL_SERVER_ERROR, body),
            HttpError::MethodNotAllowed { allow, .. } => {
                let mut response = text(StatusCode::METHOD_NOT_ALLOWED, body);
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                response
            }
        }
    }
}

/// Go's `strconv.ParseUint` error text, which Consul returns verbatim for bad numbers.
pub fn parse_uint(text: &str) -> Result<u64, HttpError> {
    text.parse::<u64>().map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        HttpError::Internal(format!("strconv.ParseUint: parsing {text:?}: {reason}"))
    })
}
