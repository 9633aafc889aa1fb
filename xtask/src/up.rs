//! `cargo xtask up`: the whole stack, with Docker compose or as local processes.
//!
//! Local mode, in order: refuse if a stack is already running or a port is taken; build the four
//! binaries; start each in a process group of its own with output appended to its log, write its
//! pid file, and wait for its readiness endpoint before starting the next; start Prometheus if it
//! is installed; print every URL and a checkout to paste; then supervise until Ctrl-C (or return
//! at once with `--detach`).
//!
//! If anything fails on the way, everything started so far is stopped again and the failing
//! process's last log lines are printed: a half-started stack is never left behind.

use std::collections::BTreeMap;
use std::env;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use xshell::{cmd, Shell};

use crate::os::{self, Signal};
use crate::stack::{
    self, display_path, Service, StateDir, CATALOG, COMPOSE_FILE, GATEWAY, HOST, ORDER, OTLP_SINK,
    PROMETHEUS, PROMETHEUS_PORT, START_ORDER,
};
use crate::{flags, http, project_root};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const SUPERVISE_EVERY: Duration = Duration::from_millis(500);
const LOG_TAIL_LINES: usize = 30;
/// If 9090 is taken (a system Prometheus, say), the next free port up to this one.
const PROMETHEUS_LAST_PORT: u16 = 9099;
const DEFAULT_API_KEYS: &str = "demo:demo-key";
const PRODUCT_PLACEHOLDER: &str = "<PRODUCT_ID>";

impl flags::Up {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        if !self.native && stack::docker_available(sh) {
            if sh.path_exists(COMPOSE_FILE) {
                return self.run_compose(sh);
            }
            println!("A Docker engine answers, but {COMPOSE_FILE} does not exist yet: starting local processes.");
        }
        if cfg!(not(unix)) {
            bail!("local processes need a Unix system (Linux, macOS); start a Docker engine and run `cargo xtask up` again");
        }
        self.run_native(sh)
    }

    fn run_compose(&self, sh: &Shell) -> Result<()> {
        if self.release {
            println!("note: --release applies to local processes; the compose stack builds its own images");
        }
        let compose = COMPOSE_FILE;
        cmd!(sh, "docker compose -f {compose} up -d --build")
            .run()
            .context("docker compose up failed")?;

        println!("\nWaiting for the services to answer...");
        for service in [CATALOG, GATEWAY, ORDER] {
            match wait_ready(&service.addr(), service.ready_path, READY_TIMEOUT, || None) {
                Ok(elapsed) => println!("  {:<16} ready after {:.1} s", service.name, elapsed.as_secs_f64()),
                Err(not_ready) => println!(
                    "  {:<16} not ready: {not_ready}; see `docker compose -f {COMPOSE_FILE} logs {}`",
                    service.name, service.name
                ),
            }
        }
        let product = first_product_id(&CATALOG);
        let api_key =
            first_api_key(&env::var("API_KEYS").unwrap_or_else(|_| DEFAULT_API_KEYS.to_owned()));
        print!("{}", render_compose_summary(&api_key, &product));
        Ok(())
    }

    fn run_native(&self, sh: &Shell) -> Result<()> {
        let root = project_root();
        let state = StateDir::new(&root);

        refuse_if_running(&state)?;
        for service in START_ORDER {
            ensure_port_free(service.port, service.name)?;
        }

        let binaries = build(sh, self.release)?;

        fs::create_dir_all(state.logs_dir())
            .with_context(|| format!("creating {}", state.logs_dir().display()))?;
        fs::create_dir_all(state.pids_dir())
            .with_context(|| format!("creating {}", state.pids_dir().display()))?;
        // The services' default SQLite files are data/<service>.db under their working directory.
        fs::create_dir_all(root.join("data")).context("creating data/")?;

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
        let mut stack = Stack {
            root: root.clone(),
            state: state.clone(),
            running: Vec::new(),
        };
        match stack.start(&binaries, &user_env) {
            Ok(prometheus) => {
                let api_keys = user_env("API_KEYS").unwrap_or_else(|| DEFAULT_API_KEYS.to_owned());
                let summary = NativeSummary {
                    logs_dir: display_path(&root, &state.logs_dir()),
                    pids_dir: display_path(&root, &state.pids_dir()),
                    prometheus,
                    api_key: first_api_key(&api_keys),
                    product: first_product_id(&CATALOG),
                    detach: self.detach,
                };
                print!("{}", summary.render());
                if self.detach {
                    return Ok(());
                }
                stack.supervise()
            }
            Err(err) => {
                stack.stop_all();
                if err.is::<Interrupted>() {
                    println!("Interrupted: everything that had started is stopped again.");
                    std::process::exit(130);
                }
                Err(err)
            }
        }
    }
}

