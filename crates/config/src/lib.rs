//! flags + HCL/JSON files -> validated RuntimeConfig.
//!
//! Sources, in order of precedence (later wins): Consul's defaults, the `-dev`
//! defaults, config files and directories (in command-line order), `-hcl`
//! fragments, then command-line flags. Scalars override, lists concatenate,
//! objects merge per key.

mod build;
pub use proconsul_types::duration;
mod error;
pub mod flags;
pub mod hcl;
mod legacy;
mod merge;
mod net;
mod runtime;
mod schema;
mod sources;
mod validate;
mod view;

pub use duration::{DurationError, format_go_duration, parse_go_duration};
pub use error::ConfigError;
pub use flags::{AgentFlags, ConfigPath, agent_usage, parse_agent_args};
pub use runtime::*;

use serde_json::{Map, Value};
use sources::{Format, Source};

/// Builds the runtime config; see [`load_with_warnings`].
pub fn load(flags: &AgentFlags) -> Result<RuntimeConfig, ConfigError> {
    load_with_warnings(flags).map(|(rt, _)| rt)
}

/// Builds and validates the runtime config from `flags` and the files they
/// name; also returns warnings (deprecated keys, odd `bootstrap_expect`, ...).
pub fn load_with_warnings(flags: &AgentFlags) -> Result<(RuntimeConfig, Vec<String>), ConfigError> {
    let dev = flags.dev.unwrap_or(false);
    let forced = flags
        .config_format
        .as_deref()
        .map(Format::from_flag)
        .transpose()?;
    let mut all: Vec<Source> = Vec::new();
    if dev {
        all.push(Source {
            name: "dev".to_string(),
            value: dev::dev_source(),
        });
    }
    for path in &flags.config_paths {
        all.extend(sources::load_path(path, forced)?);
    }
    for (i, fragment) in flags.hcl.iter().enumerate() {
        all.push(sources::parse_text(
            fragment,
            Format::Hcl,
            &format!("flags-{i}.hcl"),
        )?);
    }
    all.push(Source {
        name: "command-line flags".to_string(),
        value: flags::flags_source(flags),
    });
    let mut warnings = Vec::new();
    let merged = merge_sources(all, &mut warnings)?;
    let rt = build::build(&merged, dev)?;
    warnings.extend(validate::validate(&rt)?);
    Ok((rt, warnings))
}

/// Checks, normalises and merges sources in order.
fn merge_sources(all: Vec<Source>, warnings: &mut Vec<String>) -> Result<Value, ConfigError> {
    let mut merged = Value::Object(Map::new());
    for source in all {
        let checked = schema::check_source(source.value, &source.name)?;
        let normalized = legacy::normalize(checked, &source.name, warnings);
        merge::merge_into(&mut merged, normalized);
    }
    Ok(merged)
}

mod dev;
