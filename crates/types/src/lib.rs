//! wire and domain types with Consul's exact JSON shapes
