//! End-to-end tests of `consul kv ...` and `consul version`: the real binary against a real
//! dev agent started by the harness. Expected texts are Consul's own.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Agent, fails, ok, stderr, stdout};

/// Runs the binary with no agent involved.
fn run_bin(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_remove("CONSUL_HTTP_ADDR")
        .env_remove("CONSUL_HTTP_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run binary")
}

/// The value of one `-detailed` row, e.g. `ModifyIndex`.
fn detailed_field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|rest| rest.trim().to_string())
        .unwrap_or_else(|| panic!("no {name} row in {text:?}"))
}

fn modify_index(agent: &Agent, key: &str) -> u64 {
    let detailed = ok(agent.cli(&["kv", "get", "-detailed", key]));
    detailed_field(&detailed, "ModifyIndex")
        .parse()
        .expect("ModifyIndex is a number")
}

fn create_session(agent: &Agent) -> String {
    let mut resp = ureq::put(&agent.url("/v1/session/create"))
        .send(r#"{"Name":"cli-test","TTL":"60s"}"#)
        .expect("create session");
    let body = resp.body_mut().read_to_string().expect("session body");
    let v: serde_json::Value = serde_json::from_str(&body).expect("session JSON");
    v["ID"].as_str().expect("session ID").to_string()
}

#[test]
fn put_get_delete_round_trip() {
    let agent = Agent::start_dev();
    assert_eq!(
        ok(agent.cli(&["kv", "put", "a", "b"])),
        "Success! Data written to: a\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "get", "a"])), "b\n");
    assert_eq!(ok(agent.cli(&["kv", "get", "/a"])), "b\n");
    assert_eq!(
        ok(agent.cli(&["kv", "put", "empty"])),
        "Success! Data written to: empty\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "get", "empty"])), "\n");
    assert_eq!(ok(agent.cli(&["kv", "get", "-base64", "a"])), "Yg==\n");
    assert_eq!(
        ok(agent.cli(&["kv", "delete", "a"])),
        "Success! Deleted key: a\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "get", "a"])),
        "Error! No key exists at: a\n"
    );
    // Deleting a missing key is not an error.
    assert_eq!(
        ok(agent.cli(&["kv", "delete", "a"])),
        "Success! Deleted key: a\n"
    );
}

#[test]
fn missing_key_and_argument_errors() {
    let agent = Agent::start_dev();
    assert_eq!(
        fails(agent.cli(&["kv", "get", "nope"])),
        "Error! No key exists at: nope\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "get"])),
        "Error! Missing KEY argument\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "get", "a", "b"])),
        "Too many arguments (expected 1, got 2)\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "put"])),
        "Error! Missing KEY argument\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "delete"])),
        "Error! Missing KEY argument\n"
    );
}

#[test]
fn recurse_keys_and_separator() {
    let agent = Agent::start_dev();
    for (k, v) in [
        ("web/a", "1"),
        ("web/b", "2"),
        ("web/sub/c", "3"),
        ("other", "x"),
    ] {
        ok(agent.cli(&["kv", "put", k, v]));
    }
    assert_eq!(
        ok(agent.cli(&["kv", "get", "-recurse", "web"])),
        "web/a:1\nweb/b:2\nweb/sub/c:3\n"
    );
    assert_eq!(
        ok(agent.cli(&["kv", "get", "-recurse", "-base64", "web/s"])),
        "web/sub/c:Mw==\n"
    );
    assert_eq!(
        ok(agent.cli(&["kv", "get", "-keys", "web/"])),
        "web/a\nweb/b\nweb/sub/\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "get", "-keys"])), "other\nweb/\n");
    assert_eq!(
        ok(agent.cli(&["kv", "get", "-keys", "-separator=", "web/"])),
        "web/a\nweb/b\nweb/sub/c\n"
    );
    assert_eq!(
        ok(agent.cli(&["kv", "get", "-keys", "-recurse", "web/sub"])),
        "web/sub/c\n"
    );
    // An empty prefix listing prints nothing and succeeds.
    assert_eq!(
        ok(agent.cli(&["kv", "get", "-recurse", "nothing-here"])),
        ""
    );
    assert_eq!(
        ok(agent.cli(&["kv", "delete", "-recurse", "web"])),
        "Success! Deleted keys with prefix: web\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "get", "-recurse", "web"])), "");
    assert_eq!(ok(agent.cli(&["kv", "get", "other"])), "x\n");
}

#[test]
fn detailed_output_and_flags() {
    let agent = Agent::start_dev();
    assert_eq!(
        ok(agent.cli(&["kv", "put", "-flags=42", "d", "val"])),
        "Success! Data written to: d\n"
    );
    let out = ok(agent.cli(&["kv", "get", "-detailed", "d"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out:?}");
    let names = [
        "CreateIndex",
        "Flags",
        "Key",
        "LockIndex",
        "ModifyIndex",
        "Session",
        "Value",
    ];
    for (line, name) in lines.iter().zip(names) {
        assert!(line.starts_with(name), "{line:?}");
        // The value column starts at byte 17 (tab-aligned like Go's tabwriter).
        assert_eq!(line.get(..17).map(str::trim_end), Some(name), "{line:?}");
        assert!(!line[17..].starts_with(' '), "{line:?}");
    }
    assert_eq!(lines[1], "Flags            42");
    assert_eq!(lines[2], "Key              d");
    assert_eq!(lines[3], "LockIndex        0");
    assert_eq!(lines[5], "Session          -");
    assert_eq!(lines[6], "Value            val");
    assert!(out.ends_with("val\n"));
    // A PUT without -flags resets them to 0.
    ok(agent.cli(&["kv", "put", "d", "val2"]));
    assert_eq!(
        detailed_field(&ok(agent.cli(&["kv", "get", "-detailed", "d"])), "Flags"),
        "0"
    );
    // -recurse -detailed separates entries with a blank line.
    ok(agent.cli(&["kv", "put", "d2", "x"]));
    let both = ok(agent.cli(&["kv", "get", "-recurse", "-detailed", "d"]));
    assert_eq!(both.matches("CreateIndex").count(), 2);
    assert!(
        both.contains("Value            val2\n\nCreateIndex"),
        "{both:?}"
    );
}

#[test]
fn cas_and_modify_index() {
    let agent = Agent::start_dev();
    ok(agent.cli(&["kv", "put", "k", "v1"]));
    let index = modify_index(&agent, "k");
    let stale = (index + 100).to_string();
    assert_eq!(
        fails(agent.cli(&[
            "kv",
            "put",
            "-cas",
            &format!("-modify-index={stale}"),
            "k",
            "v2"
        ])),
        "Error! Did not write to k: CAS failed\n"
    );
    assert_eq!(
        ok(agent.cli(&[
            "kv",
            "put",
            "-cas",
            "-modify-index",
            &index.to_string(),
            "k",
            "v2"
        ])),
        "Success! Data written to: k\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "get", "k"])), "v2\n");
    assert_eq!(
        fails(agent.cli(&["kv", "put", "-cas", "-modify-index=0", "k", "v3"])),
        "Error! Did not write to k: CAS performed with index=0 and key already exists.\n"
    );
    assert_eq!(
        ok(agent.cli(&["kv", "put", "-cas", "new", "v"])),
        "Success! Data written to: new\n"
    );

    let index = modify_index(&agent, "k");
    assert_eq!(
        fails(agent.cli(&[
            "kv",
            "delete",
            "-cas",
            &format!("-modify-index={}", index + 100),
            "k"
        ])),
        "Error! Did not delete key k: CAS failed\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "delete", "-cas", "k"])),
        "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.\n"
    );
    assert_eq!(
        fails(agent.cli(&["kv", "delete", "-modify-index=3", "k"])),
        "Cannot specify -modify-index without -cas!\n"
    );
    assert_eq!(
        ok(agent.cli(&[
            "kv",
            "delete",
            "-cas",
            &format!("-modify-index={index}"),
            "k"
        ])),
        "Success! Deleted key: k\n"
    );
    fails(agent.cli(&["kv", "get", "k"]));
}

#[test]
fn acquire_and_release_with_a_session() {
    let agent = Agent::start_dev();
    assert_eq!(
        fails(agent.cli(&["kv", "put", "-acquire", "lock", "v"])),
        "Error! Missing -session (required with -acquire and -release)\n"
    );
    let session = create_session(&agent);
    let flag = format!("-session={session}");
    assert_eq!(
        ok(agent.cli(&["kv", "put", "-acquire", &flag, "lock", "held"])),
        "Success! Lock acquired on: lock\n"
    );
    let detailed = ok(agent.cli(&["kv", "get", "-detailed", "lock"]));
    assert_eq!(detailed_field(&detailed, "Session"), session);
    assert_eq!(detailed_field(&detailed, "LockIndex"), "1");
    assert_eq!(detailed_field(&detailed, "Value"), "held");
    assert_eq!(
        ok(agent.cli(&["kv", "put", "-release", &flag, "lock", "free"])),
        "Success! Lock released on: lock\n"
    );
    let detailed = ok(agent.cli(&["kv", "get", "-detailed", "lock"]));
    assert_eq!(detailed_field(&detailed, "Session"), "-");
    assert_eq!(detailed_field(&detailed, "LockIndex"), "1");
    // Releasing a lock we do not hold is refused.
    assert_eq!(
        fails(agent.cli(&["kv", "put", "-release", &flag, "lock"])),
        "Error! Did not release lock\n"
    );
    // An unknown session is a 500 from the agent, surfaced verbatim.
    let bogus = "-session=00000000-0000-0000-0000-000000000000";
    let err = fails(agent.cli(&["kv", "put", "-acquire", bogus, "lock2", "v"]));
    assert!(
        err.starts_with(
            "Error! Failed writing data: Unexpected response code: 500 (invalid session"
        ),
        "{err}"
    );
}

#[test]
fn stdin_and_file_input() {
    let agent = Agent::start_dev();
    let out = agent.cli_with_stdin(&["kv", "put", "s", "-"], Some(b"from stdin\n"));
    assert_eq!(ok(out), "Success! Data written to: s\n");
    assert_eq!(ok(agent.cli(&["kv", "get", "s"])), "from stdin\n\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("value.txt");
    std::fs::write(&file, b"file data").expect("write file");
    let arg = format!("@{}", file.display());
    assert_eq!(
        ok(agent.cli(&["kv", "put", "f", &arg])),
        "Success! Data written to: f\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "get", "f"])), "file data\n");
    // "-x" is literal data, not a flag, once the key has been seen.
    ok(agent.cli(&["kv", "put", "dash", "-x"]));
    assert_eq!(ok(agent.cli(&["kv", "get", "dash"])), "-x\n");
    // -base64 input.
    ok(agent.cli(&["kv", "put", "-base64", "b64", "aGVsbG8="]));
    assert_eq!(ok(agent.cli(&["kv", "get", "b64"])), "hello\n");
    let missing = fails(agent.cli(&["kv", "put", "f", "@/nonexistent/file"]));
    assert_eq!(
        missing,
        "Error! Failed to read file: open /nonexistent/file: no such file or directory\n"
    );
}

#[test]
fn keys_with_special_characters() {
    let agent = Agent::start_dev();
    for key in [
        "sp ace/x",
        "pct%25/x",
        "q?uestion",
        "hash#tag",
        "ünï/cödé",
        "plus+amp&eq=",
    ] {
        assert_eq!(
            ok(agent.cli(&["kv", "put", key, "v"])),
            format!("Success! Data written to: {key}\n")
        );
        assert_eq!(ok(agent.cli(&["kv", "get", key])), "v\n", "key {key:?}");
    }
    let listed = ok(agent.cli(&["kv", "get", "-recurse", "sp ace"]));
    assert_eq!(listed, "sp ace/x:v\n");
}

#[test]
fn export_import_round_trip() {
    let agent = Agent::start_dev();
    ok(agent.cli(&["kv", "put", "p/a", "1"]));
    ok(agent.cli(&["kv", "put", "-flags=7", "p/b", "two"]));
    ok(agent.cli(&["kv", "put", "-base64", "p/bin", "AAEC/w=="]));
    ok(agent.cli(&["kv", "put", "p/dir/"]));
    let exported = ok(agent.cli(&["kv", "export", "p/"]));
    assert!(
        exported.starts_with(
            "[\n\t{\n\t\t\"key\": \"p/a\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"MQ==\"\n\t},"
        ),
        "{exported}"
    );
    assert!(exported.ends_with("\n]\n"));
    let doc: serde_json::Value = serde_json::from_str(&exported).expect("export is JSON");
    assert_eq!(doc.as_array().map(Vec::len), Some(4));
    assert_eq!(doc[1]["flags"], 7);
    assert_eq!(doc[2]["value"], "AAEC/w==");

    ok(agent.cli(&["kv", "delete", "-recurse", "p/"]));
    assert_eq!(ok(agent.cli(&["kv", "export", "p/"])), "[]\n");
    let imported = ok(agent.cli_with_stdin(&["kv", "import", "-"], Some(exported.as_bytes())));
    assert_eq!(
        imported,
        "Imported: p/a\nImported: p/b\nImported: p/bin\nImported: p/dir/\n"
    );
    assert_eq!(ok(agent.cli(&["kv", "export", "p/"])), exported);

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("export.json");
    std::fs::write(&file, &exported).expect("write export");
    let arg = format!("@{}", file.display());
    let imported = ok(agent.cli(&["kv", "import", "-prefix=copy", &arg]));
    assert!(imported.starts_with("Imported: copy/p/a\n"), "{imported}");
    assert_eq!(ok(agent.cli(&["kv", "get", "copy/p/b"])), "two\n");
    assert_eq!(
        detailed_field(
            &ok(agent.cli(&["kv", "get", "-detailed", "copy/p/b"])),
            "Flags"
        ),
        "7"
    );

    let literal = r#"[{"key":"lit","flags":0,"value":"eA=="}]"#;
    assert_eq!(ok(agent.cli(&["kv", "import", literal])), "Imported: lit\n");
    assert_eq!(
        fails(agent.cli(&["kv", "import"])),
        "Error! Missing DATA argument\n"
    );
    assert!(
        fails(agent.cli(&["kv", "import", "{not json"])).starts_with("Cannot unmarshal data: ")
    );
}

#[test]
fn http_flags_override_environment() {
    let agent = Agent::start_dev();
    ok(agent.cli(&["kv", "put", "h", "v"]));
    let out = Command::new(common::bin())
        .args([
            "kv",
            "get",
            &format!("-http-addr={}", agent.http_addr()),
            "h",
        ])
        .env("CONSUL_HTTP_ADDR", "127.0.0.1:1")
        .stdin(Stdio::null())
        .output()
        .expect("run cli");
    assert_eq!(ok(out), "v\n");
    let out = Command::new(common::bin())
        .args([
            "kv",
            "get",
            "-datacenter=dc1",
            "-stale",
            "-token=anything",
            "h",
        ])
        .env("CONSUL_HTTP_ADDR", format!("http://{}", agent.http_addr()))
        .stdin(Stdio::null())
        .output()
        .expect("run cli");
    assert_eq!(ok(out), "v\n");
}

#[test]
fn unreachable_agent_is_an_error() {
    let out = Command::new(common::bin())
        .args(["kv", "get", "k"])
        .env(
            "CONSUL_HTTP_ADDR",
            format!("127.0.0.1:{}", common::free_port()),
        )
        .stdin(Stdio::null())
        .output()
        .expect("run cli");
    let err = fails(out);
    assert!(
        err.starts_with("Error querying Consul agent: Get \"http://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn unknown_flag_prints_go_usage() {
    let out = run_bin(&common::bin(), &["kv", "get", "-nope", "k"]);
    let err = fails(out);
    assert!(
        err.starts_with("flag provided but not defined: -nope\nUsage:\n  -base64\n"),
        "{err}"
    );
    let err = fails(run_bin(&common::bin(), &["kv", "put", "-flags=abc", "k"]));
    assert!(
        err.starts_with("invalid value \"abc\" for flag -flags: parse error\nUsage:\n"),
        "{err}"
    );
}

#[test]
fn help_and_unknown_commands() {
    let bin = common::bin();
    let out = run_bin(&bin, &[]);
    assert_eq!(out.status.code(), Some(127));
    assert!(stdout(&out).starts_with("Usage: consul [--version] [--help] <command> [<args>]\n"));
    assert_eq!(run_bin(&bin, &["no-such-command"]).status.code(), Some(127));
    let out = run_bin(&bin, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Available commands are:\n"));
    let out = run_bin(&bin, &["kv", "put", "-h"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("Usage: consul kv put [options] KEY [DATA]\n"));
    let out = run_bin(&bin, &["kv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("\nSubcommands:\n    delete    Removes data from the KV store\n")
    );
}

#[test]
fn version_output() {
    let bin = common::bin();
    for args in [
        &["version"][..],
        &["-version"][..],
        &["--version"][..],
        &["-v"][..],
    ] {
        let out = run_bin(&bin, args);
        let text = ok(out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Consul v1.22.0", "{args:?}");
        assert!(lines.iter().any(|l| l.starts_with("Revision ")));
        assert!(lines.iter().any(|l| l.starts_with("Build Date ")));
        assert!(lines.iter().any(|l| l.to_lowercase().contains("proconsul")));
        assert!(text.contains(
            "\nProtocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)\n"
        ));
    }
    let json = ok(run_bin(&bin, &["version", "-format=json"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("version JSON");
    assert_eq!(v["Version"], "1.22.0");
    assert_eq!(v["Prerelease"], "");
    assert!(v["Revision"].is_string() && v["BuildDate"].is_string());
    assert_eq!(
        fails(run_bin(&bin, &["version", "-format=xml"])),
        "Unknown format: xml\n"
    );
}

#[test]
fn consul_symlink_behaves_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("consul");
    std::os::unix::fs::symlink(common::bin(), &link).expect("symlink");
    for args in [
        &["version"][..],
        &["version", "-format=json"][..],
        &[][..],
        &["kv", "get", "-x"][..],
    ] {
        let direct = run_bin(&common::bin(), args);
        let via_link = run_bin(&link, args);
        assert_eq!(direct.status.code(), via_link.status.code(), "{args:?}");
        assert_eq!(stdout(&direct), stdout(&via_link), "{args:?}");
        assert_eq!(stderr(&direct), stderr(&via_link), "{args:?}");
    }
    assert!(stdout(&run_bin(&link, &["version"])).starts_with("Consul v1.22.0\n"));
}
