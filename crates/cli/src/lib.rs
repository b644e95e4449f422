//! the consul-compatible command tree
