//! `consul catalog nodes`.

use std::collections::BTreeMap;

use proconsul_api::{Client, Node, QueryOptions};

use crate::catalog::no_args;
use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, query_options, runtime, with_partition_flag};
use crate::output::{Ui, columnize};

pub struct Nodes;

fn flag_set() -> FlagSet {
    with_partition_flag(
        FlagSet::new()
            .bool(
                "detailed",
                "Output detailed information about the nodes including their addresses and \
                 metadata.",
            )
            .string(
                "near",
                "",
                "Node name to sort the node list in ascending order based on estimated \
                 round-trip time from that node. Passing \"_agent\" will use this agent's node \
                 for sorting.",
            )
            .map(
                "node-meta",
                "Metadata to filter nodes with the given `key=value` pairs. This flag may be \
                 specified multiple times to filter on multiple sources of metadata.",
            )
            .string(
                "service",
                "",
                "Service `id or name` to filter nodes. Only nodes which are providing the given \
                 service will be returned.",
            )
            .string("filter", "", "Filter to use with the request"),
    )
}

/// The catalog query shared by both modes: `-near`, `-node-meta`, `-filter` (and `-stale`).
pub fn catalog_query(m: &Matches) -> QueryOptions {
    QueryOptions {
        near: m.get("near").map(str::to_string),
        node_meta: m.map("node-meta").into_iter().collect(),
        filter: m.get("filter").map(str::to_string),
        ..query_options(m)
    }
}

/// `k1=v1, k2=v2` in key order; empty for an empty map.
pub fn map_to_kv(map: &BTreeMap<String, String>, joiner: &str) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(joiner)
}

/// Consul's node table: `Node ID Address DC` (IDs cut at the first `-`), or with
/// `-detailed` full IDs plus `TaggedAddresses` and `Meta`.
pub fn format_nodes(nodes: &[Node], detailed: bool) -> String {
    let mut rows = Vec::with_capacity(nodes.len() + 1);
    let mut header = vec!["Node", "ID", "Address", "DC"];
    if detailed {
        header.extend(["TaggedAddresses", "Meta"]);
    }
    rows.push(header.into_iter().map(str::to_string).collect());
    for node in nodes {
        let id = match node.id.find('-') {
            Some(i) if i > 0 && !detailed => &node.id[..i],
            _ => node.id.as_str(),
        };
        let mut row = vec![
            node.node.clone(),
            id.to_string(),
            node.address.clone(),
            node.datacenter.clone(),
        ];
        if detailed {
            row.push(map_to_kv(&node.tagged_addresses, ", "));
            row.push(map_to_kv(&node.meta, ", "));
        }
        rows.push(row);
    }
    columnize(&rows)
}

async fn fetch(client: &Client, m: &Matches) -> Result<Vec<Node>, String> {
    let q = catalog_query(m);
    match m.get("service").filter(|s| !s.is_empty()) {
        Some(service) => match client.catalog().service(service, &q).await {
            Ok((instances, _)) => Ok(instances.iter().map(|s| s.to_node()).collect()),
            Err(e) => Err(format!("Error listing nodes for service: {e}")),
        },
        None => match client.catalog().nodes(&q).await {
            Ok((nodes, _)) => Ok(nodes),
            Err(e) => Err(format!("Error listing nodes: {e}")),
        },
    }
}

impl Command for Nodes {
    fn synopsis(&self) -> &'static str {
        "Lists all nodes in the given datacenter"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        if !no_args(&m.args, ui) {
            return 1;
        }
        let (Some(rt), Some(client)) = (runtime(ui), client(&m, ui)) else {
            return 1;
        };
        match rt.block_on(fetch(&client, &m)) {
            Err(msg) => {
                ui.error(&msg);
                1
            }
            Ok(nodes) if nodes.is_empty() => {
                ui.error("No nodes match the given query - try expanding your search.");
                0
            }
            Ok(nodes) => {
                ui.info(&format_nodes(&nodes, m.bool("detailed")));
                0
            }
        }
    }
}

const HELP: &str = r#"
Usage: consul catalog nodes [options]

  Retrieves the list nodes registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of nodes:

      $ consul catalog nodes

  To print detailed information including full node IDs, tagged addresses, and
  metadata information:

      $ consul catalog nodes -detailed

  To list nodes which are running a particular service:

      $ consul catalog nodes -service=web

  To filter by node metadata:

      $ consul catalog nodes -node-meta="foo=bar"

  To sort nodes by estimated round-trip time from node-web:

      $ consul catalog nodes -near=node-web

  To filter on node metadata with the filter expression:

      $ consul catalog nodes -filter='Meta.env == production'

  For a full list of options and examples, please see the Consul documentation.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, id: &str, addr: &str) -> Node {
        Node {
            id: id.into(),
            node: name.into(),
            address: addr.into(),
            datacenter: "dc1".into(),
            ..Node::default()
        }
    }

    #[test]
    fn simple_table_shortens_ids() {
        let nodes = [
            node(
                "worker-01",
                "1b662d97-8b5c-3cc2-0ac0-96f55ad423b5",
                "10.4.5.31",
            ),
            node("w2", "", "10.4.4.158"),
            node("w3", "-abc", "10.0.0.1"),
        ];
        assert_eq!(
            format_nodes(&nodes, false),
            "Node       ID        Address     DC\n\
             worker-01  1b662d97  10.4.5.31   dc1\n\
             w2                   10.4.4.158  dc1\n\
             w3         -abc      10.0.0.1    dc1"
        );
    }

    #[test]
    fn detailed_table_has_addresses_and_meta() {
        let mut n = node("worker-01", "1b662d97-8b5c", "10.4.5.31");
        n.tagged_addresses = [("wan", "10.4.5.31"), ("lan", "10.4.5.31")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        n.meta.insert("env".into(), "prod".into());
        assert_eq!(
            format_nodes(&[n], true),
            "Node       ID             Address    DC   TaggedAddresses               Meta\n\
             worker-01  1b662d97-8b5c  10.4.5.31  dc1  lan=10.4.5.31, wan=10.4.5.31  env=prod"
        );
    }

    #[test]
    fn query_from_flags() {
        let args: Vec<String> = ["-near=_agent", "-node-meta=a=b", "-filter=x", "-stale"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = flag_set().parse(&args).unwrap_or_default();
        let q = catalog_query(&m);
        assert_eq!(q.near.as_deref(), Some("_agent"));
        assert_eq!(q.node_meta, vec![("a".to_string(), "b".to_string())]);
        assert_eq!(q.filter.as_deref(), Some("x"));
        assert!(q.stale);
    }
}
