//! Script checks (Consul's `CheckMonitor`): run `args` directly (no shell), exit 0
//! passing, 1 warning, anything else critical; output is stdout and stderr interleaved
//! into one ring buffer. On timeout the whole process group is killed and the output is
//! `Timed out (<timeout>) running check`, followed by what was captured.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::{Mutex, Semaphore};

use crate::CheckResult;
use crate::output::TailBuffer;

/// Bound on check processes running at once in this process, so a burst of slow checks
/// cannot fork without limit. Each check also never overlaps itself.
pub const MAX_CONCURRENT_PROCESSES: usize = 64;
static PROCESS_SLOTS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_PROCESSES);

/// Maps an exit status to Consul's check status.
pub fn status_for_exit(code: Option<i64>) -> crate::Status {
    match code {
        Some(0) => crate::Status::Passing,
        Some(1) => crate::Status::Warning,
        _ => crate::Status::Critical,
    }
}

pub async fn probe(args: &[String], timeout: Duration, output_max_size: usize) -> CheckResult {
    let Some((program, rest)) = args.split_first() else {
        return CheckResult::critical("script check has no arguments");
    };
    let Ok(_permit) = PROCESS_SLOTS.acquire().await else {
        return CheckResult::critical("check process limit unavailable");
    };
    let mut cmd = Command::new(program);
    cmd.args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own process group, so a timeout kills the children the script started too.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return CheckResult::critical(format!("fork/exec {program}: {e}")),
    };
    // If this future is dropped mid-run (the check was stopped), kill the whole group,
    // not just the direct child that `kill_on_drop` covers.
    let mut guard = GroupGuard(child.id());
    let buf = Mutex::new(TailBuffer::new(output_max_size));
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let run = async {
        // Drain both pipes to EOF before reaping, so no output is lost and the child
        // never blocks on a full pipe.
        tokio::join!(pump(stdout, &buf), pump(stderr, &buf));
        child.wait().await
    };
    let waited = tokio::time::timeout(timeout, run).await;
    let output = buf.lock().await.text_with_marker();
    guard.0 = None;
    match waited {
        Ok(Ok(status)) => CheckResult::new(status_for_exit(status.code().map(i64::from)), output),
        Ok(Err(e)) => CheckResult::critical(format!("wait: {e}")),
        Err(_) => {
            kill_group(&mut child).await;
            let mut msg = format!(
                "Timed out ({}) running check",
                proconsul_types::duration::format(timeout)
            );
            if !output.is_empty() {
                msg.push_str("\n\n");
                msg.push_str(&output);
            }
            CheckResult::critical(msg)
        }
    }
}

async fn pump<R: AsyncRead + Unpin>(r: Option<R>, buf: &Mutex<TailBuffer>) {
    let Some(mut r) = r else { return };
    let mut chunk = [0u8; 4096];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.lock().await.write(&chunk[..n]),
        }
    }
}

struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self
            .0
            .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// SIGKILLs the child's process group, then reaps the child so the next run never
/// overlaps this one (Consul waits for exit too).
async fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child
        .id()
        .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        && let Err(e) = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)
    {
        tracing::warn!(error = %e, "failed to kill check process group");
        let _ = child.start_kill();
    }
    let _ = child.wait().await;
}
