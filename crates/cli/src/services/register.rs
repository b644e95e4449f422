//! `consul services register`.

use serde_json::{Map, Value, json};

use crate::commands::{Command, parse_flags};
use crate::flags::{FlagSet, Matches};
use crate::http::{client, runtime, with_http_flags};
use crate::output::{Ui, go_quote};
use crate::services::{find_key, load_or_report, str_field};

pub struct Register;

fn flag_set() -> FlagSet {
    with_http_flags(
        FlagSet::new()
            .string(
                "id",
                "",
                "ID of the service to register for arg-based registration. If this isn't set, \
                 it will default to the -name value.",
            )
            .string(
                "name",
                "",
                "Name of the service to register for arg-based registration.",
            )
            .string(
                "address",
                "",
                "Address of the service to register for arg-based registration.",
            )
            .int(
                "port",
                "Port of the service to register for arg-based registration.",
            )
            .string(
                "socket",
                "",
                "Path to the Unix domain socket to register for arg-based registration \
                 (conflicts with address and port).",
            )
            .map(
                "meta",
                "Metadata to set on the service, formatted as key=value. This flag may be \
                 specified multiple times to set multiple meta fields.",
            )
            .list(
                "tag",
                "Tag to add to the service. This flag can be specified multiple times to set \
                 multiple tags.",
            )
            .map(
                "tagged-address",
                "Tagged address to set on the service, formatted as key=value. This flag may be \
                 specified multiple times to set multiple addresses.",
            )
            .string("kind", "", "The services 'kind'"),
    )
}

/// Go's `net.SplitHostPort` + `strconv.Atoi`, as `api.ParseServiceAddr` uses them.
pub fn parse_service_addr(addr: &str) -> Result<(String, i64), String> {
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("address {addr}: missing ']' in address"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("address {addr}: missing port in address"))?;
        (host, port)
    } else {
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| format!("address {addr}: missing port in address"))?;
        if host.contains(':') {
            return Err(format!("address {addr}: too many colons in address"));
        }
        (host, port)
    };
    let port = port
        .parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(port)))?;
    Ok((host.to_string(), port))
}

/// The definition the flags describe, with the `omitempty` fields of Go's
/// `AgentServiceRegistration` left out.
fn definition_from_flags(m: &Matches) -> Result<Map<String, Value>, String> {
    let mut def = Map::new();
    for (flag, key) in [
        ("kind", "Kind"),
        ("id", "ID"),
        ("name", "Name"),
        ("address", "Address"),
        ("socket", "SocketPath"),
    ] {
        if let Some(v) = m.get(flag).filter(|v| !v.is_empty()) {
            def.insert(key.into(), json!(v));
        }
    }
    if m.int("port") != 0 {
        def.insert("Port".into(), json!(m.int("port")));
    }
    if !m.list("tag").is_empty() {
        def.insert("Tags".into(), json!(m.list("tag")));
    }
    if !m.map("meta").is_empty() {
        def.insert("Meta".into(), json!(m.map("meta")));
    }
    let mut tagged = Map::new();
    for (k, v) in m.map("tagged-address") {
        let (address, port) =
            parse_service_addr(&v).map_err(|e| format!("Invalid Tagged Address: {e}"))?;
        tagged.insert(k, json!({"Address": address, "Port": port}));
    }
    if !tagged.is_empty() {
        def.insert("TaggedAddresses".into(), Value::Object(tagged));
    }
    Ok(def)
}

/// Consul's `CombineArgs`: flag values fill what a file definition leaves unset; meta and
/// tagged addresses from flags win per key; flag tags are appended.
pub fn combine(file: &mut Map<String, Value>, flags: &Map<String, Value>) {
    for field in ["ID", "Name", "Address", "Port", "Kind", "SocketPath"] {
        let Some(v) = flags.get(field) else { continue };
        let unset = match find_key(file, field).and_then(|k| file.get(&k)) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(_) => false,
        };
        if unset {
            let key = find_key(file, field).unwrap_or_else(|| field.to_string());
            file.insert(key, v.clone());
        }
    }
    for field in ["Meta", "TaggedAddresses"] {
        let Some(Value::Object(extra)) = flags.get(field) else {
            continue;
        };
        let key = find_key(file, field).unwrap_or_else(|| field.to_string());
        let entry = file.entry(key).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        if let Value::Object(map) = entry {
            map.extend(extra.clone());
        }
    }
    if let Some(Value::Array(tags)) = flags.get("Tags") {
        let key = find_key(file, "Tags").unwrap_or_else(|| "Tags".to_string());
        let entry = file.entry(key).or_insert_with(|| json!([]));
        if !entry.is_array() {
            *entry = json!([]);
        }
        if let Value::Array(list) = entry {
            list.extend(tags.iter().cloned());
        }
    }
}

