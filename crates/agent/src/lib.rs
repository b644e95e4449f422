//! wires an agent: consensus, leader duties, HTTP
proconsul-agent = { path = "crates/agent" }
