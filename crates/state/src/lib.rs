//! the deterministic replicated state machine
