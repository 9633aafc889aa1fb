//! The memory soak of a full run: checkout and catalog load on the telemetry-on copy for five
//! minutes, RSS sampled every ten seconds.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::copies::{Endpoint, Processes, Telemetry};
use super::pin::Pinning;
use super::procfs::proc_status_mib;
use super::{CONNECTIONS, SOAK, SOAK_SAMPLE_EVERY};

// Memory soak

pub(super) struct Soak {
    /// (seconds since start, RSS MiB per service)
    samples: Vec<(u64, Vec<(String, f64)>)>,
}

pub(super) fn soak(
    procs: &Processes,
    pin: &Pinning,
    target: &dyn Fn(Endpoint, Telemetry) -> (String, Option<PathBuf>),
) -> Result<Soak> {
    println!(
        "\nMemory soak: {} s of checkout + catalog load on the telemetry-on services, RSS every {} s",
        SOAK.as_secs(),
        SOAK_SAMPLE_EVERY.as_secs()
    );
    let mut loads = Vec::new();
    for e in [Endpoint::Checkout, Endpoint::Catalog] {
        let (url, script) = target(e, Telemetry::On);
        let mut command = pin.command(1, Path::new("wrk"));
        command.args([
            "-t1".to_owned(),
            format!("-c{}", CONNECTIONS / 2),
            format!("-d{}s", SOAK.as_secs()),
        ]);
        if let Some(script) = &script {
            command.arg("-s").arg(script);
        }
        command
            .arg(&url)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        loads.push(command.spawn().context("starting wrk for the soak")?);
    }
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < SOAK + Duration::from_secs(1) {
        let at = started.elapsed().as_secs();
        let rss: Vec<(String, f64)> = procs
            .services(Telemetry::On)
            .map(|(name, pid)| {
                (
                    name.to_owned(),
                    proc_status_mib(pid, "VmRSS:").unwrap_or(0.0),
                )
            })
            .collect();
        println!(
            "  {at:>4} s  {}",
            rss.iter()
                .map(|(n, m)| format!("{n} {m:.1} MiB"))
                .collect::<Vec<_>>()
                .join("  ")
        );
        samples.push((at, rss));
        if loads
            .iter_mut()
            .all(|c| matches!(c.try_wait(), Ok(Some(_))))
        {
            break;
        }
        thread::sleep(SOAK_SAMPLE_EVERY);
    }
    for mut load in loads {
        let _ = load.kill();
        let _ = load.wait();
    }
    Ok(Soak { samples })
}

impl Soak {
    /// Per service: RSS after the first minute, at the end, and the growth in between.
    pub(super) fn growth(&self) -> Vec<(String, f64, f64)> {
        let Some((_, last)) = self.samples.last() else {
            return Vec::new();
        };
        let settled = self
            .samples
            .iter()
            .find(|(at, _)| *at >= 60)
            .unwrap_or(&self.samples[0]);
        last.iter()
            .filter_map(|(name, end)| {
                let start = settled.1.iter().find(|(n, _)| n == name)?.1;
                Some((name.clone(), start, *end))
            })
            .collect()
    }
}
