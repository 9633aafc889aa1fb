//! `cargo xtask soak`: the store under mixed traffic while a fault schedule runs, then its books
//! checked against the databases.
//!
//! A run, in order ([`run::run`]): three fresh PostgreSQL databases (order, gateway, catalog);
//! the dev OTLP receiver, a `redis-server` and the three services as processes on free loopback
//! ports ([`stack`], through `devstack`); `storectl`'s traffic library driving browse, checkout
//! (a quarter without `Idempotency-Key`, keyed ones retried on 5xx or no answer) and order
//! lookups, with a journal of every attempt; meanwhile the fault schedule ([`schedule`],
//! [`faults`]): collector down, Redis restarted, the order database's connections terminated,
//! gateway latency, errors and timeouts through its fault API, order-service SIGTERMed and
//! restarted, then killed with SIGKILL and restarted — each fault's real window recorded
//! ([`windows`]). After the traffic, order-service restarts with a 1 s reconciliation interval
//! and a 4 s grace (just above `PAYMENT_TIMEOUT`), and the run waits (bounded) until no order
//! is `pending` or `payment_unknown`.
//! Then the audit ([`audit`]): every order answered 201 is stored and readable as paid; the
//! gateway's `charges` table agrees with the orders (no double charge, no orphan charge, no paid
//! order without a charge); nothing left unsettled; every 5xx explained by a fault window;
//! resident memory growth per service ([`watch`]); span export outcomes. [`report`] prints the
//! table and the one final line.
//!
//! Loopback only, bounded in time (the traffic's duration, then deadlines); the databases are
//! dropped and the processes stopped on every path.

pub mod audit;
pub mod databases;
pub mod faults;
pub mod report;
pub mod run;
pub mod schedule;
pub mod stack;
pub mod watch;
pub mod windows;

use std::path::PathBuf;
use std::time::Duration;

pub use report::Outcome;
pub use run::{run, SoakConfig};

/// Where a local PostgreSQL with the right to `CREATE DATABASE` usually is.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The largest resident-memory growth of one service that passes a run.
pub const RSS_LIMIT_MIB: u64 = 64;

impl SoakConfig {
    /// `--quick`: one pass of the fault schedule over 90 s at 12 requests/s; the whole run
    /// (start, reconciliation, audit) stays under three minutes once the binaries are built.
    pub fn quick(postgres_url: impl Into<String>, dir: impl Into<PathBuf>) -> SoakConfig {
        SoakConfig {
            duration: Duration::from_secs(90),
            cycle: Duration::from_secs(90),
            rps: 12.0,
            seed: 1,
            postgres_url: postgres_url.into(),
            settle_timeout: Duration::from_secs(20),
            rss_limit_mib: RSS_LIMIT_MIB,
            dir: dir.into(),
        }
    }

    /// The full run: ten minutes at 20 requests/s, the schedule every two minutes.
    pub fn full(postgres_url: impl Into<String>, dir: impl Into<PathBuf>) -> SoakConfig {
        SoakConfig {
            duration: Duration::from_secs(600),
            cycle: Duration::from_secs(120),
            rps: 20.0,
            settle_timeout: Duration::from_secs(60),
            ..SoakConfig::quick(postgres_url, dir)
        }
    }
}
