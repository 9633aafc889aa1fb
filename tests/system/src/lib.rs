//! System tests: the WebStore as real processes, started, health-checked and stopped through
//! `devstack` (the library `cargo xtask up` and the bench use), with a real Prometheus with
//! exemplar storage and the in-process development OTLP receiver.
//!
//! The service binaries are the ones `cargo test --workspace` (and so `cargo xtask test`) builds
//! beside the test binaries; [`binaries`] finds them.
//!
//! [`Stack::start`] is the stack of the exemplar test; [`Stack::start_with`] takes
//! [`StackOptions`] for tests that need their own Prometheus configuration (the observability
//! stack's, see `infra_tests::live`) or extra service settings. [`prometheus`] holds the few
//! Prometheus API calls the tests make.

pub mod prometheus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
pub use devstack::services::SERVICES;
use devstack::services::{self, Addresses, GATEWAY, ORDER};
pub use devstack::{ports::free_port, Process};
use devstack::{Binaries, Launch, Probe, HOST};
use infra_tests::live::Targets;
use test_support::OtlpSink;

/// The payment gateway's fault API token in system-test stacks.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";
/// The API key of the `e2e` customer.
pub const API_KEY: &str = "e2e-key-1234";
/// How long a process gets to answer its readiness endpoint.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A developer's own settings must not leak into a test's processes.
const DEVELOPER_SETTINGS: [&str; 5] = [
    "DATABASE_URL",
    "REDIS_URL",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "RUST_LOG",
];

/// The service binaries, where `cargo test --workspace` built them.
pub fn binaries() -> anyhow::Result<Binaries> {
    Ok(Binaries::beside_test_binary()?)
}

/// A process of a test: run in `dir`, output to `<dir>/<name>.log`, none of the developer's own
/// settings inherited.
pub fn launch(name: &str, program: impl Into<PathBuf>, dir: &Path) -> Launch {
    DEVELOPER_SETTINGS.iter().fold(
        Launch::new(name, program, dir.join(format!("{name}.log"))).current_dir(dir),
        |launch, key| launch.env_remove(key),
    )
}

/// Starts `launch` and waits until `probe` answers 200; the error holds the end of its log.
pub fn start_ready(launch: Launch, probe: &Probe) -> anyhow::Result<Process> {
    let mut process = launch.start()?;
    match process.wait_ready(probe, READY_TIMEOUT) {
        Ok(_) => Ok(process),
        Err(devstack::Error::NotReady { name, reason, log }) => {
            anyhow::bail!("{name} not ready at {}: {reason}\n{log}", probe.url())
        }
        Err(err) => Err(err.into()),
    }
}

