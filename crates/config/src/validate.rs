//! Validation of the built config, with Consul's messages and warnings.

use std::collections::BTreeMap;

use crate::ConfigError;
use crate::runtime::RuntimeConfig;

fn valid_dc(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// Consul's `structs.ValidateMetadata` for node meta.
fn validate_meta(meta: &BTreeMap<String, String>) -> Result<(), String> {
    if meta.len() > 64 {
        return Err("Node metadata cannot contain more than 64 key/value pairs".to_string());
    }
    for (k, v) in meta {
        if k.is_empty() {
            return Err("Key cannot be blank".to_string());
        }
        if k.len() > 128 {
            return Err(format!("Key is too long (limit: 128 characters): {k:?}"));
        }
        if !k
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return Err(format!("Key contains invalid characters: {k:?}"));
        }
        if k.starts_with("consul-") {
            return Err(format!(
                "Key prefix 'consul-' is reserved for internal use: {k:?}"
            ));
        }
        if v.len() > 512 {
            return Err(format!("Value is too long (limit: 512 characters): {v:?}"));
        }
    }
    Ok(())
}

/// Validates `rt`; returns warnings for suspicious but legal settings.
pub(crate) fn validate(rt: &RuntimeConfig) -> Result<Vec<String>, ConfigError> {
    if rt.datacenter.is_empty() {
        return Err(invalid("datacenter cannot be empty"));
    }
    for (key, dc) in [
        ("datacenter", &rt.datacenter),
        ("primary_datacenter", &rt.primary_datacenter),
    ] {
        if !valid_dc(dc) {
            return Err(invalid(format!(
                "{key} cannot be {dc:?}. Please use only [a-z0-9-_]."
            )));
        }
    }
    match &rt.data_dir {
        None if !rt.dev_mode => return Err(invalid("data_dir cannot be empty")),
        Some(dir) if !rt.dev_mode && dir.exists() && !dir.is_dir() => {
            return Err(invalid(format!(
                "data_dir {:?} is not a directory",
                dir.display().to_string()
            )));
        }
        _ => {}
    }
    if rt.node_name.is_empty() {
        return Err(invalid("node_name cannot be empty"));
    }
    validate_server_flags(rt)?;
    validate_meta(&rt.node_meta).map_err(|e| invalid(format!("node_meta invalid: {e}")))?;
    Ok(warnings(rt))
}

fn validate_server_flags(rt: &RuntimeConfig) -> Result<(), ConfigError> {
    if rt.bootstrap && !rt.server {
        return Err(invalid("'bootstrap = true' requires 'server = true'"));
    }
    if rt.bootstrap_expect > 0 && !rt.server {
        return Err(invalid("'bootstrap_expect > 0' requires 'server = true'"));
    }
    if rt.bootstrap_expect > 0 && rt.dev_mode {
        return Err(invalid("'bootstrap_expect > 0' not allowed in dev mode"));
    }
    if rt.bootstrap_expect > 0 && rt.bootstrap {
        return Err(invalid(
            "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive",
        ));
    }
    Ok(())
}

/// A DNS label: letters, digits and dashes, at most 63 characters.
fn dns_safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

fn warnings(rt: &RuntimeConfig) -> Vec<String> {
    let mut w = Vec::new();
    if !dns_safe(&rt.node_name) {
        w.push(format!(
            "Node name {:?} will not be discoverable via DNS due to invalid characters. Valid characters include all alpha-numerics and dashes.",
            rt.node_name
        ));
    }
    let n = rt.bootstrap_expect;
    if rt.server && !rt.dev_mode && !rt.bootstrap && n == 2 {
        w.push("bootstrap_expect = 2: A cluster with 2 servers will provide no failure tolerance. See https://developer.hashicorp.com/consul/docs/architecture/consensus#deployment-table".to_string());
    }
    if rt.server && !rt.bootstrap && n > 2 && n.is_multiple_of(2) {
        w.push("bootstrap_expect is even number: A cluster with an even number of servers does not achieve optimum fault tolerance. See https://developer.hashicorp.com/consul/docs/architecture/consensus#deployment-table".to_string());
    }
    if rt.server && rt.bootstrap && n == 0 && !rt.dev_mode {
        w.push("bootstrap = true: do not enable unless necessary".to_string());
    }
    if rt.server && !rt.dev_mode && !rt.bootstrap && n > 1 {
        w.push(format!("bootstrap_expect > 0: expecting {n} servers"));
    }
    w
}
