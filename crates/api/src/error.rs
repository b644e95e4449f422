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
        // Go prints the whole cause chain ("dial tcp ...: connect: connection refused").
        let mut detail = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !detail.contains(&text) {
                detail.push_str(": ");
                detail.push_str(&text);
            }
            source = cause.source();
        }
        Error::Transport {
            method: go_method_name(method),
            url: url.to_string(),
            detail,
        }
    }
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