async fn register_all(m: &Matches, defs: &[Map<String, Value>], ui: &mut Ui<'_>) -> i32 {
    let Some(client) = client(m, ui) else {
        return 1;
    };
    for def in defs {
        let name = str_field(def, "Name");
        if let Err(e) = client
            .agent()
            .service_register(&Value::Object(def.clone()))
            .await
        {
            ui.error(&format!(
                "Error registering service {}: {e}",
                go_quote(&name)
            ));
            return 1;
        }
        ui.info(&format!("Registered service: {name}"));
    }
    0
}

impl Command for Register {
    fn synopsis(&self) -> &'static str {
        "Register services with the local agent"
    }

    fn help(&self) -> String {
        flag_set().consul_help(HELP)
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        let from_flags = match definition_from_flags(&m) {
            Ok(def) => def,
            Err(msg) => {
                ui.error(&msg);
                return 1;
            }
        };
        let name_given = m.get("name").is_some_and(|n| !n.is_empty());
        if m.args.is_empty() && !name_given {
            ui.error("Service registration requires at least one argument or flags.");
            return 1;
        }
        if !m.args.is_empty() && name_given {
            ui.error("Service registration requires arguments or -id, not both.");
            return 1;
        }
        let mut defs = Vec::new();
        if !m.args.is_empty() {
            let Some(loaded) = load_or_report(&m.args, ui) else {
                return 1;
            };
            defs = loaded;
            for def in &mut defs {
                combine(def, &from_flags);
            }
        }
        if defs.is_empty() {
            defs.push(from_flags);
        }
        let Some(rt) = runtime(ui) else {
            return 1;
        };
        rt.block_on(register_all(&m, &defs, ui))
    }
}

const HELP: &str = r#"
Usage: consul services register [options] [FILE...]

  Register one or more services using the local agent API. Services can
  be registered from standard Consul configuration files (HCL or JSON) or
  using flags. The service is registered and the command returns. The caller
  must remember to call "consul services deregister" or a similar API to
  deregister the service when complete.

      $ consul services register web.json

  Additional flags and more advanced use cases are detailed below.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(args: &[&str]) -> Matches {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        flag_set().parse(&args).unwrap_or_default()
    }

    #[test]
    fn flags_build_a_go_shaped_definition() {
        let m = matches(&[
            "-name=web",
            "-port=8080",
            "-tag=a",
            "-tag=b",
            "-meta=env=prod",
            "-tagged-address=lan=10.0.0.1:80",
        ]);
        let def = definition_from_flags(&m).unwrap_or_default();
        assert_eq!(
            Value::Object(def),
            json!({"Name":"web","Port":8080,"Tags":["a","b"],"Meta":{"env":"prod"},
                   "TaggedAddresses":{"lan":{"Address":"10.0.0.1","Port":80}}})
        );
        let bad = definition_from_flags(&matches(&["-tagged-address=lan=10.0.0.1"]));
        assert_eq!(
            bad,
            Err("Invalid Tagged Address: address 10.0.0.1: missing port in address".into())
        );
    }

    #[test]
    fn service_addresses_like_go() {
        assert_eq!(parse_service_addr("[::1]:80"), Ok(("::1".into(), 80)));
        assert_eq!(
            parse_service_addr("::1:80"),
            Err("address ::1:80: too many colons in address".into())
        );
        assert_eq!(
            parse_service_addr("h:x"),
            Err("strconv.Atoi: parsing \"x\": invalid syntax".into())
        );
    }

    #[test]
    fn flags_fill_gaps_in_file_definitions() {
        let mut file: Map<String, Value> =
            serde_json::from_str(r#"{"name":"web","port":0,"tags":["x"],"meta":{"a":"1"}}"#)
                .unwrap_or_default();
        let flags: Map<String, Value> = serde_json::from_str(
            r#"{"Name":"other","Port":81,"ID":"web-1","Tags":["y"],"Meta":{"a":"2","b":"3"}}"#,
        )
        .unwrap_or_default();
        combine(&mut file, &flags);
        assert_eq!(
            Value::Object(file),
            json!({"name":"web","port":81,"ID":"web-1","tags":["x","y"],"meta":{"a":"2","b":"3"}})
        );
    }

    #[test]
    fn argument_errors() {
        let run = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let (mut out, mut err, mut input) = (Vec::new(), Vec::new(), std::io::empty());
            let code = {
                let mut ui = Ui {
                    out: &mut out,
                    err: &mut err,
                    stdin: &mut input,
                };
                Register.run(&args, &mut ui)
            };
            (code, String::from_utf8_lossy(&err).to_string())
        };
        assert_eq!(
            run(&[]),
            (
                1,
                "Service registration requires at least one argument or flags.\n".into()
            )
        );
        assert_eq!(
            run(&["-name=web", "file.json"]),
            (
                1,
                "Service registration requires arguments or -id, not both.\n".into()
            )
        );
    }
}
