//! wire and domain types with Consul's exact JSON shapes
proconsul-types = { path = "crates/types" }
