//! The store as processes on loopback, through `devstack` like every other launcher: an OTLP
//! receiver, a `redis-server` of its own (so the soak may restart it), the three services on
//! the soak's PostgreSQL databases, each on a free port that stays its own across restarts.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use devstack::os::{self, Signal};
use devstack::services::{self, Addresses, CATALOG, GATEWAY, ORDER, OTLP_SINK};
use devstack::{ports, Binaries, Launch, LogMode, Probe, Process, StopOutcome, HOST};

/// How long a process may take to answer its readiness endpoint.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// What the services get to drain on SIGTERM (SHUTDOWN_TIMEOUT), and the wait before SIGKILL.
const SHUTDOWN_TIMEOUT: &str = "5s";
const STOP_GRACE: Duration = Duration::from_secs(15);
/// Shorter than any wait of the traffic client (20 s), so a charge's timeout is order-service's
/// own 504, and short enough that the gateway's faults do not hold every slot; well above the
/// gateway's own latency at the soak's scale (p99.9 under 1 s), so only an injected fault
/// times out.
pub const PAYMENT_TIMEOUT: &str = "3s";
/// Generous: a shared, loaded machine must not turn a slow catalog answer into a 503.
const CATALOG_TIMEOUT: &str = "5s";
/// The gateway's latency model at a twentieth: realistic shape, quick checkouts.
const GATEWAY_LATENCY_SCALE: &str = "0.05";
/// The reconciler while traffic runs: its grace outlasts any checkout in flight
/// (CATALOG_TIMEOUT + PAYMENT_TIMEOUT + the client's retries).
const RECONCILE_DURING: [(&str, &str); 2] =
    [("RECONCILE_INTERVAL", "5s"), ("RECONCILE_GRACE", "20s")];

/// A developer's own settings must not reach the soak's processes.
const DEVELOPER_SETTINGS: [&str; 6] = [
    "DATABASE_URL",
    "REDIS_URL",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "RUST_LOG",
];

/// Where each service keeps its data.
#[derive(Clone, Debug)]
pub struct DatabaseUrls {
    pub order: String,
    pub gateway: String,
    pub catalog: String,
}

/// Everything running, and how to start each part again.
pub struct Stack {
    bin: Binaries,
    dir: PathBuf,
    pub addresses: Addresses,
    sink_addr: String,
    redis_port: u16,
    databases: DatabaseUrls,
    pub admin_token: String,
    pub api_key: String,
    pub order: Option<Process>,
    pub gateway: Option<Process>,
    pub catalog: Option<Process>,
    pub sink: Option<Process>,
    pub redis: Option<Process>,
}

impl Stack {
    /// Starts the receiver, Redis, the catalog, the gateway and order-service, each ready
    /// before the next.
    pub fn start(bin: Binaries, dir: &Path, databases: DatabaseUrls) -> Result<Stack> {
        let addr = || -> Result<String> { Ok(format!("{HOST}:{}", ports::free_port()?)) };
        let sink_addr = addr()?;
        let addresses = Addresses {
            order: addr()?,
            catalog: addr()?,
            gateway: addr()?,
            otlp: Some(format!("http://{sink_addr}")),
        };
        let secret = || uuid::Uuid::new_v4().simple().to_string();
        let mut stack = Stack {
            bin,
            dir: dir.to_path_buf(),
            addresses,
            sink_addr,
            redis_port: ports::free_port()?,
            databases,
            admin_token: secret(),
            api_key: format!("soak-{}", secret()),
            order: None,
            gateway: None,
            catalog: None,
            sink: None,
            redis: None,
        };
        stack.start_sink()?;
        stack.start_redis()?;
        for service in [CATALOG, GATEWAY] {
            let process = stack.start_service(service, &[])?;
            match service {
                CATALOG => stack.catalog = Some(process),
                _ => stack.gateway = Some(process),
            }
        }
        stack.start_order(&RECONCILE_DURING)?;
        Ok(stack)
    }

    pub fn url(&self, service: &str) -> String {
        format!("http://{}", self.addresses.of(service).unwrap_or_default())
    }

    fn launch(&self, name: &str, program: PathBuf) -> Launch {
        DEVELOPER_SETTINGS.iter().fold(
            Launch::new(name, program, self.dir.join(format!("{name}.log")))
                .current_dir(&self.dir)
                .log_mode(LogMode::Append),
            |launch, key| launch.env_remove(key),
        )
    }

    fn redis_url(&self) -> String {
        format!("redis://{HOST}:{}", self.redis_port)
    }

