//! wires an agent: consensus, leader duties, HTTP
