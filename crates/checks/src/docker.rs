//! Docker checks: exec `args` inside a running container through the Docker Engine API
//! and map the exit code as for scripts (0 passing, 1 warning, else critical). Errors use
//! Consul's texts (`create exec failed for unknown container <id>`, ...).

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures::StreamExt;

use crate::CheckResult;
use crate::error::CheckError;
use crate::output::TailBuffer;
use crate::script::status_for_exit;

/// A shareable Docker connection (bollard clients are cheap to clone).
#[derive(Debug, Clone)]
pub struct DockerClient {
    docker: Docker,
}

impl DockerClient {
    /// Connects as Consul does: `$DOCKER_HOST` when set, else the local socket
    /// (`/var/run/docker.sock`). No request is made until a check runs.
    pub fn from_env() -> Result<Self, CheckError> {
        let docker = if std::env::var_os("DOCKER_HOST").is_some() {
            Docker::connect_with_defaults()
        } else {
            Docker::connect_with_socket_defaults()
        }
        .map_err(|e| CheckError::Docker(e.to_string()))?;
        Ok(DockerClient { docker })
    }

    /// Runs one exec; the caller bounds it with the check timeout.
    pub async fn probe(
        &self,
        container_id: &str,
        args: &[String],
        output_max_size: usize,
    ) -> CheckResult {
        match self.exec(container_id, args, output_max_size).await {
            Ok((code, out)) => CheckResult::new(status_for_exit(code), out.text_with_marker()),
            Err(msg) => CheckResult::critical(msg),
        }
    }

    async fn exec(
        &self,
        id: &str,
        args: &[String],
        max: usize,
    ) -> Result<(Option<i64>, TailBuffer), String> {
        let create = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(args.to_vec()),
            ..Default::default()
        };
        let exec_id = match self.docker.create_exec(id, create).await {
            Ok(r) => r.id,
            Err(e) => return Err(create_error(id, &e)),
        };
        // Tty as in Consul: one raw stream, stdout and stderr interleaved as written.
        let start = StartExecOptions {
            detach: false,
            tty: true,
            output_capacity: None,
        };
        let mut out = TailBuffer::new(max);
        match self.docker.start_exec(&exec_id, Some(start)).await {
            Ok(StartExecResults::Attached { mut output, .. }) => {
                while let Some(Ok(msg)) = output.next().await {
                    out.write(msg.into_bytes().as_ref());
                }
            }
            Ok(StartExecResults::Detached) => {}
            Err(e) => return Err(start_error(id, &exec_id, &e)),
        }
        match self.docker.inspect_exec(&exec_id).await {
            Ok(r) => Ok((r.exit_code, out)),
            Err(e) => Err(inspect_error(id, &exec_id, &e)),
        }
    }
}

fn server_status(e: &DockerError) -> Option<(u16, &str)> {
    match e {
        DockerError::DockerResponseServerError {
            status_code,
            message,
        } => Some((*status_code, message.as_str())),
        _ => None,
    }
}

fn create_error(id: &str, e: &DockerError) -> String {
    match server_status(e) {
        Some((404, _)) => format!("create exec failed for unknown container {id}"),
        Some((409, _)) => format!("create exec failed since container {id} is paused or stopped"),
        Some((code, body)) => {
            format!("create exec failed for container {id} with status {code}: {body}")
        }
        None => format!("create exec failed for container {id}: {e}"),
    }
}

fn start_error(id: &str, exec_id: &str, e: &DockerError) -> String {
    match server_status(e) {
        Some((404, _)) => {
            format!("start exec failed for container {id}: invalid exec id {exec_id}")
        }
        Some((409, _)) => format!("start exec failed since container {id} is paused or stopped"),
        Some((code, body)) => {
            format!(
                "start exec failed for container {id} with status {code}: body: {body} err: <nil>"
            )
        }
        None => format!("start exec failed for container {id}: {e}"),
    }
}

fn inspect_error(id: &str, exec_id: &str, e: &DockerError) -> String {
    match server_status(e) {
        Some((404, _)) => {
            format!("inspect exec failed for container {id}: invalid exec id {exec_id}")
        }
        Some((code, body)) => {
            format!("inspect exec failed for container {id} with status {code}: {body}")
        }
        None => format!("inspect exec failed for container {id}: {e}"),
    }
}

/// Timeout text for Docker checks (Consul's Docker checks have no timeout at all; we
/// bound them like scripts and say so the same way).
pub fn timeout_text(timeout: Duration) -> String {
    format!(
        "Timed out ({}) running check",
        proconsul_types::duration::format(timeout)
    )
}
