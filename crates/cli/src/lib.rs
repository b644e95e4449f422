//! the consul-compatible command tree
proconsul-cli = { path = "crates/cli" }
