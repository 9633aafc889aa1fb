//! The WebStore as local processes: one small library for `cargo xtask up`, `cargo xtask bench`
//! and the system tests, so the three start, health-check, log and stop the services the same way.
//!
//! A caller builds the binaries once ([`Binaries::build`], or [`Binaries::in_dir`] for a test
//! binary that cargo built next to them), describes each process with a [`Launch`] (program,
//! arguments, environment, log file), starts it, waits for its readiness endpoint with
//! [`Process::wait_ready`], and stops it with [`Process::stop`] (SIGTERM, a bounded wait, then
//! SIGKILL), which also happens when a [`Process`] is dropped. What goes into a service's
//! environment beyond its identity and its neighbours ([`services`]) is the caller's
//! policy: `up` lets the developer's environment win, the bench pins cores, tests use scratch
//! databases.
//!
//! # Layout
//! - [`binaries`]: one `cargo build` of the service packages and `otlp-sink`; executables from
//!   cargo's JSON messages.
//! - [`services`]: the three services and the dev OTLP receiver by name, readiness paths, and
//!   the variables that wire them to each other.
//! - [`process`]: [`Launch`] → [`Process`]: environment, own log file, stop.
//! - [`ready`]: polling `/readyz` / `/healthz` with a deadline; the log tail on failure.
//! - [`http`]: the few lines of HTTP/1.1 over `std::net` that readiness polling needs.
//! - [`ports`]: free loopback ports.
//! - [`prometheus`]: a Prometheus with exemplar storage and its scrape configuration.
//! - [`log`]: reading a process's log back (this run's part, the tail, without backtraces).
//! - [`os`]: signals, liveness by pid, a Ctrl-C flag.
//! - [`procfs`]: a process's resident memory from `/proc`.
//!
//! **Architecture Invariant:** std, thiserror, serde_json and libc only — no async runtime and no
//! HTTP client — because xtask depends on it and must build in seconds before anything else.
//! Dev tooling only: no service depends on this crate.

pub mod binaries;
mod error;
pub mod http;
pub mod log;
pub mod os;
pub mod ports;
pub mod process;
pub mod procfs;
pub mod prometheus;
pub mod ready;
pub mod services;

pub use binaries::{Binaries, Profile};
pub use error::{Error, NotReady, Result};
pub use process::{Launch, LogMode, Process, StopOutcome};
pub use ready::Probe;

/// The loopback address every local process binds.
pub const HOST: &str = "127.0.0.1";
