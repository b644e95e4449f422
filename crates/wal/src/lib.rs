//! durable segmented write-ahead log
