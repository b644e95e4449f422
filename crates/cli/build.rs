//! Records the git revision and commit date (UTC, RFC 3339) for `consul version`, as Consul's
//! release builds do. Outside a git checkout both fall back to placeholders.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .env("TZ", "UTC")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    let revision = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string());
    let date = git(&[
        "log",
        "-1",
        "--format=%cd",
        "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
    ])
    .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
    println!("cargo:rustc-env=PROCONSUL_GIT_REVISION={revision}");
    println!("cargo:rustc-env=PROCONSUL_BUILD_DATE={date}");
    println!("cargo:rerun-if-env-changed=PROCONSUL_GIT_REVISION");
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        for file in ["HEAD", "logs/HEAD"] {
            let path = Path::new(&git_dir).join(file);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}