/// A scratch directory removed on drop (kept when a test fails, for its logs).
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// `<temp>/webstore-<label>-<pid>`, created.
    pub fn new(label: &str) -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("webstore-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Scratch(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Where Prometheus scrapes, handed to a [`StackOptions::prometheus_config`] builder.
#[derive(Clone, Debug)]
pub struct ScrapeTargets {
    pub targets: Targets,
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

/// The three services as processes, Prometheus scraping them every second, and an in-process
/// OTLP sink receiving their spans. Everything stops when it is dropped: the processes first
/// (their last spans still reach the sink), then the sink, then the scratch directory.
///
/// Starting blocks the calling thread (readiness polling is synchronous); the sink runs on its
/// own thread, so a `#[tokio::test]` may start a stack directly.
pub struct Stack {
    pub processes: Vec<Process>,
    /// Base URLs.
    pub order: String,
    pub catalog: String,
    pub gateway: String,
    pub prometheus: String,
    pub sink: OtlpSink,
    pub dir: Scratch,
}

impl Stack {
    pub fn start() -> anyhow::Result<Stack> {
        Self::start_with(StackOptions::default())
    }

    pub fn start_with(options: StackOptions) -> anyhow::Result<Stack> {
        let dir = Scratch::new(&match &options.name {
            Some(name) => format!("e2e-{name}"),
            None => "e2e".to_owned(),
        })?;
        let bin = binaries()?;
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse()?)?;
        let addr = || -> anyhow::Result<String> { Ok(format!("{HOST}:{}", free_port()?)) };
        let addresses = Addresses {
            order: addr()?,
            catalog: addr()?,
            gateway: addr()?,
            otlp: Some(sink.base_url()),
        };
        let url = |s: &str| format!("http://{}", addresses.of(s).unwrap_or_default());
        let mut processes = Vec::new();
        for service in services::START_ORDER {
            let db = format!("sqlite://{}/{service}.db?mode=rwc", dir.path().display());
            let mut launch = launch(service, bin.get(service)?, dir.path())
                .envs(services::identity(service, &addresses))
                .envs(services::neighbours(service, &addresses))
                .env("DATABASE_URL", db)
                .env("OTEL_BSP_SCHEDULE_DELAY", "200")
                .env("HTTP_WORKERS", "2")
                .env("ADMIN_TOKEN", ADMIN_TOKEN)
                .env("LOG_FORMAT", "json");
            match service {
                ORDER => launch = launch.env("API_KEYS", format!("e2e:{API_KEY}")),
                // The real latency model, so payments spread over several buckets.
                GATEWAY => launch = launch.env("GATEWAY_LATENCY_SCALE", "1.0"),
                _ => {}
            }
            launch = launch.envs(options.service_env.iter().map(|(k, v)| (k, v)));
            for (s, k, v) in &options.per_service_env {
                if s == service {
                    launch = launch.env(k, v);
                }
            }
            let probe = Probe::new(
                addresses.of(service).unwrap_or_default(),
                services::ready_path(service),
            );
            processes.push(start_ready(launch, &probe)?);
        }

        let prometheus_addr = addr()?;
        let targets = Targets {
            services: SERVICES
                .iter()
                .map(|s| {
                    (
                        (*s).to_owned(),
                        addresses.of(s).unwrap_or_default().to_owned(),
                    )
                })
                .collect::<BTreeMap<_, _>>(),
            prometheus: prometheus_addr.clone(),
        };
        let config = match &options.prometheus_config {
            Some(build) => build(&ScrapeTargets {
                targets,
                dir: dir.path().to_path_buf(),
            })
            .context("building the Prometheus configuration")?,
            None => devstack::prometheus::ScrapeConfig {
                interval_secs: 1,
                max_exemplars: Some(100_000),
                jobs: vec![(
                    "webstore".to_owned(),
                    targets.services.into_values().collect(),
                )],
            }
            .render(),
        };
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config)?;
        let prometheus = devstack::prometheus::launch(
            &config_path,
            &dir.path().join("prom-data"),
            &prometheus_addr,
            &dir.path().join("prometheus.log"),
        )
        .current_dir(dir.path());
        processes.push(start_ready(
            prometheus,
            &Probe::new(prometheus_addr.clone(), devstack::prometheus::READY_PATH),
        )?);
        Ok(Stack {
            processes,
            order: url(ORDER),
            catalog: url(services::CATALOG),
            gateway: url(GATEWAY),
            prometheus: format!("http://{prometheus_addr}"),
            sink,
            dir,
        })
    }

    /// The base URL of `service` (one of [`SERVICES`]).
    pub fn url_of(&self, service: &str) -> Option<&str> {
        match service {
            ORDER => Some(&self.order),
            services::CATALOG => Some(&self.catalog),
            GATEWAY => Some(&self.gateway),
            _ => None,
        }
    }

    /// Every process's log holds no panic.
    pub fn assert_no_panics(&self) {
        for p in &self.processes {
            assert!(
                !p.log_text().contains("panicked at"),
                "{} panicked:\n{}",
                p.name(),
                p.log_tail(40)
            );
        }
    }
}
