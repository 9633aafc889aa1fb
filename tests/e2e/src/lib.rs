//! Running the WebStore as real processes for end-to-end tests: the three service binaries
//! (built by `cargo test`/`cargo xtask test` beside this test binary), a real Prometheus with
//! exemplar storage, and the in-process development OTLP receiver.
//!
//! `Stack::start` is the stack of the exemplar test; `Stack::start_with` takes [`StackOptions`]
//! for tests that need their own Prometheus configuration (the observability stack's, see
//! [`infra`]) or extra service settings.

pub mod infra;
pub mod prometheus;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use test_support::OtlpSink;

pub const SERVICES: [&str; 3] = ["order-service", "catalog-service", "payment-gateway"];
/// The payment gateway's fault API token in end-to-end stacks.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";
/// The API key of the `e2e` customer.
pub const API_KEY: &str = "e2e-key-1234";

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

/// The three services as processes, Prometheus scraping them every second, and an in-process
/// OTLP sink receiving their spans. Everything stops when it is dropped.
pub struct Stack {
    pub dir: PathGuard,
    pub processes: Vec<Process>,
    /// Base URLs.
    pub order: String,
    pub catalog: String,
    pub gateway: String,
    pub prometheus: String,
    pub sink: OtlpSink,
}

/// A scratch directory removed on drop (kept when a test fails, for its logs).
pub struct PathGuard(pub std::path::PathBuf);

impl Drop for PathGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Where Prometheus scrapes, handed to a [`StackOptions::prometheus_config`] builder.
#[derive(Clone, Debug)]
pub struct ScrapeTargets {
    /// Service name → `127.0.0.1:<port>`, for the three services.
    pub services: HashMap<String, String>,
    /// Prometheus's own `127.0.0.1:<port>`.
    pub prometheus: String,
    /// The stack's scratch directory: rule files and the like may be written there.
    pub dir: PathBuf,
}

/// Builds the Prometheus configuration (YAML text) from the stack's addresses.
pub type PrometheusConfigFn = Arc<dyn Fn(&ScrapeTargets) -> anyhow::Result<String> + Send + Sync>;

/// Additions to the default stack. `StackOptions::default()` is exactly `Stack::start`.
#[derive(Clone, Default)]
pub struct StackOptions {
    /// Tells this stack's scratch directory apart when one test process runs several stacks.
    pub name: Option<String>,
    /// Extra environment for every service, applied after the defaults (so it wins).
    pub service_env: Vec<(String, String)>,
    /// Extra environment for one service, applied last.
    pub per_service_env: Vec<(String, String, String)>,
    /// Replaces the built-in Prometheus configuration.
    pub prometheus_config: Option<PrometheusConfigFn>,
}

impl Stack {
    pub async fn start(client: &reqwest::Client) -> anyhow::Result<Stack> {
        Self::start_with(client, StackOptions::default()).await
    }

    pub async fn start_with(
        client: &reqwest::Client,
        options: StackOptions,
    ) -> anyhow::Result<Stack> {
        let dir_name = match &options.name {
            Some(name) => format!("webstore-e2e-{}-{name}", std::process::id()),
            None => format!("webstore-e2e-{}", std::process::id()),
        };
        let dir = std::env::temp_dir().join(dir_name);
        std::fs::create_dir_all(&dir)?;
        let bin = binaries_dir()?;
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse()?)?;
        let ports: HashMap<&str, u16> = SERVICES
            .iter()
            .map(|s| Ok((*s, free_port()?)))
            .collect::<anyhow::Result<_>>()?;
        let url = |s: &str| format!("http://127.0.0.1:{}", ports[s]);
        let mut processes = Vec::new();
        for service in ["catalog-service", "payment-gateway", "order-service"] {
            let mut env = vec![
                ("BIND_ADDR", format!("127.0.0.1:{}", ports[service])),
                (
                    "DATABASE_URL",
                    format!("sqlite://{}/{service}.db?mode=rwc", dir.display()),
                ),
                ("OTEL_SERVICE_NAME", service.to_owned()),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", sink.base_url()),
                ("OTEL_BSP_SCHEDULE_DELAY", "200".to_owned()),
                ("HTTP_WORKERS", "2".to_owned()),
                ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
                ("LOG_FORMAT", "json".to_owned()),
            ];
            match service {
                "order-service" => {
                    env.push(("CATALOG_URL", url("catalog-service")));
                    env.push(("PAYMENT_GATEWAY_URL", url("payment-gateway")));
                    env.push(("API_KEYS", format!("e2e:{API_KEY}")));
                }
                // The real latency model, so payments spread over several buckets.
                "payment-gateway" => env.push(("GATEWAY_LATENCY_SCALE", "1.0".to_owned())),
                _ => {}
            }
            for (k, v) in &options.service_env {
                env.push((k.as_str(), v.clone()));
            }
            for (s, k, v) in &options.per_service_env {
                if s == service {
                    env.push((k.as_str(), v.clone()));
                }
            }
            let mut p = Process::start(service, &bin.join(service), &[], &env, &dir)?;
            wait_ready(
                client,
                &format!("{}/readyz", url(service)),
                &mut p,
                Duration::from_secs(60),
            )
            .await?;
            processes.push(p);
        }

        let prom_port = free_port()?;
        let config = match &options.prometheus_config {
            Some(build) => build(&ScrapeTargets {
                services: SERVICES
                    .iter()
                    .map(|s| ((*s).to_owned(), format!("127.0.0.1:{}", ports[s])))
                    .collect(),
                prometheus: format!("127.0.0.1:{prom_port}"),
                dir: dir.clone(),
            })
            .context("building the Prometheus configuration")?,
            None => {
                let targets: Vec<String> = SERVICES
                    .iter()
                    .map(|s| format!("'127.0.0.1:{}'", ports[s]))
                    .collect();
                format!(
                    "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nstorage:\n  exemplars:\n    max_exemplars: 100000\nscrape_configs:\n  - job_name: webstore\n    static_configs:\n      - targets: [{}]\n",
                    targets.join(", ")
                )
            }
        };
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config)?;
        let mut prom = Process::start(
            "prometheus",
            std::path::Path::new("prometheus"),
            &[
                &format!("--config.file={}", config_path.display()),
                &format!("--storage.tsdb.path={}", dir.join("prom-data").display()),
                &format!("--web.listen-address=127.0.0.1:{prom_port}"),
                "--enable-feature=exemplar-storage",
            ],
            &[],
            &dir,
        )?;
        let prometheus = format!("http://127.0.0.1:{prom_port}");
        wait_ready(
            client,
            &format!("{prometheus}/-/ready"),
            &mut prom,
            Duration::from_secs(30),
        )
        .await?;
        processes.push(prom);
        Ok(Stack {
            dir: PathGuard(dir),
            processes,
            order: url("order-service"),
            catalog: url("catalog-service"),
            gateway: url("payment-gateway"),
            prometheus,
            sink,
        })
    }

    /// The base URL of `service` (one of [`SERVICES`]).
    pub fn url_of(&self, service: &str) -> Option<&str> {
        match service {
            "order-service" => Some(&self.order),
            "catalog-service" => Some(&self.catalog),
            "payment-gateway" => Some(&self.gateway),
            _ => None,
        }
    }
}
