//! ACL model (placeholder docs; completed below).

pub mod access;
pub mod authorizer;
pub mod merge;
pub mod model;
mod radix;
pub mod resolve;
pub mod rules;
