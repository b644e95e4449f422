//! Client configuration from `CONSUL_HTTP_*` environment variables, overridable by CLI flags.

use crate::{Error, Result};

/// Default agent address, as in Consul.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8500";

/// URL scheme used to reach the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// HTTP basic auth credentials (`CONSUL_HTTP_AUTH=user[:pass]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAuth {
    pub username: String,
    pub password: Option<String>,
}

impl HttpAuth {
    /// Parses `user:pass` or `user` (the password may itself contain `:`).
    pub fn parse(value: &str) -> HttpAuth {
        match value.split_once(':') {
            Some((user, pass)) => HttpAuth {
                username: user.to_string(),
                password: Some(pass.to_string()),
            },
            None => HttpAuth {
                username: value.to_string(),
                password: None,
            },
        }
    }
}

/// Everything needed to build a [`crate::Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `host:port`, optionally prefixed with `http://`, `https://` or `unix://`.
    pub address: String,
    /// `CONSUL_HTTP_SSL=true`: use https when the address carries no scheme.
    pub ssl: bool,
    /// ACL token sent as `X-Consul-Token`.
    pub token: Option<String>,
    /// File holding the token; when set and non-empty it wins over `token` (as in Go's client).
    pub token_file: Option<String>,
    pub http_auth: Option<HttpAuth>,
    /// Datacenter added as `?dc=` to every request unless a request sets its own.
    pub datacenter: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            address: DEFAULT_ADDRESS.to_string(),
            ssl: false,
            token: None,
            token_file: None,
            http_auth: None,
            datacenter: None,
        }
    }
}

impl Config {
    /// Reads `CONSUL_HTTP_ADDR`, `CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`,
    /// `CONSUL_HTTP_AUTH` and `CONSUL_HTTP_SSL` from the process environment.
    pub fn from_env() -> Config {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`] with an arbitrary variable lookup (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Config {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut config = Config::default();
        if let Some(addr) = non_empty("CONSUL_HTTP_ADDR") {
            config.address = addr;
        }
        config.token = non_empty("CONSUL_HTTP_TOKEN");
        config.token_file = non_empty("CONSUL_HTTP_TOKEN_FILE");
        config.http_auth = non_empty("CONSUL_HTTP_AUTH").map(|v| HttpAuth::parse(&v));
        config.ssl = non_empty("CONSUL_HTTP_SSL").is_some_and(|v| parse_go_bool(&v) == Some(true));
        config
    }

    /// Splits the address into scheme and `host:port`.
    pub fn endpoint(&self) -> Result<(Scheme, String)> {
        let default_scheme = if self.ssl {
            Scheme::Https
        } else {
            Scheme::Http
        };
        let (scheme, rest) = match self.address.split_once("://") {
            None => (default_scheme, self.address.as_str()),
            Some(("http", rest)) => (Scheme::Http, rest),
            Some(("https", rest)) => (Scheme::Https, rest),
            Some(("unix", _)) => {
                return Err(Error::Config(format!(
                    "unix socket addresses are not supported yet: {}",
                    self.address
                )));
            }
            Some((other, _)) => {
                return Err(Error::Config(format!("Unknown protocol scheme: {other}")));
            }
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() {
            return Err(Error::Config(format!(
                "invalid address: {:?}",
                self.address
            )));
        }
        Ok((scheme, host.to_string()))
    }

    /// The token to send: the token file's trimmed content if set and non-empty, else `token`.
    pub fn resolve_token(&self) -> Result<Option<String>> {
        if let Some(path) = &self.token_file {
            let data = std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("Error loading token file: {e}")))?;
            let trimmed = data.trim();
            if !trimmed.is_empty() {
                return Ok(Some(trimmed.to_string()));
            }
        }
        Ok(self.token.clone().filter(|t| !t.is_empty()))
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_without_env() {
        let c = Config::from_lookup(lookup(&[]));
        assert_eq!(c, Config::default());
        assert_eq!(
            c.endpoint().ok(),
            Some((Scheme::Http, "127.0.0.1:8500".into()))
        );
    }

    #[test]
    fn reads_env() {
        let c = Config::from_lookup(lookup(&[
            ("CONSUL_HTTP_ADDR", "http://10.0.0.1:8600"),
            ("CONSUL_HTTP_TOKEN", "tok"),
            ("CONSUL_HTTP_AUTH", "user:pa:ss"),
        ]));
        assert_eq!(
            c.endpoint().ok(),
            Some((Scheme::Http, "10.0.0.1:8600".into()))
        );
        assert_eq!(c.token.as_deref(), Some("tok"));
        let auth = c.http_auth.clone();
        assert_eq!(
            auth,
            Some(HttpAuth {
                username: "user".into(),
                password: Some("pa:ss".into())
            })
        );
        assert_eq!(HttpAuth::parse("bob").password, None);
    }

    #[test]
    fn schemes() {
        let mut c = Config {
            address: "https://h:1".into(),
            ..Config::default()
        };
        assert_eq!(c.endpoint().ok(), Some((Scheme::Https, "h:1".into())));
        c.address = "h:1".into();
        c.ssl = true;
        assert_eq!(c.endpoint().ok(), Some((Scheme::Https, "h:1".into())));
        c.address = "unix:///tmp/consul.sock".into();
        assert!(matches!(c.endpoint(), Err(Error::Config(_))));
        c.address = "ftp://x".into();
        assert!(c.endpoint().is_err());
    }

    #[test]
    fn token_file_wins() {
        let dir = std::env::temp_dir().join(format!("proconsul-api-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("token");
        assert!(std::fs::write(&path, "  filetok\n").is_ok());
        let c = Config {
            token: Some("flagtok".into()),
            token_file: Some(path.display().to_string()),
            ..Config::default()
        };
        assert_eq!(c.resolve_token().ok().flatten().as_deref(), Some("filetok"));
        let missing = Config {
            token_file: Some("/nonexistent/x".into()),
            ..Config::default()
        };
        assert!(missing.resolve_token().is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
