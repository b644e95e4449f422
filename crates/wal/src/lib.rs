//! durable segmented write-ahead log
proconsul-wal = { path = "crates/wal" }
