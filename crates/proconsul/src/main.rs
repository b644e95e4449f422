//! `proconsul` (also run as `consul`): `agent` starts an agent; every other command is the
//! consul-compatible CLI.

mod logging;

use std::process::ExitCode;

fn run_agent(args: &[String]) -> ExitCode {
    let flags = match proconsul_config::parse_agent_args(args) {
        Ok(flags) => flags,
        Err(proconsul_config::ConfigError::Help(usage)) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(1);
        }
    };
    let (config, warnings) = match proconsul_config::load_with_warnings(&flags) {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("==> {err}");
            return ExitCode::from(1);
        }
    };
    logging::init(&config.log_level, config.log_json);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("==> could not start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let reload_flags = flags.clone();
    let loader: proconsul_agent::ConfigLoader =
        Box::new(move || proconsul_config::load(&reload_flags).map_err(|e| e.to_string()));
    match runtime.block_on(proconsul_agent::run(config, Some(loader))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("==> {err}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if args.first().map(String::as_str) == Some("agent") {
        return run_agent(&args[1..]);
    }
    let code = proconsul_cli::run(args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
