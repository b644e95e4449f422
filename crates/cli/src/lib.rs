//! The consul-compatible command tree: `proconsul_cli::run(args)` behaves like the `consul`
//! binary for every command except `agent` (which the binary dispatches itself).
//!
//! Layout: [`commands`] emulates `mitchellh/cli` (subcommand lookup, `-h`, `-v`, help listing,
//! exit codes), [`flags`] is a Go `flag` parser, [`http`] the shared HTTP API flags, [`output`]
//! Go-compatible text formatting, and one module per command under [`kv`] and [`version`].

pub mod catalog;
pub mod commands;
pub mod flags;
pub mod http;
pub mod kv;
pub mod maint;
pub mod output;
pub mod services;
pub mod version;

use std::io::Write;

pub use commands::{Command, RUN_RESULT_HELP, run_with};
pub use output::Ui;

/// Runs one CLI invocation; `args` excludes the program name. Returns the exit code.
pub fn run(args: Vec<String>) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let stdin = std::io::stdin();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let mut input = stdin.lock();
    let code = {
        let mut ui = Ui {
            out: &mut out,
            err: &mut err,
            stdin: &mut input,
        };
        run_with(&args, &mut ui)
    };
    let _ = out.flush();
    let _ = err.flush();
    code
}
