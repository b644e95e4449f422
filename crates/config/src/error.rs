//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while parsing flags or building the runtime config.
///
/// Messages follow Consul's texts where Consul has one; otherwise they name the
/// offending key and the source (file path, `command-line flags`, `flags-0.hcl`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `-h` / `-help` was given; carries the usage text.
    #[error("{0}")]
    Help(String),
    /// A command-line flag problem, with Go's `flag` package wording.
    #[error("{0}")]
    Flag(String),
    /// A config file or directory could not be read.
    #[error("config: failed to read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file (or `-hcl` fragment) is not valid JSON/HCL.
    #[error("config: failed to parse {source_name}: {message}")]
    Parse {
        /// File path or source name.
        source_name: String,
        /// The parser's message.
        message: String,
    },
    /// A file whose format cannot be told from its extension.
    #[error(
        "config: {path}: unsupported config format: files must end in .json or .hcl (or use -config-format)"
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },
    /// A key that Consul does not know.
    #[error("unknown configuration key {key:?} in {source_name}")]
    UnknownKey {
        /// Dotted key path, e.g. `ports.htp`.
        key: String,
        /// File path or source name.
        source_name: String,
    },
    /// A key whose value has the wrong type or is out of range.
    #[error("config: {source_name}: invalid value for {key:?}: expected {expected}, got {got}")]
    InvalidValue {
        /// File path or source name.
        source_name: String,
        /// Dotted key path.
        key: String,
        /// What was expected (e.g. `integer`, `duration`).
        expected: String,
        /// The offending value as written.
        got: String,
    },
    /// A key that Consul removed; carries Consul's explanation.
    #[error("config: {source_name}: {message}")]
    Removed {
        /// File path or source name.
        source_name: String,
        /// Explanation.
        message: String,
    },
    /// A validation failure of the merged config, with Consul's wording
    /// (e.g. `data_dir cannot be empty`).
    #[error("{0}")]
    Invalid(String),
}
