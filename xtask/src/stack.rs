//! What `up`'s local stack is made of, shared by `up` and `down`: the processes and their fixed
//! ports, where their logs and pid files live, and the pid-file format. Starting and stopping a
//! process is `devstack`'s job.
//!
//! **Architecture Invariant:** `down` knows nothing but what is on disk here. It may run in
//! another terminal, after `up` was killed, or after a reboot, so every pid file is treated as
//! possibly stale: a pid whose process is gone, or is now some other program, is never signalled.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use devstack::services;
pub(crate) use devstack::HOST;
use xshell::{cmd, Shell};

pub(crate) const COMPOSE_FILE: &str = "infra/compose.yaml";

/// One process of the local stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Service {
    /// Binary name, Cargo package name, `OTEL_SERVICE_NAME`, and the stem of its log and pid files.
    pub(crate) name: &'static str,
    pub(crate) port: u16,
}

impl Service {
    /// Answers 200 once the process can do its job.
    pub(crate) fn probe(&self) -> devstack::Probe {
        devstack::Probe::new(self.addr(), services::ready_path(self.name))
    }

    pub(crate) fn addr(&self) -> String {
        format!("{HOST}:{}", self.port)
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{HOST}:{}", self.port)
    }
}

/// The development OTLP/HTTP receiver, on the standard OTLP/HTTP port.
pub(crate) const OTLP_SINK: Service = Service {
    name: services::OTLP_SINK,
    port: 4318,
};
pub(crate) const CATALOG: Service = Service {
    name: services::CATALOG,
    port: 8081,
};
pub(crate) const GATEWAY: Service = Service {
    name: services::GATEWAY,
    port: 8082,
};
pub(crate) const ORDER: Service = Service {
    name: services::ORDER,
    port: 8080,
};

/// Start order: whatever a process sends to (traces, calls) is ready before it starts.
pub(crate) const START_ORDER: [Service; 4] = [OTLP_SINK, CATALOG, GATEWAY, ORDER];

pub(crate) const PROMETHEUS: &str = devstack::prometheus::PROGRAM;
pub(crate) const PROMETHEUS_PORT: u16 = 9090;

/// The order in which processes are stopped: the reverse of the start, Prometheus first, and the
/// OTLP sink last so the services' final span flush still has somewhere to go.
pub(crate) const STOP_ORDER: [&str; 5] = [
    PROMETHEUS,
    ORDER.name,
    GATEWAY.name,
    CATALOG.name,
    OTLP_SINK.name,
];

/// `target/webstore/`: logs, pid files and Prometheus state of the local stack.
#[derive(Clone, Debug)]
pub(crate) struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub(crate) fn new(project_root: &Path) -> StateDir {
        StateDir {
            root: project_root.join("target").join("webstore"),
        }
    }

    #[cfg(test)]
    pub(crate) fn at(root: PathBuf) -> StateDir {
        StateDir { root }
    }

    pub(crate) fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub(crate) fn pids_dir(&self) -> PathBuf {
        self.root.join("pids")
    }

    pub(crate) fn log_file(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}.log"))
    }

    pub(crate) fn pid_file(&self, name: &str) -> PathBuf {
        self.pids_dir().join(format!("{name}.pid"))
    }

    pub(crate) fn prometheus_config(&self) -> PathBuf {
        self.root.join("prometheus.yml")
    }

    pub(crate) fn prometheus_data(&self) -> PathBuf {
        self.root.join("prometheus-data")
    }

    /// Every `<name>.pid` file, in [`STOP_ORDER`] (names it does not know first).
    pub(crate) fn pid_files(&self) -> Result<Vec<(String, PathBuf)>> {
        let dir = self.pids_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("reading {}", dir.display())),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading {}", dir.display()))?
                .path();
            if path.extension().is_some_and(|ext| ext == "pid") {
                if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                    files.push((name.to_owned(), path.clone()));
                }
            }
        }
        files.sort_by_key(|(name, _)| (stop_rank(name), name.clone()));
        Ok(files)
    }
}

/// Position in [`STOP_ORDER`]; unknown names (from a newer xtask, say) go first.
pub(crate) fn stop_rank(name: &str) -> usize {
    STOP_ORDER
        .iter()
        .position(|n| *n == name)
        .map_or(0, |i| i + 1)
}

