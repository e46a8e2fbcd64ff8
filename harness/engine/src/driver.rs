//! The harness side of `onshi-driver/1` over an adapter's stdin/stdout.
//!
//! The adapter runs as `sh -c <command>` in its own process group, so a hung adapter can be
//! killed together with whatever it started. Every call has a deadline; a call that misses
//! it, a crash, or output that is not JSON-RPC never hangs the harness: it is journaled and
//! reported with the adapter's last stderr lines.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onshi_protocol::driver::{RpcRequest, RpcResponse};
use serde_json::Value;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use crate::capped_log::{self, CappedLog};
use crate::journal::{DriverEvent, Event, Journal};

/// Longest line accepted from an adapter.
const MAX_LINE: u64 = 16 * 1024 * 1024;
/// How many stderr lines are kept for error messages.
const STDERR_TAIL: usize = 20;
/// Lines that are not the awaited response journaled per call (the rest are counted).
const MAX_GARBAGE: u64 = 100;
/// Longest stderr line kept whole; longer ones are cut into pieces of this size.
const MAX_STDERR_LINE: u64 = 64 * 1024;

/// How a call went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    /// The adapter answered with a JSON-RPC error.
    #[error("the adapter answered JSON-RPC error {code}: {message}")]
    Rpc {
        /// The error code (-32601: method not implemented).
        code: i64,
        /// The error's message.
        message: String,
    },
    /// No answer within the deadline.
    #[error("the adapter did not answer within {} ms", after.as_millis())]
    Timeout {
        /// How long the harness waited.
        after: Duration,
    },
    /// The adapter process ended.
    #[error("the adapter exited ({}){}", status.map_or("killed by a signal".to_owned(), |s| format!("status {s}")), tail(stderr_tail))]
    Exited {
        /// Its exit status (none when a signal killed it).
        status: Option<i32>,
        /// Its last stderr lines.
        stderr_tail: String,
    },
    /// The adapter could not be started.
    #[error("cannot start the adapter `{command}`: {message}")]
    Spawn {
        /// The adapter command.
        command: String,
        /// Why it did not start.
        message: String,
    },
    /// Reading from or writing to the adapter failed.
    #[error("talking to the adapter failed: {0}")]
    Io(String),
    /// The adapter wrote a line longer than one message may be.
    #[error("the adapter wrote a line longer than {limit} bytes (the protocol's limit for one message)")]
    LineTooLong {
        /// The limit, in bytes.
        limit: u64,
    },
}

fn tail(s: &str) -> String {
    if s.trim().is_empty() {
        String::new()
    } else {
        format!("; its last stderr lines:\n{s}")
    }
}

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    stderr_task: JoinHandle<()>,
}

/// A driver connection to one adapter command.
pub struct DriverClient {
    command: String,
    journal: Arc<Journal>,
    stderr_log: PathBuf,
    /// The stderr log of this client's processes (one per run, capped), once one started.
    log: Option<Arc<Mutex<CappedLog>>>,
    process: Option<Process>,
    next_id: u64,
    /// Extra environment for the adapter process (e.g. PCSCLITE_CSOCK_NAME).
    env: Vec<(String, String)>,
}

