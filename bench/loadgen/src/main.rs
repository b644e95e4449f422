//! `loadgen`: the one load tool bench/run.sh drives both proconsul and etcd with. Each
//! measurement subcommand prints one JSON line on stdout; `report` turns those lines into
//! the comparison table. Network errors are counted and reported, never fatal mid-run.

mod catalog;
mod dnsperf;
mod dreport;
mod flap;
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
    /// Health watch fan-out (discovery.sh): watchers follow `web` while its instances flap.
    Flap(FlapArgs),
    /// Loads the catalog-scale data set (discovery.sh); prints the rate and the RSS growth.
    CatalogLoad(CatalogLoadArgs),
    /// Closed-loop reads of service X's instances (discovery.sh), checked once first.
    CatalogRead(CatalogReadArgs),
    /// Reads dnsperf's report and prints its figures.
    Dnsperf {
        file: String,
        #[arg(long)]
        system: String,
        #[arg(long)]
        label: String,
    },
    /// Prints discovery.sh's table from the collected JSON lines.
    DiscoveryReport {
        file: String,
        #[arg(long)]
        load: f64,
        #[arg(long, default_value_t = 2)]
        cores: usize,
    },
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

#[derive(clap::Args)]
struct FlapArgs {
    #[arg(long, value_parser = System::parse)]
    system: System,
    #[arg(long)]
    addr: SocketAddr,
    /// The server's pid, for its CPU time.
    #[arg(long)]
    pid: u32,
    #[arg(long, default_value_t = 500)]
    watchers: usize,
    #[arg(long, default_value_t = 200)]
    instances: usize,
    /// Each instance changes once per period (seconds).
    #[arg(long, default_value_t = 10)]
    period_secs: u64,
    /// How long the changes go on (seconds).
    #[arg(long, default_value_t = 20)]
    secs: u64,
    #[arg(long, default_value_t = 10)]
    grace_secs: u64,
    #[arg(long, default_value_t = 100.0)]
    clk_tck: f64,
    #[arg(long, default_value_t = 64)]
    connect_parallel: usize,
}

#[derive(clap::Args)]
struct CatalogLoadArgs {
    #[arg(long, value_parser = System::parse)]
    system: System,
    #[arg(long)]
    addr: SocketAddr,
    /// The server's pid, for its RSS.
    #[arg(long)]
    pid: u32,
    #[arg(long, default_value_t = 10_000)]
    nodes: usize,
    #[arg(long, default_value_t = 100_000)]
    instances: usize,
    #[arg(long, default_value_t = 1_000)]
    x_instances: usize,
    #[arg(long, default_value_t = 990)]
    other_services: usize,
    #[arg(long, default_value_t = 64)]
    conns: usize,
}

#[derive(clap::Args)]
struct CatalogReadArgs {
    #[arg(long, value_parser = System::parse)]
    system: System,
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long, default_value_t = 1)]
    conns: usize,
    #[arg(long, default_value_t = 1000)]
    warmup_ms: u64,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Instances of X the answer must hold.
    #[arg(long, default_value_t = 1_000)]
    expect: usize,
    #[arg(long)]
    label: String,
}

