//! `consul services ...`: register and deregister services with the local agent.

pub mod deregister;
pub mod register;

use std::path::PathBuf;

use proconsul_config::{AgentFlags, ConfigError, ConfigPath};
use serde_json::{Map, Value};

use crate::commands::{Command, RUN_RESULT_HELP};
use crate::output::Ui;

/// `consul services`: only lists its subcommands.
pub struct ServicesCommand;

impl Command for ServicesCommand {
    fn synopsis(&self) -> &'static str {
        "Interact with services"
    }

    fn help(&self) -> String {
        HELP.trim().to_string()
    }

    fn run(&self, _args: &[String], _ui: &mut Ui) -> i32 {
        RUN_RESULT_HELP
    }
}

const HELP: &str = r#"
Usage: consul services <subcommand> [options] [args]

  This command has subcommands for interacting with services. The subcommands
  default to working with services registered with the local agent. Please see
  the "consul catalog" command for interacting with the entire catalog.

  For more examples, ask for subcommand help or view the documentation.
"#;

/// Why service definitions could not be read from files.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    /// The files do not load as agent config files (unreadable, bad syntax, unknown keys).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A `service`/`services` entry that is not an object.
    #[error("service definition #{index} is not an object")]
    NotAnObject { index: usize },
}

/// Service definitions as written (snake_case keys), and the loader's warnings.
pub type Definitions = (Vec<Map<String, Value>>, Vec<String>);

/// Consul's `ServicesFromFiles`: the files load as agent config files (in dev mode, JSON or
/// HCL by extension, `service { }` and `services [ ]` alike); their service definitions come
/// back as written (snake_case keys), plus the loader's warnings.
pub fn services_from_files(files: &[String]) -> Result<Definitions, ServicesError> {
    let flags = AgentFlags {
        dev: Some(true),
        config_paths: files
            .iter()
            .map(|f| ConfigPath::File(PathBuf::from(f)))
            .collect(),
        ..AgentFlags::default()
    };
    let (config, warnings) = proconsul_config::load_with_warnings(&flags)?;
    let services = config
        .services
        .into_iter()
        .enumerate()
        .map(|(index, v)| match v {
            Value::Object(map) => Ok(map),
            _ => Err(ServicesError::NotAnObject { index }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((services, warnings))
}

/// Loads definitions from files, printing warnings; `None` (after printing Consul's
/// `Error: ...`) when they cannot be loaded.
pub fn load_or_report(files: &[String], ui: &mut Ui) -> Option<Vec<Map<String, Value>>> {
    match services_from_files(files) {
        Ok((services, warnings)) => {
            for w in warnings {
                ui.error(&w);
            }
            Some(services)
        }
        Err(e) => {
            ui.error(&format!("Error: {e}"));
            None
        }
    }
}

/// The key of `def` that means `field` (the agent's decoder ignores case and underscores).
pub fn find_key(def: &Map<String, Value>, field: &str) -> Option<String> {
    let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let want = norm(field);
    def.keys().find(|k| norm(k) == want).cloned()
}

/// A string field of a definition, `""` when absent or not a string.
pub fn str_field(def: &Map<String, Value>, field: &str) -> String {
    find_key(def, field)
        .and_then(|k| def.get(&k).and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lookup_ignores_case_and_underscores() {
        let def: Map<String, Value> =
            serde_json::from_str(r#"{"Name":"web","socket_path":"/s","ID":7}"#).unwrap_or_default();
        assert_eq!(str_field(&def, "name"), "web");
        assert_eq!(find_key(&def, "SocketPath").as_deref(), Some("socket_path"));
        assert_eq!(str_field(&def, "id"), "");
        assert_eq!(str_field(&def, "address"), "");
    }

    #[test]
    fn loads_hcl_and_json_definitions() {
        let dir = std::env::temp_dir().join(format!("pc-svc-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let hcl = dir.join("web.hcl");
        let json = dir.join("db.json");
        let _ = std::fs::write(&hcl, "service {\n  name = \"web\"\n  port = 80\n}\n");
        let _ = std::fs::write(
            &json,
            r#"{"services":[{"name":"db","id":"db1"},{"name":"cache"}]}"#,
        );
        let files = [hcl.display().to_string(), json.display().to_string()];
        let (services, _) = services_from_files(&files).unwrap_or_default();
        let names: Vec<String> = services.iter().map(|s| str_field(s, "name")).collect();
        assert_eq!(names, ["web", "db", "cache"]);
        assert_eq!(services[0]["port"], 80);
        let missing = services_from_files(&[dir.join("nope.json").display().to_string()]);
        assert!(matches!(missing, Err(ServicesError::Config(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