/// Ctrl-C (or SIGTERM/SIGHUP) while starting.
#[derive(Debug)]
struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

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

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((HOST, port)).is_ok()
}

fn ensure_port_free(port: u16, wanted_by: &str) -> Result<()> {
    if !port_is_free(port) {
        bail!(
            "port {port} on {HOST} is taken, and {wanted_by} needs it. Is a stack already running? \
             `cargo xtask down` stops one that xtask started; otherwise find the owner with `ss -ltnp 'sport = :{port}'`"
        );
    }
    Ok(())
}

/// The first port from `preferred` to `last` that `is_free` accepts.
fn pick_port(preferred: u16, last: u16, is_free: impl Fn(u16) -> bool) -> Option<u16> {
    (preferred..=last).find(|port| is_free(*port))
}

/// `cargo build` of the four binaries; their paths, from Cargo's own JSON messages (so a custom
/// target dir or build target needs no guessing).
fn build(sh: &Shell, release: bool) -> Result<BTreeMap<String, PathBuf>> {
    let profile = release.then_some("--release");
    let packages: Vec<String> = START_ORDER
        .iter()
        .flat_map(|s| ["-p".to_owned(), s.name.to_owned()])
        .collect();
    println!("Building {}...", START_ORDER.map(|s| s.name).join(", "));
    let messages = cmd!(
        sh,
        "cargo build --bins --message-format=json-render-diagnostics {profile...} {packages...}"
    )
    .read()
    .context("building the services failed")?;
    let binaries = executables(&messages);
    for service in START_ORDER {
        if !binaries.contains_key(service.name) {
            bail!(
                "cargo built no `{0}` binary: package {0} needs a binary target named `{0}`",
                service.name
            );
        }
    }
    Ok(binaries)
}

/// Binary name → executable path, from `cargo build --message-format=json` output.
fn executables(messages: &str) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for line in messages.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if let (Some(name), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) {
            found.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    found
}

/// How `up` sets a variable for a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    /// Always: the process's identity (its address, its service name).
    Force,
    /// Unless the variable is already set in the environment `up` runs in.
    Default,
}

/// What `up` sets for a service (everything else passes through from the caller's environment).
fn service_env(service: Service) -> Vec<(&'static str, String, Policy)> {
    use Policy::{Default, Force};

    if service == OTLP_SINK {
        return vec![("RUST_LOG", "info".to_owned(), Default)];
    }
    let mut vars = vec![
        ("BIND_ADDR", service.addr(), Force),
        ("OTEL_SERVICE_NAME", service.name.to_owned(), Force),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", OTLP_SINK.url(), Default),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "http/protobuf".to_owned(),
            Default,
        ),
        ("LOG_FORMAT", "json".to_owned(), Default),
        ("RUST_LOG", "info".to_owned(), Default),
    ];
    if service == GATEWAY {
        vars.push(("ADMIN_TOKEN", "dev-admin-token".to_owned(), Default));
        vars.push(("GATEWAY_LATENCY_SCALE", "1.0".to_owned(), Default));
    }
    if service == ORDER {
        vars.push(("CATALOG_URL", CATALOG.url(), Default));
        vars.push(("PAYMENT_GATEWAY_URL", GATEWAY.url(), Default));
        vars.push(("API_KEYS", DEFAULT_API_KEYS.to_owned(), Default));
    }
    vars
}

