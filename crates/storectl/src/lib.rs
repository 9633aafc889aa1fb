//! `storectl`: the WebStore incident loop from a terminal.
//!
//! Three commands, each usable against any deployment of the store (the local processes of
//! `cargo xtask up`, the compose stack, a cluster reached through a port-forward):
//!
//! - `traffic` ([`traffic`]): generate traffic, optionally an incident (slow payments, payment
//!   errors, declines, bulk orders, card testing, a flood), driven through the store's real
//!   inputs; faults are put back when it ends; a summary of what the client saw and what the
//!   store counted.
//! - `exemplars` ([`exemplars`]): from a latency spike to its traces — Prometheus's exemplars,
//!   the slowest ones' traces fetched from Tempo or the dev receiver, printed as waterfalls.
//! - `doctor` ([`doctor`]): the exemplar chain checked link by link, the broken one named.
//!
//! `cargo xtask traffic|exemplars|doctor` builds and runs this binary; the library half is for
//! other tools (a soak test reuses [`traffic::run`] for load).
//!
//! # Layout
//! - [`cli`]: every command and option (the `--help` text).
//! - [`traffic`], [`exemplars`], [`doctor`]: the commands.
//! - [`prometheus`]: the Prometheus API calls, exemplars and their trace-id labels.
//! - [`trace`]: trace ids, the Tempo-compatible backend client, OTLP/JSON, analysis, waterfall.
//! - [`openmetrics`]: reading a service's `/metrics`.
//! - [`grafana`]: Explore links, data-source provisioning.
//! - [`http`]: the shared HTTP client (plain HTTP, no TLS), URL helpers.
//! - [`mod@error`]: the one [`Error`] type.
//!
//! **Invariant:** no workspace crate is a dependency: `storectl` speaks only the store's public
//! HTTP contract (DESIGN: endpoints, metrics, the fault API), like any other client.

pub mod cli;
pub mod doctor;
pub mod error;
pub mod exemplars;
pub mod grafana;
pub mod http;
pub mod openmetrics;
pub mod prometheus;
pub mod trace;
pub mod traffic;

use std::future::Future;
use std::io::Write;

pub use error::{Error, Result};

use cli::{Cli, Command};

/// How a command ended, as a process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// Something is wrong: a broken link, nothing found, faults not restored.
    Failure,
    /// Stopped by Ctrl-C or SIGTERM (after cleaning up).
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Interrupted => 130,
        }
    }
}

/// Runs `cli`, writing its report to `out` and notes to stderr. `shutdown` resolves when the
/// user asks to stop (only `traffic` runs long enough to care).
pub async fn run(
    cli: Cli,
    out: &mut (dyn Write + Send),
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Traffic(args) => {
            let config = args.config();
            if let Some(steps) = config.plan.manual {
                eprintln!("{steps}\n");
            }
            if !args.json {
                eprintln!(
                    "traffic: {} for {} at {} rps (seed {}); Ctrl-C stops it early{}",
                    config.plan.scenario.name(),
                    humantime::format_duration(config.duration),
                    config.plan.rps,
                    config.seed,
                    match &config.plan.faults {
                        Some(patch) => format!(
                            " and restores the gateway faults it sets ({})",
                            patch.describe()
                        ),
                        None => String::new(),
                    }
                );
            }
            let report = traffic::run(&config, shutdown).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &report)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", report.render())?;
            }
            Ok(if report.faults_left_behind() {
                Exit::Failure
            } else if report.stopped_by == traffic::Stop::Interrupted {
                Exit::Interrupted
            } else {
                Exit::Success
            })
        }
        Command::Exemplars(args) => {
            let collected = exemplars::collect(&args).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &collected.to_json())?;
                writeln!(out)?;
            } else {
                write!(out, "{}", collected.render())?;
            }
            Ok(if collected.opened.is_empty() {
                Exit::Failure
            } else {
                Exit::Success
            })
        }
        Command::Doctor(args) => {
            let report = doctor::run(&args).await?;
            if args.json {
                serde_json::to_writer_pretty(&mut *out, &report.to_json())?;
                writeln!(out)?;
            } else {
                write!(out, "{}", report.render())?;
            }
            Ok(if report.healthy() {
                Exit::Success
            } else {
                Exit::Failure
            })
        }
    }
}
