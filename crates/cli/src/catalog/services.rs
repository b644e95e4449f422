//! `consul catalog services`.

use std::collections::BTreeMap;

use proconsul_api::Client;

use crate::catalog::no_args;
use crate::catalog::nodes::catalog_query;
use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_http_flags};
use crate::output::{Ui, tabwrite};

pub struct Services;

fn flag_set() -> FlagSet {
    with_http_flags(
        FlagSet::new()
            .string("node", "", "Node `id or name` for which to list services.")
            .map(
                "node-meta",
                "Metadata to filter nodes with the given `key=value` pairs. If specified, only \
                 services running on nodes matching the given metadata will be returned. This \
                 flag may be specified multiple times to filter on multiple sources of metadata.",
            )
            .bool(
                "tags",
                "Display each service's tags as a comma-separated list beside each service \
                 entry.",
            )
            .string("filter", "", "Filter to use with the request"),
    )
}

/// Service names with tags: from the whole catalog, or (`-node`) one node's services,
/// whose tags are concatenated per name as Consul does.
async fn fetch(client: &Client, m: &Matches) -> Result<BTreeMap<String, Vec<String>>, String> {
    let q = catalog_query(m);
    match m.get("node").filter(|n| !n.is_empty()) {
        Some(node) => match client.catalog().node(node, &q).await {
            Err(e) => Err(format!("Error listing services for node: {e}")),
            Ok((node, _)) => {
                let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for s in node.map(|n| n.services).unwrap_or_default().into_values() {
                    services.entry(s.service).or_default().extend(s.tags);
                }
                Ok(services)
            }
        },
        None => match client.catalog().services(&q).await {
            Ok((services, _)) => Ok(services),
            Err(e) => Err(format!("Error listing services: {e}")),
        },
    }
}

/// One name per line, or with tags: names padded by a tabwriter (padding 6), tags sorted
/// and comma-joined; the whole text trimmed.
pub fn format_services(services: &BTreeMap<String, Vec<String>>, tags: bool) -> String {
    if !tags {
        return services.keys().cloned().collect::<Vec<_>>().join("\n");
    }
    let mut text = String::new();
    for (name, tags) in services {
        let mut tags = tags.clone();
        tags.sort();
        text.push_str(&format!("{name}\t{}\n", tags.join(",")));
    }
    String::from_utf8_lossy(&tabwrite(text.as_bytes(), 0, 6))
        .trim()
        .to_string()
}

impl Command for Services {
    fn synopsis(&self) -> &'static str {
        "Lists all registered services in a datacenter"
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
            Ok(services) if services.is_empty() => {
                ui.error("No services match the given query - try expanding your search.");
                0
            }
            Ok(services) => {
                ui.info(&format_services(&services, m.bool("tags")));
                0
            }
        }
    }
}

const HELP: &str = r#"
Usage: consul catalog services [options]

  Retrieves the list services registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of services:

      $ consul catalog services

  To include the services' tags in the output:

      $ consul catalog services -tags

  To show services for a specific node:

      $ consul catalog services -node=web

  To filter services on node metadata:

      $ consul catalog services -node-meta="foo=bar"

  To filter services on any service information:

      $ consul catalog services -filter='ServiceMeta.env == production'

  For a full list of options and examples, please see the Consul documentation.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn services(v: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        v.iter()
            .map(|(n, t)| (n.to_string(), t.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn names_sorted_one_per_line() {
        let s = services(&[("redis", &["v1"]), ("consul", &[]), ("postgresql", &[])]);
        assert_eq!(format_services(&s, false), "consul\npostgresql\nredis");
    }

    #[test]
    fn tags_column_like_consul() {
        let s = services(&[
            ("redis", &["v1", "primary"]),
            ("consul", &[]),
            ("postgresql", &["leader"]),
        ]);
        assert_eq!(
            format_services(&s, true),
            // Go's tabwriter pads the empty-tags row too (trailing spaces kept).
            "consul          \npostgresql      leader\nredis           primary,v1"
        );
    }
}