    fn start_service(&self, service: &str, extra: &[(&str, &str)]) -> Result<Process> {
        let database = match service {
            ORDER => &self.databases.order,
            GATEWAY => &self.databases.gateway,
            _ => &self.databases.catalog,
        };
        let mut launch = self
            .launch(service, self.bin.get(service)?)
            .envs(services::identity(service, &self.addresses))
            .envs(services::neighbours(service, &self.addresses))
            .env("DATABASE_URL", database)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("HTTP_WORKERS", "2")
            .env("OTEL_BSP_SCHEDULE_DELAY", "500")
            .env("SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUT)
            .stop_grace(STOP_GRACE);
        match service {
            ORDER => {
                launch = launch
                    .env("REDIS_URL", self.redis_url())
                    .env("API_KEYS", format!("soak:{}", self.api_key))
                    .env("PAYMENT_TIMEOUT", PAYMENT_TIMEOUT)
                    .env("CATALOG_TIMEOUT", CATALOG_TIMEOUT)
                    // Quotas far above the soak's rate: every request still goes through the
                    // limiter (and so through Redis, or its fallback while Redis restarts), and
                    // no 429 hides a failure.
                    .env("RATE_LIMIT_CLIENT", "100000")
                    .env("RATE_LIMIT_GLOBAL", "100000");
            }
            GATEWAY => {
                launch = launch
                    .env("ADMIN_TOKEN", &self.admin_token)
                    .env("GATEWAY_LATENCY_SCALE", GATEWAY_LATENCY_SCALE);
            }
            _ => launch = launch.env("REDIS_URL", self.redis_url()),
        }
        let mut process = launch.envs(extra.iter().copied()).start()?;
        let probe = Probe::new(
            self.addresses.of(service).unwrap_or_default(),
            services::ready_path(service),
        );
        wait_ready(&mut process, &probe)?;
        Ok(process)
    }

    /// Starts order-service (again), with `extra` variables over the soak's own.
    pub fn start_order(&mut self, extra: &[(&str, &str)]) -> Result<Duration> {
        let started = Instant::now();
        self.order = Some(self.start_service(ORDER, extra)?);
        Ok(started.elapsed())
    }

    /// SIGTERM to order-service; how it ended.
    pub fn stop_order(&mut self) -> Option<StopOutcome> {
        self.order.take().map(|mut p| p.stop())
    }

    /// SIGKILL to order-service, then waits until it is gone.
    pub fn kill_order(&mut self) -> Result<()> {
        let Some(mut process) = self.order.take() else {
            bail!("order-service is not running");
        };
        os::send(process.id(), Signal::Kill).context("kill -9 order-service")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while process.is_running() {
            if Instant::now() > deadline {
                bail!("order-service still there 10 s after SIGKILL");
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn start_sink(&mut self) -> Result<()> {
        let launch = self
            .launch(OTLP_SINK, self.bin.get(OTLP_SINK)?)
            .args(["--bind", &self.sink_addr, "--discard"])
            .stop_grace(Duration::from_secs(5));
        let mut process = launch.start()?;
        wait_ready(
            &mut process,
            &Probe::new(&self.sink_addr, services::ready_path(OTLP_SINK)),
        )?;
        self.sink = Some(process);
        Ok(())
    }

    pub fn stop_sink(&mut self) -> Option<StopOutcome> {
        self.sink.take().map(|mut p| p.stop())
    }

    pub fn start_redis(&mut self) -> Result<()> {
        let port = self.redis_port.to_string();
        let mut process = self
            .launch("redis", PathBuf::from("redis-server"))
            .args([
                "--port",
                &port,
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stop_grace(Duration::from_secs(5))
            .start()
            .context("starting redis-server (is it installed? apt-get install redis-server)")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((HOST, self.redis_port)).is_err() {
            if !process.is_running() || Instant::now() > deadline {
                bail!("redis-server did not start:\n{}", process.log_tail(20));
            }
            thread::sleep(Duration::from_millis(50));
        }
        self.redis = Some(process);
        Ok(())
    }

    pub fn stop_redis(&mut self) -> Option<StopOutcome> {
        self.redis.take().map(|mut p| p.stop())
    }

    /// (service, pid) of each service running now.
    pub fn service_pids(&self) -> Vec<(&'static str, u32)> {
        [
            (ORDER, &self.order),
            (CATALOG, &self.catalog),
            (GATEWAY, &self.gateway),
        ]
        .into_iter()
        .filter_map(|(name, p)| p.as_ref().map(|p| (name, p.id())))
        .collect()
    }

    /// Stops everything, order-service first (its drain may still call its neighbours); the
    /// services whose logs hold a panic.
    pub fn stop_all(&mut self) -> Vec<String> {
        let mut panicked = Vec::new();
        for process in [
            &mut self.order,
            &mut self.gateway,
            &mut self.catalog,
            &mut self.sink,
            &mut self.redis,
        ] {
            if let Some(mut p) = process.take() {
                p.stop();
                // The whole file: every incarnation of a restarted service appends to it.
                let log = std::fs::read_to_string(p.log_path()).unwrap_or_default();
                if log.contains("panicked at") {
                    panicked.push(p.name().to_owned());
                }
            }
        }
        panicked
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_all();
    }
}

fn wait_ready(process: &mut Process, probe: &Probe) -> Result<()> {
    match process.wait_ready(probe, READY_TIMEOUT) {
        Ok(_) => Ok(()),
        Err(devstack::Error::NotReady { name, reason, log }) => {
            bail!("{name} not ready at {}: {reason}\n{log}", probe.url())
        }
        Err(err) => Err(err.into()),
    }
}
