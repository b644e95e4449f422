//! the ?filter= expression language (go-bexpr grammar)
proconsul-filter = { path = "crates/filter" }
