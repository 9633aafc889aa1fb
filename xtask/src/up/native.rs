//! `up` without Docker: the binaries as local processes on their fixed ports.
//!
//! In order: refuse if a stack is already running or a port is taken; build the four binaries;
//! start each in a process group of its own with output appended to its log, write its pid file,
//! and wait for its readiness endpoint before starting the next; start Prometheus if it is
//! installed; print every URL and a checkout to paste; then supervise until Ctrl-C (or return at
//! once with `--detach`).
//!
//! If anything fails on the way, everything started so far is stopped again and the failing
//! process's last log lines are printed: a half-started stack is never left behind.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use devstack::prometheus::{self, ScrapeConfig};
use devstack::{os, ports, services, Binaries, Launch, LogMode, Probe, Process, Profile};
use xshell::Shell;

use super::env::{overridden_defaults, resolve_env, service_env};
use super::summary::{NativeSummary, PrometheusStatus};
use super::{first_api_key, first_product_id, DEFAULT_API_KEYS, READY_TIMEOUT};
use crate::project_root;
use crate::stack::{
    self, display_path, StateDir, CATALOG, GATEWAY, HOST, ORDER, OTLP_SINK, PROMETHEUS,
    PROMETHEUS_PORT, START_ORDER,
};

const SUPERVISE_EVERY: Duration = Duration::from_millis(500);
/// If 9090 is taken (a system Prometheus, say), the next free port up to this one.
const PROMETHEUS_LAST_PORT: u16 = 9099;

