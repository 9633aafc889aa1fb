//! The native stack the runnable blocks run against: what `cargo xtask up` starts without
//! Docker — the development OTLP receiver, catalog-service, payment-gateway and order-service,
//! Prometheus when a block needs it — with `up`'s development credentials, but on free ports,
//! with scratch SQLite files, and without the developer's own settings.
//!
//! The binaries are the ones `cargo test --workspace` (and so `cargo xtask test`) builds beside
//! the test binary. Everything stops when the [`Stack`] is dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use devstack::services::{self, Addresses, CATALOG, GATEWAY, ORDER, OTLP_SINK};
use devstack::{Binaries, Launch, Probe, Process, HOST};

/// How long a process gets to answer its readiness endpoint.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A developer's own settings must not reach the test's processes.
const DEVELOPER_SETTINGS: [&str; 6] = [
    "DATABASE_URL",
    "REDIS_URL",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "RUST_LOG",
    "API_KEYS",
];

pub struct Stack {
    /// Default port (as the pages write it) → `host:port` of this stack's process.
    pub addresses: BTreeMap<u16, String>,
    processes: Vec<Process>,
    dir: PathBuf,
}

impl Stack {
    /// Starts the stack in `dir`; Prometheus too when `with_prometheus`.
    pub fn start(dir: &Path, with_prometheus: bool) -> Result<Stack, String> {
        let bin = Binaries::beside_test_binary().map_err(|e| e.to_string())?;
        let addr = || -> Result<String, String> {
            Ok(format!(
                "{HOST}:{}",
                devstack::ports::free_port().map_err(|e| e.to_string())?
            ))
        };
        let sink = addr()?;
        let addresses = Addresses {
            order: addr()?,
            catalog: addr()?,
            gateway: addr()?,
            otlp: Some(format!("http://{sink}")),
        };
        let mut stack = Stack {
            addresses: BTreeMap::from([
                (4318, sink.clone()),
                (8080, addresses.order.clone()),
                (8081, addresses.catalog.clone()),
                (8082, addresses.gateway.clone()),
            ]),
            processes: Vec::new(),
            dir: dir.to_path_buf(),
        };

        let launch = |name: &str, program: PathBuf| {
            DEVELOPER_SETTINGS.iter().fold(
                Launch::new(name, program, dir.join(format!("{name}.log"))).current_dir(dir),
                |l, key| l.env_remove(key),
            )
        };
        let program = |name: &str| bin.get(name).map_err(|e| e.to_string());
        stack.start_ready(
            launch(OTLP_SINK, program(OTLP_SINK)?).env("OTLP_SINK_BIND", &sink),
            Probe::new(sink.clone(), services::ready_path(OTLP_SINK)),
        )?;
        for service in services::START_ORDER {
            let db = format!("sqlite://{}/{service}.db?mode=rwc", dir.display());
            let mut l = launch(service, program(service)?)
                .envs(services::identity(service, &addresses))
                .envs(services::neighbours(service, &addresses))
                .env("DATABASE_URL", db)
                .env("HTTP_WORKERS", "2")
                .env("LOG_FORMAT", "json")
                .env("OTEL_BSP_SCHEDULE_DELAY", "200");
            match service {
                ORDER => l = l.env("API_KEYS", services::DEV_API_KEYS),
                // A small scale keeps every charge well under PAYMENT_TIMEOUT: the pages'
                // commands must not time out by chance.
                GATEWAY => {
                    l = l
                        .env("ADMIN_TOKEN", services::DEV_ADMIN_TOKEN)
                        .env("GATEWAY_LATENCY_SCALE", "0.05")
                }
                CATALOG => {}
                _ => {}
            }
            let probe = Probe::new(
                addresses.of(service).unwrap_or_default(),
                services::ready_path(service),
            );
            stack.start_ready(l, probe)?;
        }
        // The gateway declines 2 % of charges by default; a page's checkout must not fail by
        // chance, so this stack's gateway declines none. Faults the pages inject come on top.
        put_json(
            &addresses.gateway,
            "/admin/faults",
            services::DEV_ADMIN_TOKEN,
            r#"{"decline_rate":0.0}"#,
        )?;

        if with_prometheus {
            let listen = addr()?;
            let config = devstack::prometheus::ScrapeConfig {
                interval_secs: 1,
                max_exemplars: None,
                jobs: services::SERVICES
                    .iter()
                    .map(|s| {
                        (
                            (*s).to_owned(),
                            vec![addresses.of(s).unwrap_or_default().to_owned()],
                        )
                    })
                    .collect(),
            };
            let config_path = dir.join("prometheus.yml");
            std::fs::write(&config_path, config.render()).map_err(|e| e.to_string())?;
            stack.start_ready(
                devstack::prometheus::launch(
                    &config_path,
                    &dir.join("prometheus-data"),
                    &listen,
                    &dir.join("prometheus.log"),
                )
                .current_dir(dir),
                Probe::new(listen.clone(), devstack::prometheus::READY_PATH),
            )?;
            stack.addresses.insert(9090, listen);
        }
        Ok(stack)
    }

    fn start_ready(&mut self, launch: Launch, probe: Probe) -> Result<(), String> {
        let mut process = launch.start().map_err(|e| e.to_string())?;
        match process.wait_ready(&probe, READY_TIMEOUT) {
            Ok(_) => {
                self.processes.push(process);
                Ok(())
            }
            Err(devstack::Error::NotReady { name, reason, log }) => Err(format!(
                "{name} not ready at {}: {reason}\n{log}",
                probe.url()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The end of every process's log, for a failure message.
    pub fn log_tails(&self, lines: usize) -> String {
        self.processes
            .iter()
            .map(|p| {
                format!(
                    "--- {} ({})\n{}",
                    p.name(),
                    self.dir.display(),
                    p.log_tail(lines)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Reverse start order: the OTLP receiver last, so the services' final spans arrive.
        while let Some(mut p) = self.processes.pop() {
            p.stop();
        }
    }
}

/// `PUT path` with a JSON body and a bearer token; `Err` unless the answer is 200.
fn put_json(addr: &str, path: &str, token: &str, body: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let fail = |e: std::io::Error| format!("PUT http://{addr}{path}: {e}");
    let mut stream = std::net::TcpStream::connect(addr).map_err(fail)?;
    stream.set_read_timeout(Some(READY_TIMEOUT)).map_err(fail)?;
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(fail)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(fail)?;
    match devstack::http::parse_response(&answer, true).map_err(fail)? {
        Some(r) if r.status == 200 => Ok(()),
        Some(r) => Err(format!(
            "PUT http://{addr}{path}: {} {}",
            r.status,
            r.body_snippet()
        )),
        None => Err(format!("PUT http://{addr}{path}: no answer")),
    }
}