pub(crate) fn write_pid_file(path: &Path, pid: u32) -> Result<()> {
    fs::write(path, format!("{pid}\n")).with_context(|| format!("writing {}", path.display()))
}

/// The pid in a pid file; `Ok(None)` if the file is gone (someone else cleaned up first).
pub(crate) fn read_pid_file(path: &Path) -> Result<Option<u32>> {
    match fs::read_to_string(path) {
        Ok(text) => parse_pid(&text)
            .with_context(|| format!("{} is not a pid file", path.display()))
            .map(Some),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// Removes `path` if it still names `pid` (a newer `up` may have written its own since).
pub(crate) fn remove_pid_file_if_ours(path: &Path, pid: u32) {
    if matches!(read_pid_file(path), Ok(Some(p)) if p == pid) {
        let _ = fs::remove_file(path);
    }
}

/// A pid as written by [`write_pid_file`].
///
/// 0, 1 and anything above `i32::MAX` are refused: `kill(0)` signals our own process group,
/// negative pids whole groups, and 1 is init. A corrupt file must never turn into one of those.
pub(crate) fn parse_pid(text: &str) -> Result<u32> {
    let trimmed = text.trim();
    let pid: u32 = trimmed
        .parse()
        .with_context(|| format!("`{trimmed}` is not a process id"))?;
    if pid <= 1 || pid > i32::MAX as u32 {
        bail!("`{pid}` is not a process id xtask could have started");
    }
    Ok(pid)
}

/// A Docker engine answers (`docker info`), quietly.
pub(crate) fn docker_available(sh: &Shell) -> bool {
    cmd!(sh, "docker info")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// `path` relative to the project root for messages, so they stay short and copyable.
pub(crate) fn display_path(project_root: &Path, path: &Path) -> String {
    path.strip_prefix(project_root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
pub(crate) fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-test-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_round_trip() {
        let state = StateDir::at(temp_dir("pid-round-trip"));
        fs::create_dir_all(state.pids_dir()).unwrap();
        let path = state.pid_file("order-service");
        write_pid_file(&path, 4242).unwrap();
        assert_eq!(read_pid_file(&path).unwrap(), Some(4242));

        remove_pid_file_if_ours(&path, 4243);
        assert!(path.exists(), "another pid's file is left alone");
        remove_pid_file_if_ours(&path, 4242);
        assert!(!path.exists());
        assert_eq!(
            read_pid_file(&path).unwrap(),
            None,
            "a missing file is not an error"
        );
    }

    #[test]
    fn dangerous_or_corrupt_pids_are_refused() {
        assert_eq!(parse_pid(" 123\n").unwrap(), 123);
        for bad in ["", "0", "1", "-1", "-4242", "2147483648", "12a", "nope"] {
            assert!(parse_pid(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn pid_files_are_listed_in_stop_order() {
        let state = StateDir::at(temp_dir("pid-order"));
        assert!(
            state.pid_files().unwrap().is_empty(),
            "no pids dir: nothing to stop"
        );
        fs::create_dir_all(state.pids_dir()).unwrap();
        for name in [
            "otlp-sink",
            "catalog-service",
            "order-service",
            "prometheus",
            "payment-gateway",
            "future-thing",
        ] {
            write_pid_file(&state.pid_file(name), 100).unwrap();
        }
        fs::write(state.pids_dir().join("README"), "not a pid file").unwrap();
        let names: Vec<String> = state
            .pid_files()
            .unwrap()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            names,
            [
                "future-thing",
                "prometheus",
                "order-service",
                "payment-gateway",
                "catalog-service",
                "otlp-sink"
            ]
        );
    }

    #[test]
    fn stop_order_reverses_start_order() {
        let started: Vec<&str> = START_ORDER.iter().map(|s| s.name).rev().collect();
        assert_eq!(STOP_ORDER[1..], started[..]);
    }

    #[test]
    fn layout() {
        let state = StateDir::new(Path::new("/srv/webstore"));
        assert_eq!(
            state.log_file("otlp-sink"),
            Path::new("/srv/webstore/target/webstore/logs/otlp-sink.log")
        );
        assert_eq!(
            state.pid_file("prometheus"),
            Path::new("/srv/webstore/target/webstore/pids/prometheus.pid")
        );
        assert_eq!(
            display_path(Path::new("/srv/webstore"), &state.logs_dir()),
            "target/webstore/logs"
        );
        assert_eq!(ORDER.url(), "http://127.0.0.1:8080");
    }
}
