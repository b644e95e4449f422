//! the deterministic replicated state machine
proconsul-state = { path = "crates/state" }
