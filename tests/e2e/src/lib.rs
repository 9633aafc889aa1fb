//! Running the WebStore as real processes for end-to-end tests: the three service binaries
//! (built by `cargo test`/`cargo xtask test` beside this test binary), a real Prometheus with
//! exemplar storage, and the in-process development OTLP receiver.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A free loopback port (bound then released; the tiny race is acceptable in tests).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `target/<profile>/`, found from this test executable (`target/<profile>/deps/…`).
pub fn binaries_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .context("locating the target directory")
}

/// A child process that is killed when dropped, its output kept in a log file.
pub struct Process {
    pub name: String,
    pub log: PathBuf,
    child: Child,
}

impl Process {
    pub fn start(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(&str, String)],
        dir: &Path,
    ) -> anyhow::Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .current_dir(dir);
        // A developer's own settings must not leak into the test's processes.
        for var in [
            "DATABASE_URL",
            "REDIS_URL",
            "OTEL_SDK_DISABLED",
            "OTEL_TRACES_SAMPLER",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().with_context(|| {
            format!(
                "starting {} (run `cargo build --workspace --bins` first)",
                program.display()
            )
        })?;
        Ok(Self {
            name: name.to_owned(),
            log,
            child,
        })
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `url` until it answers 200, or fails with the process's log.
pub async fn wait_ready(
    client: &reqwest::Client,
    url: &str,
    process: &mut Process,
    timeout: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if !process.is_running() {
            bail!(
                "{} exited during start-up:\n{}",
                process.name,
                process.log_tail(40)
            );
        }
        if let Ok(res) = client.get(url).send().await {
            if res.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "{} not ready at {url} after {timeout:?}:\n{}",
        process.name,
        process.log_tail(40)
    )
}

/// `true` when a `prometheus` binary answers `--version`.
pub fn prometheus_available() -> bool {
    Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
