//! Raft (openraft) behind a narrow API
proconsul-consensus = { path = "crates/consensus" }
