//! Script checks: real processes, exit codes, output capture, timeout killing the group.

use std::time::{Duration, Instant};

use proconsul_checks::spec::CheckSpec;
use proconsul_checks::{CheckKind, CheckResult, Probe, Status};

async fn run_sh(script: &str, timeout: Duration, max: usize) -> CheckResult {
    let args = vec!["sh".to_string(), "-c".to_string(), script.to_string()];
    let s =
        CheckSpec::new(CheckKind::Script { args }, Duration::from_secs(1)).with_timeout(timeout);
    Probe::new(&s).expect("probe").run(timeout, max).await
}

#[tokio::test]
async fn exit_codes_map_to_statuses() {
    let t = Duration::from_secs(10);
    assert_eq!(
        run_sh("echo ok", t, 4096).await,
        CheckResult::passing("ok\n")
    );
    assert_eq!(
        run_sh("echo warn; exit 1", t, 4096).await,
        CheckResult::warning("warn\n")
    );
    assert_eq!(run_sh("exit 2", t, 4096).await, CheckResult::critical(""));
    assert_eq!(run_sh("exit 255", t, 4096).await.status, Status::Critical);
    // Killed by a signal: no exit code, critical.
    assert_eq!(run_sh("kill -9 $$", t, 4096).await.status, Status::Critical);
}

#[tokio::test]
async fn stdout_and_stderr_are_combined() {
    let r = run_sh(
        "echo out; echo err >&2; echo out2",
        Duration::from_secs(10),
        4096,
    )
    .await;
    assert_eq!(r.status, Status::Passing);
    for part in ["out\n", "err\n", "out2\n"] {
        assert!(r.output.contains(part), "{:?}", r.output);
    }
    assert_eq!(r.output.len(), "out\nerr\nout2\n".len());
}

#[tokio::test]
async fn long_output_keeps_the_tail_with_consul_marker() {
    // 26 lines of 10 bytes = 260 bytes; keep the last 25.
    let r = run_sh(
        "for i in $(seq 1 26); do echo 123456789; done; printf END",
        Duration::from_secs(10),
        25,
    )
    .await;
    assert_eq!(r.status, Status::Passing);
    assert!(
        r.output.starts_with("Captured 25 of 263 bytes\n...\n"),
        "{:?}",
        r.output
    );
    assert!(r.output.ends_with("789\n123456789\nEND"), "{:?}", r.output);
}

#[tokio::test]
async fn missing_program_is_critical() {
    let s = CheckSpec::new(
        CheckKind::Script {
            args: vec!["/nonexistent/check".into()],
        },
        Duration::from_secs(1),
    );
    let r = Probe::new(&s)
        .expect("probe")
        .run(Duration::from_secs(5), 4096)
        .await;
    assert_eq!(r.status, Status::Critical);
    assert!(
        r.output.starts_with("fork/exec /nonexistent/check: "),
        "{}",
        r.output
    );
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("sleep.pid");
    // The shell starts a grandchild sleep and waits; both must die at the timeout.
    let script = format!(
        "echo started; sleep 60 & echo $! > {}; wait",
        pidfile.display()
    );
    let started = Instant::now();
    let r = run_sh(&script, Duration::from_millis(700), 4096).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the timeout must end the run"
    );
    assert_eq!(
        r,
        CheckResult::critical("Timed out (700ms) running check\n\nstarted\n")
    );

    let pid = std::fs::read_to_string(&pidfile)
        .expect("pid file")
        .trim()
        .to_string();
    // The sleep was SIGKILLed with its group.
    wait_dead(&pid).await;
}

/// Polls until `pid` is gone or a zombie; panics at the deadline.
async fn wait_dead(pid: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
        if stat.is_empty() || state == Some('Z') {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} still alive: {stat}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stopping_a_check_mid_run_kills_its_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pids");
    let script = format!(
        "sleep 60 & echo $! > {}.tmp; mv {0}.tmp {0}; wait",
        pidfile.display()
    );
    let args = vec!["sh".to_string(), "-c".to_string(), script];
    let spec = CheckSpec::new(CheckKind::Script { args }, Duration::from_millis(50))
        .with_timeout(Duration::from_secs(60));
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let sink: proconsul_checks::Sink = std::sync::Arc::new(move |u| {
        let _ = tx.send(u);
    });
    let handle = proconsul_checks::spawn_check("script", spec, sink);
    let deadline = Instant::now() + Duration::from_secs(15);
    let pid = loop {
        if let Ok(p) = std::fs::read_to_string(&pidfile) {
            break p.trim().to_string();
        }
        assert!(Instant::now() < deadline, "the script never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    handle.stopped().await;
    wait_dead(&pid).await;
}