async fn cmd_flap(a: FlapArgs) -> Result<serde_json::Value, String> {
    let r = flap::run(flap::FlapSpec {
        system: a.system,
        addr: a.addr,
        pid: a.pid,
        watchers: a.watchers,
        instances: a.instances,
        period: Duration::from_secs(a.period_secs),
        duration: Duration::from_secs(a.secs),
        grace: Duration::from_secs(a.grace_secs),
        clk_tck: a.clk_tck,
        connect_parallel: a.connect_parallel,
    })
    .await?;
    let ms = |us: u32| f64::from(us) / 1000.0;
    let lat = |p: f64| ms(stats::percentile(&r.latencies_us, p));
    Ok(json!({
        "label": "flap", "system": a.system.name(), "watchers": a.watchers,
        "instances": a.instances, "changes": r.changes, "pairs": r.pairs, "missed": r.missed,
        "p50_ms": lat(50.0), "p90_ms": lat(90.0), "p99_ms": lat(99.0),
        "max_ms": ms(r.latencies_us.last().copied().unwrap_or(0)),
        "server_cpu_pct": r.server_cpu_pct, "loadgen_cpu_pct": r.loadgen_cpu_pct,
        "flap_secs": r.flap_secs, "responses": r.responses,
        "changes_per_s": r.changes.saturating_sub(1) as f64 / r.send_secs.max(1e-9),
        "scheduled_per_s": a.instances as f64 / a.period_secs.max(1) as f64,
        "payload_mb_s": r.body_bytes as f64 / 1e6 / r.flap_secs.max(1e-9),
        "errors": r.watcher_errors, "change_errors": r.change_errors,
        "change_p50_ms": ms(r.change_p50_us), "change_p99_ms": ms(r.change_p99_us),
        "setup_secs": r.setup_secs,
    }))
}

async fn cmd_catalog_load(a: CatalogLoadArgs) -> Result<serde_json::Value, String> {
    let shape = catalog::Shape {
        nodes: a.nodes,
        x_instances: a.x_instances,
        other_services: a.other_services,
    };
    let requests: Vec<Vec<u8>> = (0..a.instances)
        .map(|k| shape.request(a.system, k))
        .collect();
    let before = watch::rss_kb(a.pid).ok_or("cannot read the server's RSS")?;
    let started = tokio::time::Instant::now();
    let failures = load::preload(a.addr, a.conns, requests).await;
    let secs = started.elapsed().as_secs_f64();
    // Let background work (compaction, snapshots) settle before reading the RSS.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = watch::rss_kb(a.pid).ok_or("cannot read the server's RSS")?;
    Ok(json!({
        "label": "catalog-load", "system": a.system.name(), "instances": a.instances,
        "nodes": a.nodes, "conns": a.conns, "secs": secs,
        "rate": a.instances as f64 / secs.max(1e-9), "errors": failures,
        "rss_before_kb": before, "rss_after_kb": after, "rss_after_mb": after as f64 / 1024.0,
        "bytes_per_instance": (after as f64 - before as f64) * 1024.0 / a.instances.max(1) as f64,
    }))
}

async fn cmd_catalog_read(a: CatalogReadArgs) -> Result<serde_json::Value, String> {
    let bytes = catalog::verify_read(a.system, a.addr, a.expect).await?;
    let r = load::run(load::LoadSpec {
        addr: a.addr,
        conns: a.conns,
        warmup: Duration::from_millis(a.warmup_ms),
        measure: Duration::from_secs(a.secs),
        requests: Arc::new(vec![catalog::read_request(a.system)]),
    })
    .await;
    let ms = |us: u32| f64::from(us) / 1000.0;
    Ok(json!({
        "label": a.label, "system": a.system.name(), "conns": a.conns,
        "ops": r.ops, "errors": r.errors, "rps": r.rps(),
        "p50_ms": ms(r.p(50.0)), "p90_ms": ms(r.p(90.0)), "p99_ms": ms(r.p(99.0)),
        "max_ms": ms(r.latencies_us.last().copied().unwrap_or(0)),
        "body_kb": bytes as f64 / 1024.0,
    }))
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
        Cmd::Flap(args) => cmd_flap(args).await?,
        Cmd::CatalogLoad(args) => cmd_catalog_load(args).await?,
        Cmd::CatalogRead(args) => cmd_catalog_read(args).await?,
        Cmd::Dnsperf {
            file,
            system,
            label,
        } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
            let mut v = dnsperf::parse(&text).map_err(|e| format!("{file}: {e}"))?;
            v["label"] = label.into();
            v["system"] = system.into();
            v
        }
        Cmd::DiscoveryReport { file, load, cores } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
            dreport::print(&report::Results::parse(&text), load, cores);
            return Ok(None);
        }
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