pub(super) fn run(_sh: &Shell, release: bool, detach: bool) -> Result<()> {
    let root = project_root();
    let state = StateDir::new(&root);

    refuse_if_running(&state)?;
    for service in START_ORDER {
        let port = service.port;
        if !ports::is_free(port) {
            bail!(
                "port {port} on {HOST} is taken, and {} needs it. Is a stack already running? \
                 `cargo xtask down` stops one that xtask started; otherwise find the owner with \
                 `ss -ltnp 'sport = :{port}'`",
                service.name
            );
        }
    }

    println!("Building {}...", services::PACKAGES.join(", "));
    let profile = if release {
        Profile::Release
    } else {
        Profile::Dev
    };
    let binaries = Binaries::build(&root, profile, &services::PACKAGES)
        .context("building the services failed")?;

    for dir in [state.logs_dir(), state.pids_dir(), root.join("data")] {
        // The services' default SQLite files are data/<service>.db under their working directory.
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    let user_env = |key: &str| env::var(key).ok();
    let from_user = overridden_defaults(&user_env);
    if !from_user.is_empty() {
        println!(
            "From your environment (instead of xtask's defaults): {}",
            from_user.join(", ")
        );
    }
    if env::var_os("DATABASE_URL").is_some() {
        println!("note: DATABASE_URL is set, so all three services use that one database");
    }

    os::install_interrupt_handler();
    let mut stack = NativeStack {
        root: root.clone(),
        state: state.clone(),
        running: Vec::new(),
    };
    match stack.start(&binaries, &user_env) {
        Ok(prometheus) => {
            let api_keys = user_env("API_KEYS").unwrap_or_else(|| DEFAULT_API_KEYS.to_owned());
            let summary = NativeSummary {
                admin_token: admin_token_shown(&user_env),
                logs_dir: display_path(&root, &state.logs_dir()),
                pids_dir: display_path(&root, &state.pids_dir()),
                prometheus,
                api_key: first_api_key(&api_keys),
                product: first_product_id(&CATALOG),
                detach,
            };
            print!("{}", summary.render());
            if detach {
                // Leave the processes running: `cargo xtask down` finds them by their pid files.
                for running in stack.running.drain(..) {
                    running.process.detach();
                }
                return Ok(());
            }
            stack.supervise()
        }
        Err(err) => {
            stack.stop_all();
            if err
                .downcast_ref::<devstack::Error>()
                .is_some_and(devstack::Error::is_interrupted)
            {
                println!("Interrupted: everything that had started is stopped again.");
                std::process::exit(130);
            }
            Err(err)
        }
    }
}

/// The gateway's admin token as the summary shows it: `up`'s development default, or a
/// reference to the developer's own variable (whose value is a secret).
fn admin_token_shown(user_env: &dyn Fn(&str) -> Option<String>) -> String {
    match user_env("ADMIN_TOKEN") {
        Some(_) => "$ADMIN_TOKEN".to_owned(),
        None => devstack::services::DEV_ADMIN_TOKEN.to_owned(),
    }
}

fn refuse_if_running(state: &StateDir) -> Result<()> {
    for (name, path) in state.pid_files()? {
        let pid = match stack::read_pid_file(&path) {
            Ok(Some(pid)) => pid,
            Ok(None) => continue,
            Err(_) => {
                let _ = fs::remove_file(&path);
                continue;
            }
        };
        let ours = os::process_name(pid).is_none_or(|comm| os::comm_matches(&comm, &name));
        if os::is_running(pid) && ours {
            bail!("{name} from an earlier `cargo xtask up` is still running (pid {pid}); stop it with `cargo xtask down`");
        }
        // Stale: its process is gone.
        let _ = fs::remove_file(&path);
    }
    Ok(())
}

/// A process `up` started, with the pid file `down` finds it by.
struct Running {
    process: Process,
    pid_file: PathBuf,
}

/// Everything `up` started, in start order.
struct NativeStack {
    root: PathBuf,
    state: StateDir,
    running: Vec<Running>,
}

impl NativeStack {
    /// Starts the four processes and Prometheus, each ready before the next.
    fn start(
        &mut self,
        binaries: &Binaries,
        user_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PrometheusStatus> {
        for service in START_ORDER {
            let exe = binaries.get(service.name)?;
            let mut launch = Launch::new(service.name, exe, self.state.log_file(service.name))
                .envs(resolve_env(&service_env(service), user_env));
            if service == OTLP_SINK {
                launch = launch.args(["--bind".to_owned(), service.addr()]);
            }
            self.start_one(launch, &service.probe())?;
        }
        self.start_prometheus()
    }

    /// Starts `launch` with `up`'s conventions, writes its pid file, and waits for `probe`.
    fn start_one(&mut self, launch: Launch, probe: &Probe) -> Result<()> {
        let name = launch.name().to_owned();
        let process = launch
            .current_dir(&self.root)
            .log_mode(LogMode::Append)
            .own_process_group()
            .start()?;
        println!(
            "Started {name:<16} pid {:<7} log {}",
            process.id(),
            display_path(&self.root, process.log_path())
        );
        let pid_file = self.state.pid_file(&name);
        let pid = process.id();
        self.running.push(Running {
            process,
            pid_file: pid_file.clone(),
        });
        stack::write_pid_file(&pid_file, pid)?;

        let running = self
            .running
            .last_mut()
            .context("a process was just started")?;
        match running.process.wait_ready(probe, READY_TIMEOUT) {
            Ok(elapsed) => {
                println!(
                    "  ready after {:.1} s: {}",
                    elapsed.as_secs_f64(),
                    probe.url()
                );
                Ok(())
            }
            Err(err) => {
                if !err.is_interrupted() {
                    print_log_tail(&self.root, &running.process);
                }
                Err(err.into())
            }
        }
    }

    fn start_prometheus(&mut self) -> Result<PrometheusStatus> {
        if !prometheus::installed() {
            return Ok(PrometheusStatus::NotInstalled);
        }
        let Some(port) = ports::first_free(PROMETHEUS_PORT, PROMETHEUS_LAST_PORT, ports::is_free)
        else {
            return Ok(PrometheusStatus::Failed(format!(
                "ports {PROMETHEUS_PORT}-{PROMETHEUS_LAST_PORT} are all taken"
            )));
        };
        if port != PROMETHEUS_PORT {
            println!("Port {PROMETHEUS_PORT} is taken (another Prometheus?): this one listens on {port}.");
        }

        let config = self.state.prometheus_config();
        fs::write(&config, render_prometheus_yml(&self.root.join(RULES_DIR)))
            .with_context(|| format!("writing {}", config.display()))?;
        let listen = format!("{HOST}:{port}");
        let launch = prometheus::launch(
            &config,
            &self.state.prometheus_data(),
            &listen,
            &self.state.log_file(PROMETHEUS),
        );
        match self.start_one(launch, &Probe::new(listen, prometheus::READY_PATH)) {
            Ok(()) => Ok(PrometheusStatus::Running { port }),
            Err(err)
                if err
                    .downcast_ref::<devstack::Error>()
                    .is_some_and(devstack::Error::is_interrupted) =>
            {
                Err(err)
            }
            Err(err) => {
                // Optional: the services are up, so go on without it.
                let mut prometheus = self.running.pop().context("prometheus was just started")?;
                stop(&mut prometheus);
                Ok(PrometheusStatus::Failed(format!(
                    "{err:#} (log: {})",
                    display_path(&self.root, prometheus.process.log_path())
                )))
            }
        }
    }

    /// Stays until Ctrl-C, `cargo xtask down`, or a process exiting on its own.
    fn supervise(mut self) -> Result<()> {
        loop {
            if os::interrupted() {
                println!("\nStopping the stack...");
                self.stop_all();
                return Ok(());
            }
            for i in 0..self.running.len() {
                let Some(status) = self.running[i]
                    .process
                    .try_wait()
                    .context("checking on a child process")?
                else {
                    continue;
                };
                let running = &self.running[i];
                let name = running.process.name().to_owned();
                if !running.pid_file.exists() {
                    println!("\n{name} was stopped by `cargo xtask down`; stopping the rest.");
                    self.stop_all();
                    return Ok(());
                }
                println!("\n{name} exited on its own ({status}).");
                print_log_tail(&self.root, &running.process);
                self.stop_all();
                bail!("{name} exited unexpectedly ({status}); the stack is stopped");
            }
            thread::sleep(SUPERVISE_EVERY);
        }
    }

    /// Stops every process, last started first, and removes their pid files.
    fn stop_all(&mut self) {
        while let Some(mut running) = self.running.pop() {
            let outcome = stop(&mut running);
            println!("  {:<16} {outcome}", running.process.name());
        }
    }
}

/// SIGTERM, then SIGKILL after the grace period; removes the pid file.
fn stop(running: &mut Running) -> devstack::StopOutcome {
    let pid = running.process.id();
    let outcome = running.process.stop();
    stack::remove_pid_file_if_ours(&running.pid_file, pid);
    outcome
}

fn print_log_tail(root: &Path, process: &Process) {
    let log = display_path(root, process.log_path());
    println!("--- end of this run's output in {log} ---");
    println!("{}", process.log_tail(devstack::log::TAIL_LINES));
    println!("---");
}

/// The compose stack's recording and alert rules, loaded by the local Prometheus too, so an
/// incident run with `cargo xtask traffic` fires the same alerts.
const RULES_DIR: &str = "infra/prometheus/rules";

/// Prometheus scraping the three services every 5 s and evaluating the rules in `rules_dir`.
fn render_prometheus_yml(rules_dir: &Path) -> String {
    let config = ScrapeConfig {
        interval_secs: 5,
        max_exemplars: None,
        jobs: [ORDER, CATALOG, GATEWAY]
            .iter()
            .map(|s| (s.name.to_owned(), vec![s.addr()]))
            .collect(),
    };
    format!(
        "# Written by `cargo xtask up` on every start; edits are lost.\n{}rule_files:\n  - '{}/*.yml'\n",
        config.render(),
        rules_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_config() {
        let yml = render_prometheus_yml(Path::new("/src/webstore/infra/prometheus/rules"));
        assert!(yml.starts_with("# Written by `cargo xtask up` on every start; edits are lost.\n"));
        for (job, port) in [
            ("order-service", 8080),
            ("catalog-service", 8081),
            ("payment-gateway", 8082),
        ] {
            assert!(
                yml.contains(&format!("  - job_name: {job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")),
                "{yml}"
            );
        }
        assert!(yml.contains("scrape_interval: 5s"));
        assert!(
            yml.ends_with("rule_files:\n  - '/src/webstore/infra/prometheus/rules/*.yml'\n"),
            "{yml}"
        );
        assert!(
            !yml.contains("scrape_protocols"),
            "Prometheus 2.42 rejects it"
        );
    }
}
