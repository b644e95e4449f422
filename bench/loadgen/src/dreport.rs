//! The table of bench/discovery.sh: DNS (proconsul vs Knot and dnsmasq), health watch
//! fan-out and catalog scale (proconsul vs etcd). Medians over the repeats, ratio = ours /
//! baseline, target and PASS/MISS per row.

use crate::report::{Results, Row, fmt, print_rows, ratio, verdict};

/// A row comparing medians of (label, field) of proconsul and `baseline`.
fn row(r: &Results, name: &str, label: &str, baseline: &str, field: &str, decimals: usize) -> Row {
    row2(
        r,
        name,
        (label, "proconsul"),
        (label, baseline),
        field,
        decimals,
    )
}

/// Same, with the candidate and baseline each given as (label, system).
fn row2(
    r: &Results,
    name: &str,
    ours: (&str, &str),
    theirs: (&str, &str),
    field: &str,
    decimals: usize,
) -> Row {
    let o = r.med(ours.0, ours.1, field);
    let t = r.med(theirs.0, theirs.1, field);
    Row {
        name: name.into(),
        ours: fmt(o, decimals),
        theirs: fmt(t, decimals),
        ratio: fmt(ratio(o, t), 2),
        target: "info".into(),
        verdict: "",
        errors: format!(
            "{}/{}",
            r.sum(ours.0, ours.1, "errors"),
            r.sum(theirs.0, theirs.1, "errors")
        ),
    }
}

/// Sets a "ratio ≥ min" target on a row.
fn at_least(mut row: Row, r: &Results, ours: (&str, &str), theirs: (&str, &str), min: f64) -> Row {
    let q = ratio(
        r.med(ours.0, ours.1, "qps"),
        r.med(theirs.0, theirs.1, "qps"),
    );
    row.verdict = verdict(q.map(|q| q >= min));
    row
}

fn dns_rows(r: &Results) -> Vec<Row> {
    let pc_udp = ("dns-udp", "proconsul");
    let mut knot = row(r, "DNS UDP q/s — vs Knot", "dns-udp", "knot", "qps", 0);
    knot.target = "≥ 1.00× Knot".into();
    let knot = at_least(knot, r, pc_udp, ("dns-udp", "knot"), 1.0);
    let mut dnsmasq = row(
        r,
        "DNS UDP q/s — vs dnsmasq",
        "dns-udp",
        "dnsmasq",
        "qps",
        0,
    );
    dnsmasq.target = "≥ 1.30× dnsmasq".into();
    let dnsmasq = at_least(dnsmasq, r, pc_udp, ("dns-udp", "dnsmasq"), 1.3);
    let mut tcp = row2(
        r,
        "DNS TCP q/s — vs proconsul UDP",
        ("dns-tcp", "proconsul"),
        pc_udp,
        "qps",
        0,
    );
    tcp.target = "≥ 0.40× own UDP".into();
    let tcp = at_least(tcp, r, ("dns-tcp", "proconsul"), pc_udp, 0.4);
    let knot_tcp = row(r, "DNS TCP q/s — vs Knot TCP", "dns-tcp", "knot", "qps", 0);
    let mut lat = row(
        r,
        "DNS UDP avg latency (µs) — vs Knot",
        "dns-udp",
        "knot",
        "avg_latency_us",
        0,
    );
    lat.errors = "—".into();
    vec![knot, dnsmasq, tcp, knot_tcp, lat]
}

fn flap_rows(r: &Results) -> Vec<Row> {
    let l = "flap";
    let missed = format!(
        "{}/{}",
        r.sum(l, "proconsul", "missed") + r.sum(l, "proconsul", "errors"),
        r.sum(l, "etcd", "missed") + r.sum(l, "etcd", "errors")
    );
    let mut p99 = row(
        r,
        "watch fan-out p99 (ms) — vs etcd",
        l,
        "etcd",
        "p99_ms",
        1,
    );
    let ours = r.med(l, "proconsul", "p99_ms");
    p99.target = "≤ 100 ms".into();
    p99.verdict = verdict(ours.map(|p| p <= 100.0));
    p99.errors = missed.clone();
    let mut p50 = row(
        r,
        "watch fan-out p50 (ms) — vs etcd",
        l,
        "etcd",
        "p50_ms",
        1,
    );
    p50.errors = missed;
    let mut cpu = row(
        r,
        "server CPU while flapping (% of a core)",
        l,
        "etcd",
        "server_cpu_pct",
        1,
    );
    let ours = r.med(l, "proconsul", "server_cpu_pct");
    cpu.target = "≤ 25%".into();
    cpu.verdict = verdict(ours.map(|c| c <= 25.0));
    cpu.errors = "—".into();
    let mut gen_cpu = row(
        r,
        "loadgen CPU while flapping (% of a core)",
        l,
        "etcd",
        "loadgen_cpu_pct",
        1,
    );
    gen_cpu.errors = "—".into();
    let mut mbps = row(
        r,
        "watchers' payload received (MB/s)",
        l,
        "etcd",
        "payload_mb_s",
        1,
    );
    mbps.errors = "—".into();
    let mut change = row(
        r,
        "change write p50 (ms, register / put)",
        l,
        "etcd",
        "change_p50_ms",
        2,
    );
    change.errors = format!(
        "{}/{}",
        r.sum(l, "proconsul", "change_errors"),
        r.sum(l, "etcd", "change_errors")
    );
    let mut rate = row(
        r,
        "changes sent per s (scheduled 20/s)",
        l,
        "etcd",
        "changes_per_s",
        1,
    );
    rate.errors = "—".into();
    vec![p99, p50, cpu, gen_cpu, mbps, change, rate]
}

