//! The `-dev` source: merged right after the defaults, before any file.

use serde_json::{Value, json};

/// Consul's dev-mode overrides (§5.3): single-node bootstrapped server on
/// loopback, UI, debug logs, Connect, gRPC on 8502, fast Raft.
pub(crate) fn dev_source() -> Value {
    json!({
        "bootstrap": true,
        "server": true,
        "bind_addr": "127.0.0.1",
        "client_addr": "127.0.0.1",
        "ui_config": { "enabled": true },
        "log_level": "DEBUG",
        "disable_anonymous_signature": true,
        "disable_keyring_file": true,
        "enable_debug": true,
        "connect": { "enabled": true },
        "performance": { "raft_multiplier": 1 },
        "ports": { "grpc": 8502 }
    })
}