/// The variables to set on the child; the user's own values of `Default` ones are inherited.
fn resolve_env(
    vars: &[(&'static str, String, Policy)],
    user_env: &dyn Fn(&str) -> Option<String>,
) -> Vec<(&'static str, String)> {
    vars.iter()
        .filter(|(key, _, policy)| *policy == Policy::Force || user_env(key).is_none())
        .map(|(key, value, _)| (*key, value.clone()))
        .collect()
}

/// Names of defaults that the user's environment overrides, for one line of output (never values:
/// some are secrets).
fn overridden_defaults(user_env: &dyn Fn(&str) -> Option<String>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = START_ORDER
        .iter()
        .flat_map(|s| service_env(*s))
        .filter(|(key, _, policy)| *policy == Policy::Default && user_env(key).is_some())
        .map(|(key, _, _)| key)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The key of the first `customer:key` pair of `API_KEYS`.
fn first_api_key(api_keys: &str) -> String {
    api_keys
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(_, key)| key.trim())
        .find(|key| !key.is_empty())
        .unwrap_or("<API_KEY>")
        .to_owned()
}

/// Cargo sets these for the binary it runs (xtask); they would mislead a service reading them
/// (e.g. a `service.name` fallback to `CARGO_PKG_NAME`).
fn is_cargo_run_var(key: &str) -> bool {
    [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_CRATE_",
        "CARGO_BIN_",
        "CARGO_PRIMARY_PACKAGE",
    ]
    .iter()
    .any(|prefix| key.starts_with(prefix))
}

/// A process `up` started.
struct Running {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// Where this run's output starts in the (appended) log.
    log_offset: u64,
    pid_file: PathBuf,
}

/// Everything `up` started, in start order.
struct Stack {
    root: PathBuf,
    state: StateDir,
    running: Vec<Running>,
}

impl Stack {
    /// Starts the four processes and Prometheus, each ready before the next.
    fn start(
        &mut self,
        binaries: &BTreeMap<String, PathBuf>,
        user_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PrometheusStatus> {
        for service in START_ORDER {
            let exe = &binaries[service.name];
            let args: Vec<String> = if service == OTLP_SINK {
                vec!["--bind".to_owned(), service.addr()]
            } else {
                Vec::new()
            };
            let env = resolve_env(&service_env(service), user_env);
            self.spawn(service.name, exe, &args, &env)?;
            self.await_ready(&service.addr(), service.ready_path)?;
        }
        self.start_prometheus()
    }

    fn spawn(
        &mut self,
        name: &'static str,
        exe: &Path,
        args: &[String],
        env: &[(&str, String)],
    ) -> Result<()> {
        let log_path = self.state.log_file(name);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        writeln!(
            log,
            "\n===== cargo xtask up: {name} starting (unix time {started}) ====="
        )?;
        let log_offset = log.metadata()?.len();

        let mut command = Command::new(exe);
        command
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        for (key, _) in env::vars_os() {
            if key.to_str().is_some_and(is_cargo_run_var) {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        os::own_process_group(&mut command);

        let child = command
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let pid_file = self.state.pid_file(name);
        println!(
            "Started {name:<16} pid {:<7} log {}",
            child.id(),
            display_path(&self.root, &log_path)
        );
        let pid = child.id();
        self.running.push(Running {
            name,
            child,
            log: log_path,
            log_offset,
            pid_file: pid_file.clone(),
        });
        stack::write_pid_file(&pid_file, pid)
    }

    /// Waits for the last started process; on failure prints its log tail.
    fn await_ready(&mut self, addr: &str, path: &str) -> Result<()> {
        let running = self.running.last_mut().expect("a process was just started");
        let name = running.name;
        let child = &mut running.child;
        match wait_ready(addr, path, READY_TIMEOUT, || {
            child.try_wait().ok().flatten()
        }) {
            Ok(elapsed) => {
                println!(
                    "  ready after {:.1} s: http://{addr}{path}",
                    elapsed.as_secs_f64()
                );
                Ok(())
            }
            Err(NotReady::Interrupted) => Err(Interrupted.into()),
            Err(not_ready) => {
                print_log_tail(&self.root, running);
                Err(anyhow!("{name} did not become ready: {not_ready}"))
            }
        }
    }

    fn start_prometheus(&mut self) -> Result<PrometheusStatus> {
        let version_ok = Command::new(PROMETHEUS)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !version_ok {
            return Ok(PrometheusStatus::NotInstalled);
        }
        let Some(port) = pick_port(PROMETHEUS_PORT, PROMETHEUS_LAST_PORT, port_is_free) else {
            return Ok(PrometheusStatus::Failed(format!(
                "ports {PROMETHEUS_PORT}-{PROMETHEUS_LAST_PORT} are all taken"
            )));
        };
        if port != PROMETHEUS_PORT {
            println!("Port {PROMETHEUS_PORT} is taken (another Prometheus?): this one listens on {port}.");
        }

        let config = self.state.prometheus_config();
        let targets: Vec<(&str, String)> = [ORDER, CATALOG, GATEWAY]
            .iter()
            .map(|s| (s.name, s.addr()))
            .collect();
        fs::write(&config, render_prometheus_yml(&targets))
            .with_context(|| format!("writing {}", config.display()))?;
        let data = self.state.prometheus_data();
        let args = vec![
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address={HOST}:{port}"),
            "--enable-feature=exemplar-storage".to_owned(),
        ];
        self.spawn(PROMETHEUS, Path::new(PROMETHEUS), &args, &[])?;
        match self.await_ready(&format!("{HOST}:{port}"), "/-/ready") {
            Ok(()) => Ok(PrometheusStatus::Running { port }),
            Err(err) if err.is::<Interrupted>() => Err(err),
            Err(err) => {
                // Optional: the services are up, so go on without it.
                let mut prometheus = self.running.pop().expect("prometheus was just started");
                stop(&mut prometheus);
                Ok(PrometheusStatus::Failed(format!(
                    "{err:#} (log: {})",
                    display_path(&self.root, &prometheus.log)
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
                    .child
                    .try_wait()
                    .context("checking on a child process")?
                else {
                    continue;
                };
                let running = &self.running[i];
                let name = running.name;
                if !running.pid_file.exists() {
                    println!("\n{name} was stopped by `cargo xtask down`; stopping the rest.");
                    self.stop_all();
                    return Ok(());
                }
                println!("\n{name} exited on its own ({status}).");
                print_log_tail(&self.root, running);
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
            println!("  {:<16} {outcome}", running.name);
        }
    }
}

enum StopOutcome {
    AlreadyExited(ExitStatus),
    Stopped,
    Killed,
    Unknown(String),
}

impl fmt::Display for StopOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopOutcome::AlreadyExited(status) => write!(f, "had exited ({status})"),
            StopOutcome::Stopped => f.write_str("stopped"),
            StopOutcome::Killed => write!(
                f,
                "killed (still running {} s after SIGTERM)",
                STOP_TIMEOUT.as_secs()
            ),
            StopOutcome::Unknown(err) => write!(f, "could not be stopped: {err}"),
        }
    }
}

/// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`]; removes the pid file.
fn stop(running: &mut Running) -> StopOutcome {
    let pid = running.child.id();
    let outcome = stop_child(&mut running.child);
    stack::remove_pid_file_if_ours(&running.pid_file, pid);
    outcome
}

fn stop_child(child: &mut Child) -> StopOutcome {
    if let Ok(Some(status)) = child.try_wait() {
        return StopOutcome::AlreadyExited(status);
    }
    if let Err(err) = os::send(child.id(), Signal::Terminate) {
        return StopOutcome::Unknown(err.to_string());
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) => return StopOutcome::Stopped,
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(err) => return StopOutcome::Unknown(err.to_string()),
        }
    }
    match child.kill().and_then(|()| child.wait()) {
        Ok(_) => StopOutcome::Killed,
        Err(err) => StopOutcome::Unknown(err.to_string()),
    }
}

#[derive(Debug)]
enum NotReady {
    Exited(ExitStatus),
    TimedOut { waited: Duration, last: String },
    Interrupted,
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Exited(status) => write!(f, "it exited ({status})"),
            NotReady::TimedOut { waited, last } => {
                write!(f, "no 200 within {} s (last: {last})", waited.as_secs())
            }
            NotReady::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// Polls `GET http://{addr}{path}` until it answers 200; `exited` reports the process dying.
fn wait_ready(
    addr: &str,
    path: &str,
    timeout: Duration,
    mut exited: impl FnMut() -> Option<ExitStatus>,
) -> Result<Duration, NotReady> {
    let start = Instant::now();
    loop {
        if os::interrupted() {
            return Err(NotReady::Interrupted);
        }
        if let Some(status) = exited() {
            return Err(NotReady::Exited(status));
        }
        let last = match http::get(addr, path, Duration::from_secs(2)) {
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
        thread::sleep(Duration::from_millis(200));
    }
}

fn print_log_tail(root: &Path, running: &Running) {
    let log = display_path(root, &running.log);
    println!("--- end of this run's output in {log} ---");
    match read_from(&running.log, running.log_offset) {
        Ok(text) if text.trim().is_empty() => println!("(nothing logged)"),
        Ok(text) => println!("{}", log_excerpt(&text, LOG_TAIL_LINES)),
        Err(err) => println!("(cannot read it: {err})"),
    }
    println!("---");
}

/// The last `n` lines of `text`, readable: a trailing `Stack backtrace:` section (anyhow under
/// RUST_BACKTRACE) is left out, so the error itself shows, and very long lines are cut.
fn log_excerpt(text: &str, n: usize) -> String {
    const MAX_LINE: usize = 500;
    let (text, omitted) = match text.find("\nStack backtrace:") {
        Some(at) => (&text[..at], true),
        None => (text, false),
    };
    let mut lines: Vec<String> = last_lines(text.trim_end(), n)
        .lines()
        .map(|line| match line.char_indices().nth(MAX_LINE) {
            Some((at, _)) => format!("{}… ({} more bytes)", &line[..at], line.len() - at),
            None => line.to_owned(),
        })
        .collect();
    if omitted {
        lines.push("(stack backtrace omitted; the full log has it)".to_owned());
    }
    lines.join("\n")
}

fn read_from(path: &Path, offset: u64) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn last_lines(text: &str, n: usize) -> &str {
    let text = text.trim_end_matches('\n');
    let start = text
        .char_indices()
        .filter(|(_, c)| *c == '\n')
        .map(|(i, _)| i + 1)
        .rev()
        .nth(n - 1)
        .unwrap_or(0);
    &text[start..]
}

/// The id of the first product the catalog lists, or why there is none.
fn first_product_id(catalog: &Service) -> Result<String, String> {
    let response = http::get(
        &catalog.addr(),
        "/api/v1/products?limit=1",
        Duration::from_secs(5),
    )
    .map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!(
            "HTTP {}: {}",
            response.status,
            response.body_snippet()
        ));
    }
    product_id_from(&response.body).ok_or_else(|| "the answer holds no product id".to_owned())
}

/// `items[0].id` of `{"items":[{"id":...}]}`, as text.
fn product_id_from(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    match &json["items"][0]["id"] {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// A checkout to paste into a POSIX shell.
fn checkout_curl(order_url: &str, api_key: &str, product_id: &str) -> String {
    let product_json = serde_json::Value::String(product_id.to_owned()).to_string();
    let body = format!(
        r#"{{"country":"US","payment_method":"card","items":[{{"product_id":{product_json},"quantity":1}}]}}"#
    );
    format!(
        "curl -s -X POST {order_url}/api/v1/checkout -H {} -H 'Content-Type: application/json' -d {}",
        shell_quote(&format!("Authorization: Bearer {api_key}")),
        shell_quote(&body)
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The checkout, plus a note when the product id is a placeholder.
fn checkout_section(order_url: &str, api_key: &str, product: &Result<String, String>) -> String {
    let mut out = String::from("\nTry a checkout:\n");
    let id = match product {
        Ok(id) => id.as_str(),
        Err(why) => {
            out.push_str(&format!(
                "  (no product id from the catalog: {why}; replace {PRODUCT_PLACEHOLDER} with an id from\n   \
                 curl -s '{}/api/v1/products?limit=1')\n",
                CATALOG.url()
            ));
            PRODUCT_PLACEHOLDER
        }
    };
    out.push_str(&format!("  {}\n", checkout_curl(order_url, api_key, id)));
    out
}

/// Prometheus scraping the three services every 5 s.
///
/// No `scrape_protocols`: Prometheus 2.42 (Debian 12) rejects that key; with
/// `--enable-feature=exemplar-storage` it asks for OpenMetrics, which carries the exemplars, itself.
fn render_prometheus_yml(targets: &[(&str, String)]) -> String {
    let mut yml = String::from(
        "# Written by `cargo xtask up` on every start; edits are lost.\n\
         global:\n  scrape_interval: 5s\n  scrape_timeout: 4s\n  evaluation_interval: 5s\n\
         scrape_configs:\n",
    );
    for (job, addr) in targets {
        yml.push_str(&format!(
            "  - job_name: {job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{addr}']\n"
        ));
    }
    yml
}

/// A Prometheus graph URL showing p99 payment latency with its exemplars.
fn exemplar_graph_url(prometheus_url: &str) -> String {
    let query = "histogram_quantile(0.99, sum by (le) (rate(webstore_payment_duration_seconds_bucket[1m])))";
    format!(
        "{prometheus_url}/graph?g0.expr={}&g0.tab=0&g0.range_input=15m&g0.show_exemplars=1",
        percent_encode(query)
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Debug)]
enum PrometheusStatus {
    Running { port: u16 },
    NotInstalled,
    Failed(String),
}

/// Everything printed once the local stack is ready.
struct NativeSummary {
    logs_dir: String,
    pids_dir: String,
    prometheus: PrometheusStatus,
    api_key: String,
    product: Result<String, String>,
    detach: bool,
}

impl NativeSummary {
    fn render(&self) -> String {
        let mut out = String::from("\nThe WebStore stack is up (local processes).\n\n");
        for service in [ORDER, CATALOG, GATEWAY] {
            let url = service.url();
            out.push_str(&format!("  {:<19} {url}\n", service.name));
            out.push_str(&format!("  {:<19} {url}/metrics\n", ""));
            out.push_str(&format!("  {:<19} {url}/openapi.json\n", ""));
        }
        let sink = OTLP_SINK.url();
        out.push_str(&format!(
            "  {:<19} {sink}/   (OTLP/HTTP receiver: {sink}/v1/traces)\n",
            "traces (otlp-sink)"
        ));
        match &self.prometheus {
            PrometheusStatus::Running { port } => {
                let url = format!("http://{HOST}:{port}");
                out.push_str(&format!("  {:<19} {url}   (exemplar storage on)\n", "prometheus"));
                out.push_str(&format!("  {:<19} {}\n", "", exemplar_graph_url(&url)));
            }
            PrometheusStatus::NotInstalled => out.push_str(&format!(
                "  {:<19} not installed: `apt-get install prometheus` (Debian/Ubuntu) or `brew install prometheus`,\n\
                 {:<22}then run `cargo xtask up` again; /metrics above works without it\n",
                "prometheus", ""
            )),
            PrometheusStatus::Failed(why) => {
                out.push_str(&format!("  {:<19} did not start: {why}\n", "prometheus"));
            }
        }

        out.push_str(&checkout_section(
            &ORDER.url(),
            &self.api_key,
            &self.product,
        ));
        out.push_str(&format!(
            "\nIts distributed trace (use the trace_id from the response):\n  curl -s {sink}/api/traces/<trace_id>\n  \
             or open {sink}/\n"
        ));
        out.push_str(&format!(
            "\nLogs: {}/<name>.log   pids: {}\n",
            self.logs_dir, self.pids_dir
        ));
        if self.detach {
            out.push_str("Running in the background; `cargo xtask down` stops it.\n");
        } else {
            out.push_str(
                "Ctrl-C here stops everything (or `cargo xtask down` from another terminal).\n",
            );
        }
        out
    }
}

fn render_compose_summary(api_key: &str, product: &Result<String, String>) -> String {
    let mut out = String::from("\nThe WebStore stack is up (Docker compose).\n\n");
    for (name, url) in [
        ("grafana", "http://localhost:3000"),
        ("prometheus", "http://localhost:9090"),
        ("tempo", "http://localhost:3200"),
    ] {
        out.push_str(&format!("  {name:<17} {url}\n"));
    }
    for service in [ORDER, CATALOG, GATEWAY] {
        let url = format!("http://localhost:{}", service.port);
        out.push_str(&format!(
            "  {:<19} {url}   {url}/metrics   {url}/openapi.json\n",
            service.name
        ));
    }
    out.push_str(&checkout_section(&ORDER.url(), api_key, product));
    out.push_str(
        "\nIts distributed trace (use the trace_id from the response): Grafana → Explore → Tempo, or\n  \
         curl -s http://localhost:3200/api/traces/<trace_id>\n",
    );
    out.push_str(&format!(
        "\nLogs: docker compose -f {COMPOSE_FILE} logs -f   stop: cargo xtask down\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_is_ready_to_paste() {
        assert_eq!(
            checkout_curl("http://127.0.0.1:8080", "demo-key", "0195f0a2-7c1e-7000-8000-000000000001"),
            "curl -s -X POST http://127.0.0.1:8080/api/v1/checkout -H 'Authorization: Bearer demo-key' \
             -H 'Content-Type: application/json' -d '{\"country\":\"US\",\"payment_method\":\"card\",\
             \"items\":[{\"product_id\":\"0195f0a2-7c1e-7000-8000-000000000001\",\"quantity\":1}]}'"
        );
    }

    #[test]
    fn curl_survives_odd_ids() {
        let curl = checkout_curl("http://127.0.0.1:8080", "k'ey", "it's \"quoted\"");
        assert!(curl.contains(r"'Authorization: Bearer k'\''ey'"), "{curl}");
        assert!(
            curl.contains(r#""product_id":"it'\''s \"quoted\"""#),
            "{curl}"
        );
    }

    #[test]
    fn placeholder_when_the_catalog_has_nothing() {
        let section = checkout_section(
            "http://127.0.0.1:8080",
            "demo-key",
            &Err("connection refused".to_owned()),
        );
        assert!(
            section.contains("\"product_id\":\"<PRODUCT_ID>\""),
            "{section}"
        );
        assert!(section.contains("connection refused"));
        assert!(section.contains("curl -s 'http://127.0.0.1:8081/api/v1/products?limit=1'"));
    }

    #[test]
    fn product_ids() {
        assert_eq!(
            product_id_from(
                br#"{"items":[{"id":"abc","name":"Mug","price_cents":1200}],"next_cursor":"x"}"#
            ),
            Some("abc".to_owned())
        );
        assert_eq!(
            product_id_from(br#"{"items":[{"id":42}]}"#),
            Some("42".to_owned())
        );
        assert_eq!(product_id_from(br#"{"items":[]}"#), None);
        assert_eq!(product_id_from(b"<html>"), None);
    }

    #[test]
    fn api_keys() {
        assert_eq!(first_api_key("demo:demo-key"), "demo-key");
        assert_eq!(first_api_key(" alice : k1 ,bob:k2"), "k1");
        assert_eq!(first_api_key("garbage"), "<API_KEY>");
    }

    #[test]
    fn user_environment_wins_except_identity() {
        let user = |key: &str| match key {
            "RUST_LOG" => Some("debug".to_owned()),
            "BIND_ADDR" => Some("0.0.0.0:9999".to_owned()),
            "API_KEYS" => Some("me:secret".to_owned()),
            _ => None,
        };
        let order: BTreeMap<_, _> = resolve_env(&service_env(ORDER), &user)
            .into_iter()
            .collect();
        assert_eq!(order["BIND_ADDR"], "127.0.0.1:8080", "identity is forced");
        assert_eq!(order["OTEL_SERVICE_NAME"], "order-service");
        assert!(!order.contains_key("RUST_LOG"), "inherited from the user");
        assert!(!order.contains_key("API_KEYS"));
        assert_eq!(order["CATALOG_URL"], "http://127.0.0.1:8081");
        assert_eq!(order["PAYMENT_GATEWAY_URL"], "http://127.0.0.1:8082");
        assert_eq!(
            order["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://127.0.0.1:4318"
        );
        assert_eq!(order["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
        assert_eq!(order["LOG_FORMAT"], "json");
        assert!(
            !order.contains_key("DATABASE_URL"),
            "services default to data/<service>.db"
        );

        let gateway: BTreeMap<_, _> = resolve_env(&service_env(GATEWAY), &|_: &str| None)
            .into_iter()
            .collect();
        assert_eq!(gateway["ADMIN_TOKEN"], "dev-admin-token");
        assert_eq!(gateway["GATEWAY_LATENCY_SCALE"], "1.0");
        assert_eq!(gateway["BIND_ADDR"], "127.0.0.1:8082");

        assert_eq!(overridden_defaults(&user), ["API_KEYS", "RUST_LOG"]);
    }

    #[test]
    fn cargo_run_variables_are_not_passed_on() {
        assert!(is_cargo_run_var("CARGO_PKG_NAME"));
        assert!(is_cargo_run_var("CARGO_MANIFEST_DIR"));
        assert!(!is_cargo_run_var("CARGO_HOME"));
        assert!(!is_cargo_run_var("CARGO_TARGET_DIR"));
    }

    #[test]
    fn prometheus_config() {
        let yml = render_prometheus_yml(&[("order-service", "127.0.0.1:8080".to_owned())]);
        assert_eq!(
            yml,
            "# Written by `cargo xtask up` on every start; edits are lost.\n\
             global:\n  scrape_interval: 5s\n  scrape_timeout: 4s\n  evaluation_interval: 5s\n\
             scrape_configs:\n  - job_name: order-service\n    metrics_path: /metrics\n    static_configs:\n      \
             - targets: ['127.0.0.1:8080']\n"
        );
        assert!(
            !yml.contains("scrape_protocols"),
            "Prometheus 2.42 rejects it"
        );
    }

    #[test]
    fn next_free_port() {
        assert_eq!(pick_port(9090, 9099, |_| true), Some(9090));
        assert_eq!(pick_port(9090, 9099, |p| p >= 9092), Some(9092));
        assert_eq!(pick_port(9090, 9099, |_| false), None);
    }

    #[test]
    fn executables_from_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"telemetry","kind":["lib"]},"executable":null,"fresh":true}
{"reason":"compiler-artifact","target":{"name":"order-service","kind":["bin"]},"executable":"/build/debug/order-service","fresh":false}
{"reason":"build-finished","success":true}
not json"#;
        let found = executables(messages);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found["order-service"],
            Path::new("/build/debug/order-service")
        );
    }

    #[test]
    fn log_excerpt_shows_the_error_not_the_backtrace() {
        let long = "x".repeat(600);
        let text = format!(
            "starting\n{long}\nError: no database\n\nStack backtrace:\n   0: main\n   1: _start\n"
        );
        let excerpt = log_excerpt(&text, 2);
        assert_eq!(
            excerpt,
            format!("{}… (100 more bytes)\nError: no database\n(stack backtrace omitted; the full log has it)", "x".repeat(500))
        );
        assert_eq!(log_excerpt("a\nb\nc\n", 2), "b\nc");
    }

    #[test]
    fn tail_of_a_log() {
        assert_eq!(last_lines("a\nb\nc\nd\n", 2), "c\nd");
        assert_eq!(last_lines("a\nb", 5), "a\nb");
        assert_eq!(last_lines("", 3), "");
    }

    #[test]
    fn summary_lists_every_url() {
        let summary = NativeSummary {
            logs_dir: "target/webstore/logs".to_owned(),
            pids_dir: "target/webstore/pids".to_owned(),
            prometheus: PrometheusStatus::Running { port: 9091 },
            api_key: "demo-key".to_owned(),
            product: Ok("p-1".to_owned()),
            detach: false,
        };
        let text = summary.render();
        for port in [8080, 8081, 8082] {
            for path in ["", "/metrics", "/openapi.json"] {
                assert!(
                    text.contains(&format!("http://127.0.0.1:{port}{path}\n")),
                    "{port}{path} in\n{text}"
                );
            }
        }
        assert!(text.contains("http://127.0.0.1:4318/ "));
        assert!(text.contains("curl -s http://127.0.0.1:4318/api/traces/<trace_id>"));
        assert!(text.contains("http://127.0.0.1:9091/graph?g0.expr=histogram_quantile%280.99%2C"));
        assert!(text.contains("\"product_id\":\"p-1\""));
        assert!(text.contains("Ctrl-C"));

        let missing = NativeSummary {
            prometheus: PrometheusStatus::NotInstalled,
            detach: true,
            ..summary
        };
        let text = missing.render();
        assert!(text.contains("apt-get install prometheus"));
        assert!(text.contains("cargo xtask down"));
    }

    #[test]
    fn compose_summary() {
        let text = render_compose_summary("demo-key", &Ok("p-1".to_owned()));
        for url in [
            "http://localhost:3000",
            "http://localhost:9090",
            "http://localhost:3200",
            "http://localhost:8082/metrics",
        ] {
            assert!(text.contains(url), "{url} in\n{text}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn readiness_sees_a_dead_process() {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        // Port 9 (discard) on loopback: nothing listens, so only the exit can end the wait.
        let result = wait_ready("127.0.0.1:9", "/readyz", Duration::from_secs(10), || {
            child.try_wait().ok().flatten()
        });
        match result {
            Err(NotReady::Exited(status)) => assert_eq!(status.code(), Some(3)),
            other => panic!("expected an exit, got {other:?}"),
        }
    }

    #[test]
    fn readiness_times_out_with_the_last_answer() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let mut conn = conn.unwrap();
                let mut request = [0u8; 1024];
                let _ = conn.read(&mut request);
                let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 15\r\n\r\ndatabase: down!");
            }
        });
        let result = wait_ready(&addr, "/readyz", Duration::from_millis(500), || None);
        match result {
            Err(NotReady::TimedOut { last, .. }) => assert_eq!(last, "HTTP 503: database: down!"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn stopping_a_child() {
        let mut command = Command::new("sleep");
        command.arg("30");
        os::own_process_group(&mut command);
        let mut child = command.spawn().unwrap();
        assert!(matches!(stop_child(&mut child), StopOutcome::Stopped));
        assert!(matches!(
            stop_child(&mut child),
            StopOutcome::AlreadyExited(_)
        ));
    }
}
