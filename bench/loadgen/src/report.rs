//! Reads the JSON lines the measurement commands wrote and prints the comparison table:
//! medians over the repeats, ratio ours/theirs, the target and PASS/MISS per row.

use crate::stats::median;
use serde_json::Value;

pub(crate) struct Results {
    lines: Vec<Value>,
}

impl Results {
    pub fn parse(text: &str) -> Self {
        let lines = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        Self { lines }
    }

    pub(crate) fn values(&self, label: &str, system: &str, field: &str) -> Vec<f64> {
        self.lines
            .iter()
            .filter(|v| v["label"] == label && v["system"] == system)
            .filter_map(|v| v[field].as_f64())
            .collect()
    }

    pub(crate) fn med(&self, label: &str, system: &str, field: &str) -> Option<f64> {
        median(&self.values(label, system, field))
    }

    pub(crate) fn sum(&self, label: &str, system: &str, field: &str) -> f64 {
        // An empty f64 sum is -0.0; add 0.0 so it prints as 0.
        self.values(label, system, field).iter().sum::<f64>() + 0.0
    }

    pub(crate) fn min(&self, label: &str, system: &str, field: &str) -> Option<f64> {
        self.values(label, system, field)
            .into_iter()
            .reduce(f64::min)
    }

    pub(crate) fn max(&self, label: &str, system: &str, field: &str) -> Option<f64> {
        self.values(label, system, field)
            .into_iter()
            .reduce(f64::max)
    }

    pub(crate) fn runs(&self, label: &str, system: &str) -> usize {
        self.lines
            .iter()
            .filter(|v| v["label"] == label && v["system"] == system)
            .count()
    }
}

pub(crate) struct Row {
    pub name: String,
    pub ours: String,
    pub theirs: String,
    pub ratio: String,
    pub target: String,
    pub verdict: &'static str,
    pub errors: String,
}

pub(crate) fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or("—".into(), |x| format!("{x:.decimals$}"))
}

pub(crate) fn ratio(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    match (ours, theirs) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

pub(crate) fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "n/a",
    }
}

/// A row comparing a median of ours to etcd's (same label and field).
fn compare(r: &Results, name: &str, label: &str, field: &str, decimals: usize) -> Row {
    let ours = r.med(label, "proconsul", field);
    let theirs = r.med(label, "etcd", field);
    Row {
        name: name.into(),
        ours: fmt(ours, decimals),
        theirs: fmt(theirs, decimals),
        ratio: fmt(ratio(ours, theirs), 2),
        target: "info".into(),
        verdict: "",
        errors: format!(
            "{}/{}",
            r.sum(label, "proconsul", "errors"),
            r.sum(label, "etcd", "errors")
        ),
    }
}

fn kv_rows(r: &Results) -> Vec<Row> {
    let mut put64 = compare(r, "PUT 64 conns (req/s)", "put64", "rps", 0);
    let q = ratio(
        r.med("put64", "proconsul", "rps"),
        r.med("put64", "etcd", "rps"),
    );
    put64.target = "≥ 3.00× etcd".into();
    put64.verdict = verdict(q.map(|q| q >= 3.0));

    let fsync = r.med("fdatasync", "disk", "p50_us");
    let mut p50 = compare(r, "PUT 1 conn p50 (µs)", "put1", "p50_us", 0);
    let bound = fsync.map(|f| f + 60.0);
    p50.target = format!("≤ fdatasync p50+60 = {}", fmt(bound, 0));
    p50.verdict = verdict(
        bound
            .zip(r.med("put1", "proconsul", "p50_us"))
            .map(|(b, o)| o <= b),
    );
    let p99 = compare(r, "PUT 1 conn p99 (µs)", "put1", "p99_us", 0);
    let put1 = compare(r, "PUT 1 conn (req/s)", "put1", "rps", 0);
    let disk = Row {
        name: "disk fdatasync p50 / p99 (µs)".into(),
        ours: format!(
            "{} / {}",
            fmt(fsync, 0),
            fmt(r.med("fdatasync", "disk", "p99_us"), 0)
        ),
        theirs: "—".into(),
        ratio: "—".into(),
        target: "info (fio, same run)".into(),
        verdict: "",
        errors: "—".into(),
    };

    let mut get64 = compare(r, "GET 64 conns (req/s)", "get64", "rps", 0);
    let q = ratio(
        r.med("get64", "proconsul", "rps"),
        r.med("get64", "etcd", "rps"),
    );
    get64.target = "≥ 5.00× etcd serializable".into();
    get64.verdict = verdict(q.map(|q| q >= 5.0));
    vec![put64, put1, p50, p99, disk, get64]
}

fn ours_only(name: &str, ours: String, target: &str, ok: Option<bool>, errors: String) -> Row {
    Row {
        name: name.into(),
        ours,
        theirs: "—".into(),
        ratio: "—".into(),
        target: target.into(),
        verdict: verdict(ok),
        errors,
    }
}

