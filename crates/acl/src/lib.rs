//! ACL model (placeholder docs; completed below).

pub mod access;
pub mod authorizer;
pub mod merge;
mod radix;
pub mod rules;
