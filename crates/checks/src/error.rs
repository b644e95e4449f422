//! Errors raised while preparing a check. Probe failures are not errors: they are
//! critical [`crate::CheckResult`]s whose output carries the reason, as in Consul.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CheckError {
    /// The definition is unusable (empty args, bad address, zero TTL...).
    #[error("invalid check definition: {0}")]
    Invalid(String),
    /// The TLS client configuration could not be built.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The HTTP client could not be built.
    #[error("HTTP client setup failed: {0}")]
    HttpClient(String),
    /// The Docker client could not be created.
    #[error("docker client setup failed: {0}")]
    Docker(String),
    /// `update` was called on a handle that is not a TTL check.
    #[error("check is not a TTL check")]
    NotTtl,
}
