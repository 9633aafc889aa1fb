//! `cargo xtask bench`: what telemetry costs, as figures that can be compared run to run.
//!
//! 1. Builds the release binaries and the telemetry crate's criterion benches (not timed).
//! 2. [`micro`]: alternating rounds of `benches/histogram.rs` (plain `observe` vs exemplar
//!    `observe` inside a sampled span: `exemplar_ratio`) and `benches/encode.rs` (`/metrics` at
//!    ≈ 2 300 series: `metrics_encode_us`), read back from criterion's `estimates.json`.
//! 3. [`http`]: three copies of the three services — full telemetry at 100 % sampling (OTLP
//!    export to a local `otlp-sink`, exemplars), `OTEL_SDK_DISABLED=true`, and full telemetry
//!    sampling 10 % (`parentbased_traceidratio`) — all pinned to core 0 ([`pin`], [`copies`]);
//!    [`wrk`] pinned to core 1 drives a cached `GET /api/v1/products/{id}` and
//!    `POST /api/v1/checkout` against each copy in rounds that rotate the order. Ratios are
//!    against the off copy, per round; CPU time and peak memory come from `/proc` ([`procfs`]).
//! 4. [`soak`], full run only: a 5-minute memory soak of the telemetry-on copy (RSS every 10 s).
//!
//! [`report`] prints the table (medians and spread) and ends with one line, for scripts and for
//! the issue:
//! `bench: exemplar_ratio=… metrics_encode_us=… catalog_rps_ratio=… checkout_rps_ratio=… max_rss_mib=… catalog_us_per_req=… catalog_rps_ratio_sampled=… checkout_rps_ratio_sampled=…`
//!
//! The processes are started and stopped through `devstack`, in xtask's process group (Ctrl-C
//! stops it all), and stopped again when the run ends or fails. Logs and criterion data:
//! `target/webstore/bench/`.

mod copies;
mod http;
mod micro;
mod pin;
mod procfs;
mod report;
mod soak;
mod wrk;

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use devstack::{services, Binaries, Profile};
use xshell::{cmd, Shell};

use crate::{flags, project_root};

const SINK_PORT: u16 = 14318;
const API_KEY: &str = "demo-key";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections per `wrk` run: enough to keep one server core busy, few enough for one client core.
const CONNECTIONS: u32 = 32;
const SOAK: Duration = Duration::from_secs(300);
const SOAK_SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The memory target, per service.
const RSS_TARGET_MIB: f64 = 64.0;

/// How much to measure.
#[derive(Clone, Copy, Debug)]
struct Plan {
    rounds: usize,
    /// One `wrk` run.
    duration: Duration,
    warm_up: Duration,
    soak: bool,
}

impl Plan {
    fn new(quick: bool, rounds: Option<usize>) -> Plan {
        let (default_rounds, duration, warm_up) = if quick {
            (5, Duration::from_secs(4), Duration::from_secs(2))
        } else {
            (7, Duration::from_secs(10), Duration::from_secs(3))
        };
        Plan {
            rounds: rounds.unwrap_or(default_rounds).max(1),
            duration,
            warm_up,
            soak: !quick,
        }
    }
}

impl flags::Bench {
    pub(crate) fn run(self, sh: &Shell) -> Result<()> {
        let plan = Plan::new(self.quick, self.rounds);
        let root = project_root();
        let dir = root.join("target").join("webstore").join("bench");
        fs::create_dir_all(dir.join("logs")).context("creating target/webstore/bench")?;

        let pin = pin::Pinning::detect();
        if !pin.enabled {
            println!("note: `taskset` not found (util-linux): processes run unpinned and figures are noisier");
        }
        let have_wrk = pin::tool_exists("wrk", "--version");
        if !have_wrk && !self.micro_only {
            bail!("`wrk` is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`; or run with --micro-only");
        }

        // Build first: none of it counts toward the run's time.
        let binaries = if self.micro_only {
            None
        } else {
            println!(
                "Building release binaries ({})...",
                services::PACKAGES.join(", ")
            );
            Some(
                Binaries::build(&root, Profile::Release, &services::PACKAGES)
                    .context("building the release binaries failed")?,
            )
        };
        println!("Building the criterion benches...");
        cmd!(sh, "cargo bench -p telemetry --benches --no-run")
            .quiet()
            .run()
            .context("building the telemetry benches failed")?;

        let started = Instant::now();
        let criterion_home = dir.join("criterion");
        let micro = micro::run_micro(sh, &pin, &criterion_home, plan.rounds)?;
        let http = match &binaries {
            Some(binaries) => Some(http::run_http(&dir, binaries, &pin, plan)?),
            None => None,
        };
        let elapsed = started.elapsed();

        print!("{}", report::report(&micro, http.as_ref(), plan, elapsed));
        println!("{}", report::final_line(&micro, http.as_ref()));
        Ok(())
    }
}