impl DriverClient {
    /// A client for `command`; the process starts on the first call.
    pub fn new(command: impl Into<String>, journal: Arc<Journal>, stderr_log: PathBuf) -> Self {
        DriverClient {
            command: command.into(),
            journal,
            stderr_log,
            log: None,
            process: None,
            next_id: 1,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for adapter processes started from now on.
    pub(crate) fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    pub(crate) fn is_running(&self) -> bool {
        self.process.is_some()
    }

    fn spawn(&mut self) -> Result<(), CallError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CallError::Spawn {
                command: self.command.clone(),
                message: e.to_string(),
            })?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
        let kept = Arc::new(Mutex::new(VecDeque::new()));
        let kept2 = kept.clone();
        let log = self
            .log
            .get_or_insert_with(|| {
                Arc::new(Mutex::new(CappedLog::create(
                    &self.stderr_log,
                    capped_log::HEAD_BYTES,
                    capped_log::TAIL_BYTES,
                )))
            })
            .clone();
        let stderr_task = tokio::spawn(async move {
            loop {
                // bounded: a line without a newline must not grow without end
                let mut buf = Vec::new();
                match (&mut stderr).take(MAX_STDERR_LINE).read_until(b'\n', &mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                log.lock().expect("stderr log").push(&buf);
                let mut k = kept2.lock().expect("stderr tail");
                if k.len() == STDERR_TAIL {
                    k.pop_front();
                }
                k.push_back(String::from_utf8_lossy(&buf).into_owned());
            }
            log.lock().expect("stderr log").flush();
        });
        self.journal.append(Event::Driver(DriverEvent::Spawned {
            command: self.command.clone(),
            pid: child.id(),
        }));
        self.process = Some(Process {
            child,
            stdin,
            stdout,
            stderr: kept,
            stderr_task,
        });
        Ok(())
    }

    /// Calls `method` and waits at most `timeout` for the answer.
    pub async fn call(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Value, CallError> {
        if self.process.is_none() {
            self.spawn()?;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.journal.append(Event::Driver(DriverEvent::Call {
            id,
            method: method.to_owned(),
            params: params.clone(),
        }));
        let started = Instant::now();
        let request = RpcRequest {
            jsonrpc: "2.0".into(),
            id: Value::from(id),
            method: method.to_owned(),
            params: Some(params),
        };
        let mut line = serde_json::to_vec(&request).expect("serialisable");
        line.push(b'\n');
        let proc = self.process.as_mut().expect("spawned");
        if let Err(e) = proc.stdin.write_all(&line).await.and(proc.stdin.flush().await) {
            tracing::debug!("writing to the adapter failed: {e}");
            return Err(self.exited().await);
        }
        let answer = tokio::time::timeout(timeout, Self::read_response(&mut self.process, &self.journal, id)).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match answer {
            Err(_) => {
                self.journal.append(Event::Driver(DriverEvent::Timeout {
                    id,
                    method: method.to_owned(),
                    after_ms: elapsed_ms,
                }));
                self.kill(&format!("{method} did not answer within {} ms", timeout.as_millis()))
                    .await;
                Err(CallError::Timeout { after: timeout })
            }
            Ok(Err(ReadEnd::Eof)) => Err(self.exited().await),
            Ok(Err(ReadEnd::Io(e))) => {
                self.kill(&format!("reading from the adapter failed: {e}")).await;
                Err(CallError::Io(e))
            }
            Ok(Err(ReadEnd::TooLong)) => {
                let e = CallError::LineTooLong { limit: MAX_LINE };
                self.kill(&e.to_string()).await;
                Err(e)
            }
            Ok(Ok(response)) => {
                if let Some(err) = response.error {
                    self.journal.append(Event::Driver(DriverEvent::Error {
                        id,
                        method: method.to_owned(),
                        code: err.code,
                        message: err.message.clone(),
                        elapsed_ms,
                    }));
                    return Err(CallError::Rpc {
                        code: err.code,
                        message: err.message,
                    });
                }
                let result = response.result.unwrap_or(Value::Null);
                self.journal.append(Event::Driver(DriverEvent::Result {
                    id,
                    method: method.to_owned(),
                    result: result.clone(),
                    elapsed_ms,
                }));
                Ok(result)
            }
        }
    }

    /// The response to call `id`. Lines that are not it are journaled — the first
    /// [`MAX_GARBAGE`] of a call, then only how many more there were, so an adapter that
    /// floods its stdout cannot fill the disk with the journal.
    async fn read_response(process: &mut Option<Process>, journal: &Journal, id: u64) -> Result<RpcResponse, ReadEnd> {
        let mut garbage = 0u64;
        let answer = Self::read_until_response(process, journal, id, &mut garbage).await;
        if garbage > MAX_GARBAGE {
            journal.append(Event::Driver(DriverEvent::Garbage {
                line: format!(
                    "… and {} more lines that were not the response to call {id} (only the first {MAX_GARBAGE} of a call are journaled)",
                    garbage - MAX_GARBAGE
                ),
            }));
        }
        answer
    }

    async fn read_until_response(
        process: &mut Option<Process>,
        journal: &Journal,
        id: u64,
        garbage: &mut u64,
    ) -> Result<RpcResponse, ReadEnd> {
        let proc = process.as_mut().ok_or(ReadEnd::Eof)?;
        loop {
            let mut buf = Vec::new();
            let n = (&mut proc.stdout)
                .take(MAX_LINE)
                .read_until(b'\n', &mut buf)
                .await
                .map_err(|e| ReadEnd::Io(e.to_string()))?;
            if n == 0 {
                return Err(ReadEnd::Eof);
            }
            if buf.last() != Some(&b'\n') && n as u64 >= MAX_LINE {
                return Err(ReadEnd::TooLong);
            }
            let text = String::from_utf8_lossy(&buf);
            if text.trim().is_empty() {
                continue;
            }
            let parsed = match serde_json::from_str::<RpcResponse>(text.trim()) {
                Ok(r) if r.id == id => return Ok(r),
                other => other,
            };
            *garbage += 1;
            if *garbage > MAX_GARBAGE {
                continue;
            }
            match parsed {
                Ok(r) => journal.append(Event::Driver(DriverEvent::Garbage {
                    line: format!(
                        "a response for id {} while waiting for {id}: {}",
                        r.id,
                        clip(&text, 400)
                    ),
                })),
                Err(_) => journal.append(Event::Driver(DriverEvent::Garbage { line: clip(&text, 400) })),
            };
        }
    }

    fn stderr_tail(&self) -> String {
        self.process
            .as_ref()
            .map(|p| {
                p.stderr
                    .lock()
                    .expect("stderr tail")
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    /// The adapter's stdout closed: collect its status.
    async fn exited(&mut self) -> CallError {
        let Some(mut proc) = self.process.take() else {
            return CallError::Io("the adapter is not running".into());
        };
        let status = tokio::time::timeout(Duration::from_secs(2), proc.child.wait()).await;
        let _ = tokio::time::timeout(Duration::from_millis(500), &mut proc.stderr_task).await;
        let stderr_tail = proc
            .stderr
            .lock()
            .expect("stderr tail")
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        let status = match status {
            Ok(Ok(s)) => s.code(),
            _ => {
                kill_group(&mut proc);
                None
            }
        };
        self.journal.append(Event::Driver(DriverEvent::Exited {
            status,
            stderr_tail: stderr_tail.clone(),
        }));
        CallError::Exited { status, stderr_tail }
    }

    /// Kills the adapter and everything it started.
    pub async fn kill(&mut self, reason: &str) {
        let tail = self.stderr_tail();
        if let Some(mut proc) = self.process.take() {
            kill_group(&mut proc);
            let _ = tokio::time::timeout(Duration::from_secs(2), proc.child.wait()).await;
            proc.stderr_task.abort();
            if let Some(log) = &self.log {
                log.lock().expect("stderr log").flush();
            }
            self.journal.append(Event::Driver(DriverEvent::Killed {
                reason: if tail.is_empty() {
                    reason.to_owned()
                } else {
                    format!("{reason}; last stderr lines:\n{tail}")
                },
            }));
        }
    }

    /// Sends `shutdown` and waits for the adapter to exit; kills it if it does not.
    pub async fn shutdown(&mut self, timeout: Duration) {
        if self.process.is_none() {
            return;
        }
        let _ = self.call("shutdown", serde_json::json!({}), timeout).await;
        if let Some(proc) = self.process.as_mut() {
            proc.stdin.shutdown().await.ok();
            if tokio::time::timeout(timeout, proc.child.wait()).await.is_ok() {
                self.process = None;
                return;
            }
        }
        self.kill("did not exit after shutdown").await;
    }
}

enum ReadEnd {
    Eof,
    Io(String),
    TooLong,
}

fn kill_group(proc: &mut Process) {
    if let Some(pid) = proc.child.id() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = proc.child.start_kill();
}

/// At most `max` characters of `s` (trailing whitespace dropped), `…` marking a cut.
pub fn clip(s: &str, max: usize) -> String {
    let s = s.trim_end();
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(cmd: &str, dir: &tempfile::TempDir) -> (DriverClient, Arc<Journal>) {
        let j = Arc::new(Journal::default());
        (DriverClient::new(cmd, j.clone(), dir.path().join("stderr.log")), j)
    }

    #[tokio::test]
    async fn answers_errors_garbage_and_crashes() {
        let dir = tempfile::tempdir().unwrap();
        // Echoes a fixed result for id 1, prints garbage, an RPC error for id 2, then exits.
        let script = r#"read l; echo 'not json'; echo '{"jsonrpc":"2.0","id":1,"result":{"ok":true}}';
read l; echo '{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"nope"}}';
read l; echo 'dying' >&2; exit 3"#;
        let (mut c, j) = client(script, &dir);
        let t = Duration::from_secs(5);
        assert_eq!(
            c.call("a", Value::Null, t).await.unwrap(),
            serde_json::json!({"ok": true})
        );
        assert_eq!(
            c.call("b", Value::Null, t).await.unwrap_err(),
            CallError::Rpc {
                code: -32601,
                message: "nope".into()
            }
        );
        match c.call("c", Value::Null, t).await.unwrap_err() {
            CallError::Exited { status, stderr_tail } => {
                assert_eq!(status, Some(3));
                assert!(stderr_tail.contains("dying"), "{stderr_tail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!c.is_running());
        let events = j.range(1, u64::MAX);
        assert!(
            events
                .iter()
                .any(|e| matches!(&e.event, Event::Driver(DriverEvent::Garbage { line }) if line == "not json"))
        );
        assert!(
            std::fs::read_to_string(dir.path().join("stderr.log"))
                .unwrap()
                .contains("dying")
        );
    }

    #[tokio::test]
    async fn a_flood_of_stdout_lines_is_journaled_as_the_first_hundred_and_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"read l; yes 'chatter' | head -n 50000; echo '{"jsonrpc":"2.0","id":1,"result":{}}'; read l"#;
        let (mut c, j) = client(script, &dir);
        c.call("a", Value::Null, Duration::from_secs(20)).await.unwrap();
        let garbage: Vec<String> = j
            .range(1, u64::MAX)
            .into_iter()
            .filter_map(|e| match e.event {
                Event::Driver(DriverEvent::Garbage { line }) => Some(line),
                _ => None,
            })
            .collect();
        assert_eq!(garbage.len(), 101);
        assert!(garbage[..100].iter().all(|l| l == "chatter"));
        assert!(garbage[100].starts_with("… and 49900 more lines"), "{}", garbage[100]);
    }

    #[tokio::test]
    async fn a_hung_adapter_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("child.pid");
        let script = format!("sleep 300 & echo $! > {}; wait", marker.display());
        let (mut c, _) = client(&script, &dir);
        let err = c.call("x", Value::Null, Duration::from_millis(300)).await.unwrap_err();
        assert!(matches!(err, CallError::Timeout { .. }));
        assert!(!c.is_running());
        let pid: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Gone, or a zombie waiting for init to reap it.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("gone");
        assert!(
            matches!(state, "gone" | "Z" | "X"),
            "the adapter's child {pid} is still {state}"
        );
    }

    #[tokio::test]
    async fn a_command_that_does_not_exist_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = client("/nonexistent/adapter --flag", &dir);
        let err = c
            .call("initialize", Value::Null, Duration::from_secs(5))
            .await
            .unwrap_err();
        match err {
            CallError::Exited { status, stderr_tail } => {
                assert_eq!(status, Some(127));
                assert!(
                    stderr_tail.contains("not found") || stderr_tail.contains("No such file"),
                    "{stderr_tail}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
