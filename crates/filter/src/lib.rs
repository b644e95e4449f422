//! the ?filter= expression language (go-bexpr grammar)
