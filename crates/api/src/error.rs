//! Client errors. `Display` texts follow Go's `api` package, which the Consul CLI prints verbatim.

/// Everything that can go wrong talking to the agent.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad client configuration (address scheme, token file, TLS not available yet).
    #[error("{0}")]
    Config(String),
    /// The request never produced a response (connection refused, reset, ...).
    #[error("{method} \"{url}\": {detail}")]
    Transport {
        method: String,
        url: String,
        detail: String,
    },
    /// The agent answered with a non-2xx status; `body` is its plain-text message, trimmed.
    #[error("Unexpected response code: {status} ({body})")]
    Api { status: u16, body: String },
    /// The agent answered 2xx but the body was not what the endpoint promises.
    #[error("Failed to decode response: {0}")]
    Decode(String),
}

impl Error {
    /// HTTP status for [`Error::Api`], else `None`.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn transport(method: &str, url: &str, err: &reqwest::Error) -> Error {
        Error::Transport {
            method: go_method_name(method),
            url: url.to_string(),
            detail: transport_detail(url, err),
        }
    }
}

/// Go's wording where we can (`dial tcp HOST: connect: connection refused`), else the
/// innermost cause of the error chain.
fn transport_detail(url: &str, err: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let text = innermost.to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if err.is_connect() {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_default();
        return format!("dial tcp {host}: connect: {text}");
    }
    if err.is_timeout() {
        return format!("{text} (Client.Timeout exceeded while awaiting headers)");
    }
    text
}

/// Go formats `*url.Error` as `Get "http://..."`: capitalised method name.
fn go_method_name(method: &str) -> String {
    let lower = method.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_matches_go_text() {
        let e = Error::Api {
            status: 500,
            body: "invalid session \"x\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "Unexpected response code: 500 (invalid session \"x\")"
        );
        assert_eq!(e.status(), Some(500));
    }

    #[test]
    fn method_names() {
        assert_eq!(go_method_name("GET"), "Get");
        assert_eq!(go_method_name("DELETE"), "Delete");
    }
}
