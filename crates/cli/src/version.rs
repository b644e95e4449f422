//! `consul version`: Consul's text and JSON formats, reporting the Consul release we match
//! (so version-sniffing scripts and clients keep working) plus proconsul's own version.

use proconsul_types::version::{
    CONSUL_COMPAT_VERSION, PROCONSUL_VERSION, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN,
};

use crate::commands::{Command, parse_flags};
use crate::flags::FlagSet;
use crate::output::{Ui, go_json_string};

/// Git revision of this build.
pub const REVISION: &str = env!("PROCONSUL_GIT_REVISION");
/// Commit date of this build, RFC 3339 UTC.
pub const BUILD_DATE: &str = env!("PROCONSUL_BUILD_DATE");
/// The RPC protocol spoken by default (Consul's `DefaultRPCProtocol`).
const PROTOCOL_DEFAULT: u8 = 2;

pub struct Version;

fn flag_set() -> FlagSet {
    FlagSet::new().string("format", "pretty", "Output format {pretty|json}")
}

/// The text format: Consul's lines, with a proconsul line before the protocol line.
pub fn pretty() -> String {
    let mut out = format!("Consul v{CONSUL_COMPAT_VERSION}\n");
    out.push_str(&format!("Revision {REVISION}\n"));
    out.push_str(&format!("Build Date {BUILD_DATE}\n"));
    out.push_str(&format!(
        "Proconsul v{PROCONSUL_VERSION} (Consul-compatible)\n"
    ));
    let supplement = if PROTOCOL_DEFAULT < PROTOCOL_VERSION_MAX {
        format!(
            " (agent will automatically use protocol >{PROTOCOL_DEFAULT} when speaking to compatible agents)"
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "Protocol {PROTOCOL_DEFAULT} spoken by default, understands {PROTOCOL_VERSION_MIN} to {PROTOCOL_VERSION_MAX}{supplement}\n"
    ));
    out
}

/// The JSON format: Go's `MarshalIndent(info, "", "   ")` of Consul's `VersionInfo`
/// (`FIPS` is omitted when empty, as in Consul), plus a `Proconsul` field.
pub fn json() -> String {
    let field = |k: &str, v: &str| format!("   \"{k}\": {},\n", go_json_string(v));
    let mut out = String::from("{\n");
    out.push_str(&field("Version", CONSUL_COMPAT_VERSION));
    out.push_str(&field("Revision", REVISION));
    out.push_str(&field("Prerelease", ""));
    out.push_str(&field("BuildDate", BUILD_DATE));
    out.push_str(&format!(
        "   \"RPC\": {{\n      \"Default\": {PROTOCOL_DEFAULT},\n      \"Min\": {PROTOCOL_VERSION_MIN},\n      \"Max\": {PROTOCOL_VERSION_MAX}\n   }},\n"
    ));
    out.push_str(&format!(
        "   \"Proconsul\": {}\n}}",
        go_json_string(PROCONSUL_VERSION)
    ));
    out
}

impl Command for Version {
    fn synopsis(&self) -> &'static str {
        "Prints the Consul version"
    }

    fn help(&self) -> String {
        flag_set().consul_help("\nUsage: consul version [options]\n")
    }

    fn run(&self, args: &[String], ui: &mut Ui) -> i32 {
        let set = flag_set();
        let Some(m) = parse_flags(&set, args, ui) else {
            return 1;
        };
        match m.string_or("format", "pretty") {
            "pretty" => ui.info(&pretty()),
            "json" => ui.info(&json()),
            other => {
                ui.error(&format!("Unknown format: {other}"));
                return 1;
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_starts_with_consul_version() {
        let text = pretty();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Consul v1.22.0");
        assert!(lines[1].starts_with("Revision "));
        assert!(lines[2].starts_with("Build Date "));
        assert!(lines[3].starts_with("Proconsul v"));
        assert_eq!(
            lines[4],
            "Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)"
        );
    }

    #[test]
    fn json_is_valid_and_ordered() {
        let text = json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(v["Version"], "1.22.0");
        assert_eq!(v["Prerelease"], "");
        assert_eq!(v["RPC"]["Max"], 3);
        assert!(text.starts_with("{\n   \"Version\": \"1.22.0\",\n   \"Revision\": "));
    }
}
