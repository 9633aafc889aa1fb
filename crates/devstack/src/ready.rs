//! Waiting for a process to become ready: its readiness endpoint answers 200 before a deadline,
//! or the wait ends early because the process exited or the user pressed Ctrl-C.

use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, NotReady, Result};
use crate::process::Process;
use crate::{http, log, os};

const POLL_EVERY: Duration = Duration::from_millis(100);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET http://{addr}{path}` answering 200 means ready.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// `host:port`.
    pub addr: String,
    pub path: String,
}

impl Probe {
    pub fn new(addr: impl Into<String>, path: impl Into<String>) -> Probe {
        Probe {
            addr: addr.into(),
            path: path.into(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.path)
    }
}

/// Polls `probe` until it answers 200 or `timeout` passes; `exited` reports the process dying
/// meanwhile. Returns how long it took.
pub fn poll(
    probe: &Probe,
    timeout: Duration,
    mut exited: impl FnMut() -> Option<ExitStatus>,
) -> std::result::Result<Duration, NotReady> {
    let start = Instant::now();
    loop {
        if os::interrupted() {
            return Err(NotReady::Interrupted);
        }
        if let Some(status) = exited() {
            return Err(NotReady::Exited(status));
        }
        let last = match http::get(&probe.addr, &probe.path, REQUEST_TIMEOUT) {
            Ok(response) if response.status == 200 => return Ok(start.elapsed()),
            Ok(response) => format!("HTTP {}: {}", response.status, response.body_snippet()),
            Err(err) => err.to_string(),
        };
        if start.elapsed() >= timeout {
            return Err(NotReady::TimedOut {
                waited: timeout,
                last,
            });
        }
        thread::sleep(POLL_EVERY);
    }
}

impl Process {
    /// Waits until `probe` answers 200; on failure the error holds the end of this run's log.
    pub fn wait_ready(&mut self, probe: &Probe, timeout: Duration) -> Result<Duration> {
        let outcome = poll(probe, timeout, || self.try_wait().ok().flatten());
        outcome.map_err(|reason| Error::NotReady {
            name: self.name().to_owned(),
            log: self.log_tail(log::TAIL_LINES),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::Launch;

    #[cfg(unix)]
    #[test]
    fn a_dead_process_ends_the_wait_with_its_log() {
        let log = std::env::temp_dir().join(format!("devstack-ready-{}.log", std::process::id()));
        let mut process = Launch::new("failing", "sh", &log)
            .args(["-c", "echo 'Error: no database'; exit 3"])
            .start()
            .unwrap();
        // Port 9 (discard) on loopback: nothing listens, so only the exit can end the wait.
        let err = process
            .wait_ready(
                &Probe::new("127.0.0.1:9", "/readyz"),
                Duration::from_secs(10),
            )
            .unwrap_err();
        match &err {
            Error::NotReady {
                reason: NotReady::Exited(status),
                log,
                ..
            } => {
                assert_eq!(status.code(), Some(3));
                assert_eq!(log, "Error: no database");
            }
            other => panic!("expected an exit, got {other:?}"),
        }
        assert!(!err.is_interrupted());
    }

    #[test]
    fn a_timeout_reports_the_last_answer() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let mut conn = conn.unwrap();
                let mut request = [0u8; 1024];
                let _ = conn.read(&mut request);
                let _ = conn.write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 15\r\n\r\ndatabase: down!",
                );
            }
        });
        match poll(
            &Probe::new(addr, "/readyz"),
            Duration::from_millis(500),
            || None,
        ) {
            Err(NotReady::TimedOut { last, .. }) => assert_eq!(last, "HTTP 503: database: down!"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