fn watch_rows(r: &Results) -> Vec<Row> {
    let (w, s) = ("watch", "proconsul");
    let errors = format!("{}", r.sum(w, s, "errors") + r.sum(w, s, "early"));
    let expected = r.max(w, s, "expected");
    let answered = r.min(w, s, "answered");
    let all = expected.zip(answered).map(|(e, a)| a >= e && e > 0.0);
    let p99 = r.med(w, s, "p99_ms");
    let per_query = r.med(w, s, "bytes_per_query").map(|b| b / 1024.0);
    let woken = r.max(w, s, "others_woken");
    let others = r.max(w, s, "others");
    vec![
        ours_only(
            "watch: answered after 1 PUT (min)",
            format!("{}/{}", fmt(answered, 0), fmt(expected, 0)),
            "all",
            all,
            errors.clone(),
        ),
        ours_only(
            "watch: answer p99 / p50 (ms)",
            format!("{} / {}", fmt(p99, 1), fmt(r.med(w, s, "p50_ms"), 1)),
            "p99 ≤ 250 ms",
            p99.map(|p| p <= 250.0),
            errors.clone(),
        ),
        ours_only(
            "watch: agent RSS per held query (KiB)",
            fmt(per_query, 2),
            "≤ 4 KiB",
            per_query.map(|k| k <= 4.0),
            errors.clone(),
        ),
        ours_only(
            "watch: other-key watchers woken (max)",
            format!("{}/{}", fmt(woken, 0), fmt(others, 0)),
            "0",
            woken.map(|n| n == 0.0),
            errors,
        ),
    ]
}

fn startup_rows(r: &Results) -> Vec<Row> {
    let mut rss = compare(r, "dev agent idle RSS (MB)", "startup", "rss_kb", 0);
    let ours_mb = r.med("startup", "proconsul", "rss_kb").map(|k| k / 1024.0);
    let theirs_mb = r.med("startup", "etcd", "rss_kb").map(|k| k / 1024.0);
    rss.ours = fmt(ours_mb, 1);
    rss.theirs = fmt(theirs_mb, 1);
    rss.target = "≤ 12 MB (etcd: reference)".into();
    rss.verdict = verdict(ours_mb.map(|m| m <= 12.0));
    rss.errors = "—".into();
    let mut start = compare(r, "start-to-serving (ms)", "startup", "serving_ms", 1);
    let ours = r.med("startup", "proconsul", "serving_ms");
    start.target = "≤ 100 ms (etcd: reference)".into();
    start.verdict = verdict(ours.map(|m| m <= 100.0));
    start.errors = "—".into();
    vec![rss, start]
}

pub(crate) fn print_rows(rows: &[Row], theirs: &str, errors: &str) {
    let header = Row {
        name: "measurement (median of runs)".into(),
        ours: "proconsul".into(),
        theirs: theirs.into(),
        ratio: "ratio".into(),
        target: "target".into(),
        verdict: "result",
        errors: errors.into(),
    };
    let w = |f: &dyn Fn(&Row) -> usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(f)
            .max()
            .unwrap_or(0)
    };
    let widths = [
        w(&|r| r.name.chars().count()),
        w(&|r| r.ours.chars().count()),
        w(&|r| r.theirs.chars().count()),
        w(&|r| r.ratio.chars().count()),
        w(&|r| r.target.chars().count()),
        w(&|r| r.errors.chars().count()),
    ];
    let line = |r: &Row| {
        println!(
            "| {:<a$} | {:>b$} | {:>c$} | {:>d$} | {:<e$} | {:<6} | {:>f$} |",
            r.name,
            r.ours,
            r.theirs,
            r.ratio,
            r.target,
            r.verdict,
            r.errors,
            a = widths[0],
            b = widths[1],
            c = widths[2],
            d = widths[3],
            e = widths[4],
            f = widths[5],
        )
    };
    line(&header);
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!(
        "|-{}-|-{}:|-{}:|-{}:|-{}-|--------|-{}:|",
        dashes[0], dashes[1], dashes[2], dashes[3], dashes[4], dashes[5]
    );
    for r in rows {
        line(r);
    }
}

fn print_raw(r: &Results) {
    println!("\nper-run values (in run order):");
    let series = [
        ("put64", "rps"),
        ("put1", "p50_us"),
        ("get64", "rps"),
        ("watch", "p99_ms"),
        ("watch", "bytes_per_query"),
        ("startup", "serving_ms"),
        ("startup", "rss_kb"),
    ];
    for (label, field) in series {
        for system in ["proconsul", "etcd"] {
            let v = r.values(label, system, field);
            if v.is_empty() {
                continue;
            }
            let shown: Vec<String> = v.iter().map(|x| format!("{x:.0}")).collect();
            println!("  {label}.{field} {system}: {}", shown.join(" "));
        }
    }
    let f: Vec<String> = r
        .values("fdatasync", "disk", "p50_us")
        .iter()
        .map(|x| format!("{x:.0}"))
        .collect();
    println!("  fdatasync.p50_us disk: {}", f.join(" "));
}

/// Prints the whole report.
pub fn print(r: &Results, load: f64, cores: usize) {
    let noisy = load > 1.0;
    println!(
        "load average at start: {load:.2}{}",
        if noisy {
            "  => NOISY RUN (load > 1.0)"
        } else {
            ""
        }
    );
    println!(
        "note: the load generator runs on the same {cores} cores as the servers it drives; \
         ratios are same-run, alternating etcd/proconsul, medians of {} repeat(s)",
        r.runs("put64", "proconsul")
    );
    let mut rows = kv_rows(r);
    rows.extend(watch_rows(r));
    rows.extend(startup_rows(r));
    print_rows(&rows, "etcd", "errors p/e");
    print_raw(r);
}
