//! Raft (openraft) behind a narrow API
