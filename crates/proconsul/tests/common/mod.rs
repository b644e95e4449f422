//! Test harness: starts the real `proconsul` binary as a dev agent on free loopback ports
//! and talks to it over real sockets. Every wait polls with a deadline; nothing sleeps to green.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test, built by cargo for this test target.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_proconsul"))
}

/// A port that was free a moment ago (the OS picks it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// Polls `condition` every 20 ms until it returns `Some`, or panics after `deadline`.
pub fn wait_for<T>(what: &str, deadline: Duration, mut condition: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = condition() {
            return value;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP answer: status, headers (lowercase names) and body text.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// `X-Consul-Index` as a number (panics if missing).
    pub fn index(&self) -> u64 {
        self.header("x-consul-index")
            .and_then(|v| v.parse().ok())
            .expect("X-Consul-Index header")
    }
}

/// One HTTP request with a client that reports every status instead of failing on 4xx/5xx.
pub fn request(method: &str, url: &str, body: Option<&[u8]>) -> Result<Reply, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_global(Some(Duration::from_secs(700)))
        .build()
        .into();
    let builder = ureq::http::Request::builder().method(method).uri(url);
    let request = builder
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .map_err(ureq::Error::from)?;
    let mut response = agent.run(request)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Sends `request` verbatim over a fresh TCP connection and parses the answer (fixed length,
/// chunked, or read to close). For what a typed client cannot send: odd paths, custom
/// headers, chunked bodies. The write runs on its own thread so an early answer (413) is
/// still read even when the server stops reading the body.
pub fn raw_request(addr: &str, request: Vec<u8>) -> Reply {
    use std::io::{Read, Write};
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let mut writer = stream.try_clone().expect("clone stream");
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&request);
    });
    let mut reader = stream;
    let mut data = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        if let Some(reply) = parse_reply(&data) {
            let _ = sender.join();
            return reply;
        }
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let _ = sender.join();
    parse_reply(&data).unwrap_or_else(|| {
        panic!(
            "incomplete HTTP answer: {:?}",
            String::from_utf8_lossy(&data)
        )
    })
}

