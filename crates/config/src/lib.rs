//! flags + HCL/JSON files -> validated RuntimeConfig
mod error;
pub mod duration;
pub mod flags;
pub mod hcl;
pub use error::ConfigError;