fn catalog_rows(r: &Results) -> Vec<Row> {
    let load = "catalog-load";
    let rate = row(
        r,
        "catalog load (instances/s) — vs etcd puts",
        load,
        "etcd",
        "rate",
        0,
    );
    let mut rss = row(
        r,
        "RSS after load (MB) — vs etcd",
        load,
        "etcd",
        "rss_after_mb",
        1,
    );
    rss.errors = "—".into();
    let mut per = row(
        r,
        "RSS per instance (bytes) — vs etcd per key",
        load,
        "etcd",
        "bytes_per_instance",
        0,
    );
    per.errors = "—".into();
    let p50 = row(
        r,
        "X?passing p50 1 conn (ms) — vs etcd range",
        "catalog-read1",
        "etcd",
        "p50_ms",
        2,
    );
    let mut p99 = row(
        r,
        "X?passing p99 1 conn (ms) — vs etcd range",
        "catalog-read1",
        "etcd",
        "p99_ms",
        2,
    );
    let ours = r.med("catalog-read1", "proconsul", "p99_ms");
    p99.target = "≤ 5 ms".into();
    p99.verdict = verdict(ours.map(|p| p <= 5.0));
    let rps = row(
        r,
        "X?passing 4 conns (req/s) — vs etcd range",
        "catalog-read4",
        "etcd",
        "rps",
        0,
    );
    let mut size = row(
        r,
        "answer size (KB) — vs etcd range",
        "catalog-read1",
        "etcd",
        "body_kb",
        0,
    );
    size.errors = "—".into();
    vec![rate, rss, per, p50, p99, rps, size]
}

fn print_raw(r: &Results) {
    println!("\nper-run values (in run order):");
    let series = [
        ("dns-udp", "qps"),
        ("dns-tcp", "qps"),
        ("dns-udp", "lost"),
        ("flap", "p99_ms"),
        ("flap", "server_cpu_pct"),
        ("catalog-read1", "p99_ms"),
        ("catalog-read4", "rps"),
    ];
    for (label, field) in series {
        for system in ["proconsul", "knot", "dnsmasq", "etcd"] {
            let v = r.values(label, system, field);
            if v.is_empty() {
                continue;
            }
            let shown: Vec<String> = v.iter().map(|x| format!("{x:.1}")).collect();
            println!("  {label}.{field} {system}: {}", shown.join(" "));
        }
    }
}

/// Prints the whole report.
pub fn print(r: &Results, load: f64, cores: usize) {
    println!(
        "load average at start: {load:.2}{}",
        if load > 1.0 {
            "  => NOISY RUN (load > 1.0)"
        } else {
            ""
        }
    );
    println!(
        "note: dnsperf and the load generator run on the same {cores} cores as the servers they \
         drive; baselines alternate with proconsul, medians of {} repeat(s)",
        ["dns-udp", "flap", "catalog-read1"]
            .iter()
            .map(|l| r.runs(l, "proconsul"))
            .max()
            .unwrap_or(0)
    );
    // Only the parts that ran (BENCH_ONLY) get rows.
    let mut rows = Vec::new();
    if r.runs("dns-udp", "proconsul") > 0 {
        rows.extend(dns_rows(r));
    }
    if r.runs("flap", "proconsul") + r.runs("flap", "etcd") > 0 {
        rows.extend(flap_rows(r));
    }
    if r.runs("catalog-load", "proconsul") + r.runs("catalog-load", "etcd") > 0 {
        rows.extend(catalog_rows(r));
    }
    print_rows(&rows, "baseline", "lost/missed/err p/b");
    print_raw(r);
}