/// Parses one complete HTTP/1.1 answer, or `None` if more bytes are needed.
fn parse_reply(data: &[u8]) -> Option<Reply> {
    let head_end = data.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &data[head_end + 4..];
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if rest.len() < len {
            return None;
        }
        rest[..len].to_vec()
    } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let line_end = rest[at..].windows(2).position(|w| w == b"\r\n")? + at;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[at..line_end]).ok()?.trim(), 16)
                    .ok()?;
            let start = line_end + 2;
            if size == 0 {
                break;
            }
            if rest.len() < start + size + 2 {
                return None;
            }
            out.extend_from_slice(&rest[start..start + size]);
            at = start + size + 2;
        }
        out
    } else if status == 204 || status == 304 {
        Vec::new()
    } else {
        return None;
    };
    Some(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

/// A running agent process; killed when dropped.
pub struct Agent {
    child: Child,
    pub http_port: u16,
    pub dns_port: u16,
    pub server_port: u16,
    pub data_dir: Option<PathBuf>,
    log_path: PathBuf,
    _scratch: tempfile::TempDir,
}

pub struct AgentBuilder {
    args: Vec<String>,
    data_dir: Option<PathBuf>,
    http_port: Option<u16>,
}

impl AgentBuilder {
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
    /// Runs `-server -bootstrap-expect=1 -data-dir=DIR` instead of `-dev`.
    pub fn durable(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }
    pub fn http_port(mut self, port: u16) -> Self {
        self.http_port = Some(port);
        self
    }
    pub fn start(self) -> Agent {
        let scratch = tempfile::tempdir().expect("tempdir");
        let log_path = scratch.path().join("agent.log");
        let http_port = self.http_port.unwrap_or_else(free_port);
        let dns_port = free_port();
        let server_port = free_port();
        let mut cmd = Command::new(bin());
        cmd.arg("agent");
        match &self.data_dir {
            Some(dir) => {
                cmd.arg("-server").arg("-bootstrap-expect=1");
                cmd.arg(format!("-data-dir={}", dir.display()));
            }
            None => {
                cmd.arg("-dev");
            }
        }
        cmd.args([
            "-bind=127.0.0.1",
            "-client=127.0.0.1",
            "-node=test-node",
            &format!("-http-port={http_port}"),
            &format!("-dns-port={dns_port}"),
            &format!("-server-port={server_port}"),
            &format!("-serf-lan-port={}", free_port()),
            &format!("-serf-wan-port={}", free_port()),
            "-grpc-port=-1",
        ]);
        cmd.args(&self.args);
        let log = std::fs::File::create(&log_path).expect("log file");
        cmd.stdout(Stdio::from(log.try_clone().expect("clone log")));
        cmd.stderr(Stdio::from(log));
        let child = cmd.spawn().expect("spawn proconsul agent");
        let mut agent = Agent {
            child,
            http_port,
            dns_port,
            server_port,
            data_dir: self.data_dir,
            log_path,
            _scratch: scratch,
        };
        agent.wait_ready();
        agent
    }
}

impl Agent {
    pub fn dev() -> AgentBuilder {
        AgentBuilder {
            args: Vec::new(),
            data_dir: None,
            http_port: None,
        }
    }

    /// Starts a dev agent with default test settings.
    pub fn start_dev() -> Agent {
        Agent::dev().start()
    }

    pub fn http_addr(&self) -> String {
        format!("127.0.0.1:{}", self.http_port)
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.http_port, path_and_query)
    }

    /// Sends a request to this agent's HTTP API; any status is returned, never an error.
    pub fn http(&self, method: &str, path_and_query: &str, body: Option<&[u8]>) -> Reply {
        match request(method, &self.url(path_and_query), body) {
            Ok(reply) => reply,
            Err(err) => panic!(
                "{method} {path_and_query} failed: {err}; log:\n{}",
                self.log()
            ),
        }
    }

    pub fn get(&self, path_and_query: &str) -> Reply {
        self.http("GET", path_and_query, None)
    }

    pub fn put(&self, path_and_query: &str, body: &[u8]) -> Reply {
        self.http("PUT", path_and_query, Some(body))
    }

    pub fn delete(&self, path_and_query: &str) -> Reply {
        self.http("DELETE", path_and_query, None)
    }

    /// Sends a request with extra headers and an exact path (nothing normalised or encoded).
    pub fn http_with(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut text = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.http_addr(),
            body.len()
        );
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(body);
        raw_request(&self.http_addr(), bytes)
    }

    /// Sends a PUT whose body is chunked (no Content-Length), in chunks of 16 KiB.
    pub fn put_chunked(&self, path_and_query: &str, body: &[u8]) -> Reply {
        let mut bytes = format!("PUT {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n", self.http_addr()).into_bytes();
        for chunk in body.chunks(16 * 1024) {
            bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
        raw_request(&self.http_addr(), bytes)
    }

    /// True once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let url = self.url("/v1/status/leader");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("agent exited early with {status}; log:\n{}", self.log());
            }
            if let Ok(reply) = request("GET", &url, None)
                && reply.status == 200
                && reply.body.trim() != "\"\""
                && !reply.body.trim().is_empty()
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "agent not ready; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs a CLI command of the same binary against this agent.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_stdin(args, None)
    }

    pub fn cli_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("CONSUL_HTTP_ADDR", self.http_addr())
            .env_remove("CONSUL_HTTP_TOKEN")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn cli");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input)
                .expect("write stdin");
        }
        child.wait_with_output().expect("cli output")
    }

    /// Sends SIGKILL and waits for the process to go.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit status once it exits (deadline 10 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        wait_for("agent exit after SIGTERM", Duration::from_secs(10), || {
            self.child.try_wait().ok().flatten()
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CLI output helpers shared by the CLI suites.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Asserts exit code 1 with empty stdout and returns stderr.
pub fn fails(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "stderr: {}", stderr(&out));
    stderr(&out)
}
