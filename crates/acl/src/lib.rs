//! ACL model (placeholder docs; completed below).

pub mod access;
pub mod rules;
