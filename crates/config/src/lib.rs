//! flags + HCL/JSON files -> validated RuntimeConfig
proconsul-config = { path = "crates/config" }
