//! `loadgen`: the one load tool bench/run.sh drives both proconsul and etcd with. Each
//! measurement subcommand prints one JSON line on stdout; `report` turns those lines into
//! the comparison table. Network errors are counted and reported, never fatal mid-run.

mod http;
mod load;
mod report;
mod startup;
mod stats;
mod target;
mod watch;

use clap::{Parser, Subcommand};
use serde_json::json;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use target::{Op, System};

#[derive(Parser)]
#[command(about = "proconsul vs etcd KV load generator (bench/run.sh)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Closed-loop PUT or GET load; prints rps and latency percentiles.
    Load(LoadArgs),
    /// Writes the first `keys` keys once (so reads find them).
    Preload {
        #[arg(long, value_parser = System::parse)]
        system: System,
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 4096)]
        keys: usize,
        #[arg(long, default_value_t = 16)]
        conns: usize,
    },
    /// Blocking-query fan-out against proconsul.
    Watch {
        #[arg(long)]
        addr: SocketAddr,
        /// The agent's pid, for VmRSS.
        #[arg(long)]
        pid: u32,
        #[arg(long, default_value_t = 10_000)]
        watchers: usize,
        #[arg(long, default_value_t = 100)]
        others: usize,
        #[arg(long, default_value_t = 256)]
        connect_parallel: usize,
    },
    /// Spawns COMMAND, times it to serving, reads its idle RSS, kills it.
    Startup {
        #[arg(long, value_parser = System::parse)]
        system: System,
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, default_value_t = 2000)]
        idle_ms: u64,
        #[arg(long, default_value_t = 20_000)]
        timeout_ms: u64,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Reads fio's JSON output and prints its fdatasync latency percentiles.
    Fio { file: String },
    /// Prints the table from the collected JSON lines.
    Report {
        file: String,
        #[arg(long)]
        load: f64,
        #[arg(long, default_value_t = 2)]
        cores: usize,
    },
}

#[derive(clap::Args)]
struct LoadArgs {
    #[arg(long, value_parser = System::parse)]
    system: System,
    #[arg(long)]
    addr: SocketAddr,
    /// put | get
    #[arg(long, value_parser = parse_op)]
    op: Op,
    #[arg(long, default_value_t = 64)]
    conns: usize,
    #[arg(long, default_value_t = 1000)]
    warmup_ms: u64,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Distinct keys cycled through.
    #[arg(long, default_value_t = 4096)]
    keys: usize,
    /// Row name in the report (put64, put1, get64).
    #[arg(long)]
    label: String,
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // One thread: the load generator takes at most one of the two shared cores.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn parse_op(op: &str) -> Result<Op, String> {
    match op {
        "put" => Ok(Op::Put),
        "get" => Ok(Op::Get),
        other => Err(format!("unknown op {other:?} (put|get)")),
    }
}

async fn cmd_load(a: LoadArgs) -> serde_json::Value {
    let spec = load::LoadSpec {
        addr: a.addr,
        conns: a.conns,
        warmup: Duration::from_millis(a.warmup_ms),
        measure: Duration::from_secs(a.secs),
        requests: Arc::new(target::build_requests(a.system, a.op, a.keys)),
    };
    let r = load::run(spec).await;
    json!({
        "label": a.label, "system": a.system.name(), "conns": a.conns,
        "ops": r.ops, "errors": r.errors, "secs": r.secs, "rps": r.rps(),
        "p50_us": r.p(50.0), "p90_us": r.p(90.0), "p99_us": r.p(99.0),
        "max_us": r.latencies_us.last().copied().unwrap_or(0),
    })
}

async fn cmd_watch(
    addr: SocketAddr,
    pid: u32,
    watchers: usize,
    others: usize,
    connect_parallel: usize,
) -> Result<serde_json::Value, String> {
    let r = watch::run(watch::WatchSpec {
        addr,
        pid,
        watchers,
        others,
        key_a: "bench/watch-a".into(),
        key_b: "bench/watch-b".into(),
        connect_parallel,
    })
    .await?;
    Ok(json!({
        "label": "watch", "system": "proconsul",
        "expected": r.expected, "answered": r.answered, "early": r.early, "errors": r.errors,
        "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "max_ms": r.max_ms,
        "rss_before_kb": r.rss_before_kb, "rss_held_kb": r.rss_held_kb,
        "bytes_per_query": r.bytes_per_query(),
        "others": r.others, "others_woken": r.others_woken, "setup_secs": r.setup_secs,
    }))
}

fn cmd_fio(file: &str) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    // fio may print warnings before the JSON document.
    let start = text.find('{').ok_or("no JSON in fio output")?;
    let v: serde_json::Value =
        serde_json::from_str(&text[start..]).map_err(|e| format!("fio JSON: {e}"))?;
    let lat = &v["jobs"][0]["sync"]["lat_ns"];
    let pct = |p: &str| lat["percentile"][p].as_f64().map(|ns| ns / 1000.0);
    Ok(json!({
        "label": "fdatasync", "system": "disk",
        "p50_us": pct("50.000000"), "p99_us": pct("99.000000"),
        "mean_us": lat["mean"].as_f64().map(|ns| ns / 1000.0),
    }))
}

async fn dispatch(cmd: Cmd) -> Result<Option<serde_json::Value>, String> {
    let value = match cmd {
        Cmd::Load(args) => cmd_load(args).await,
        Cmd::Preload {
            system,
            addr,
            keys,
            conns,
        } => {
            let requests = target::build_requests(system, Op::Put, keys);
            let failures = load::preload(addr, conns, requests).await;
            if failures > 0 {
                return Err(format!("preload: {failures} of {keys} writes failed"));
            }
            return Ok(None);
        }
        Cmd::Watch {
            addr,
            pid,
            watchers,
            others,
            connect_parallel,
        } => cmd_watch(addr, pid, watchers, others, connect_parallel).await?,
        Cmd::Startup {
            system,
            addr,
            idle_ms,
            timeout_ms,
            command,
        } => {
            let r = startup::run(startup::StartupSpec {
                system,
                addr,
                idle: Duration::from_millis(idle_ms),
                timeout: Duration::from_millis(timeout_ms),
                command,
            })
            .await?;
            json!({"label": "startup", "system": system.name(),
                   "serving_ms": r.serving_ms, "rss_kb": r.rss_kb, "probes": r.probes})
        }
        Cmd::Fio { file } => cmd_fio(&file)?,
        Cmd::Report { file, load, cores } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
            report::print(&report::Results::parse(&text), load, cores);
            return Ok(None);
        }
    };
    Ok(Some(value))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(dispatch(cli.command)) {
        Ok(Some(v)) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
