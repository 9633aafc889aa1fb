//! The processes of a bench run: which copy of the services (telemetry on or off) listens
//! where, and what the bench started, with their CPU time and memory.

use anyhow::{Context, Result};
use devstack::services::Addresses;
use devstack::{Launch, Probe, Process, HOST};

use super::procfs::{proc_cpu_seconds, proc_status_mib};
use super::{READY_TIMEOUT, SINK_PORT};

/// One copy of the three services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Telemetry {
    /// Full telemetry, every request sampled.
    On,
    /// `OTEL_SDK_DISABLED=true`: no spans; `/metrics` still on.
    Off,
    /// Full telemetry, `parentbased_traceidratio` at 0.1: how production runs.
    Sampled,
}

impl Telemetry {
    pub(super) const ALL: [Telemetry; 3] = [Telemetry::On, Telemetry::Off, Telemetry::Sampled];

    pub(super) fn name(self) -> &'static str {
        match self {
            Telemetry::On => "on",
            Telemetry::Off => "off",
            Telemetry::Sampled => "sampled",
        }
    }

    /// (order, catalog, gateway)
    pub(super) fn ports(self) -> (u16, u16, u16) {
        match self {
            Telemetry::On => (18080, 18081, 18082),
            Telemetry::Off => (28080, 28081, 28082),
            Telemetry::Sampled => (38080, 38081, 38082),
        }
    }

    /// Every copy, in the order round `round` drives them: rotated every round, so that drift
    /// (thermal, neighbours) hits each copy alike.
    pub(super) fn order(round: usize) -> Vec<Telemetry> {
        let mut copies = Telemetry::ALL.to_vec();
        let n = copies.len();
        copies.rotate_left(round % n);
        copies
    }

    pub(super) fn addresses(self) -> Addresses {
        let (order, catalog, gateway) = self.ports();
        Addresses {
            order: format!("{HOST}:{order}"),
            catalog: format!("{HOST}:{catalog}"),
            gateway: format!("{HOST}:{gateway}"),
            otlp: (self != Telemetry::Off).then(|| format!("http://{HOST}:{SINK_PORT}")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endpoint {
    Catalog,
    Checkout,
}

impl Endpoint {
    pub(super) fn name(self) -> &'static str {
        match self {
            Endpoint::Catalog => "catalog GET /api/v1/products/{id}",
            Endpoint::Checkout => "checkout POST /api/v1/checkout",
        }
    }
}

pub(super) fn key(e: Endpoint, s: Telemetry) -> (u8, u8) {
    (e as u8, s as u8)
}

/// What the bench started; each process is stopped (SIGTERM, then SIGKILL) when this is
/// dropped, last started first.
#[derive(Default)]
pub(super) struct Processes {
    running: Vec<Process>,
}

impl Processes {
    /// Starts `launch` and waits for `probe`; a failure names the process's log.
    pub(super) fn start(&mut self, launch: Launch, probe: &Probe) -> Result<()> {
        let mut process = launch.start()?;
        let waited = process.wait_ready(probe, READY_TIMEOUT);
        let log = process.log_path().to_path_buf();
        self.running.push(process);
        waited
            .map(drop)
            .with_context(|| format!("see {}", log.display()))
    }

    /// (service name, pid) of one copy.
    pub(super) fn services(&self, copy: Telemetry) -> impl Iterator<Item = (&str, u32)> {
        let prefix = format!("{}-", copy.name());
        self.running
            .iter()
            .filter_map(move |p| p.name().strip_prefix(&prefix).map(|name| (name, p.id())))
    }

    /// CPU seconds (user + system) used so far by one copy's services; 0 where `/proc` is absent.
    pub(super) fn cpu_seconds(&self, copy: Telemetry) -> f64 {
        self.services(copy)
            .filter_map(|(_, pid)| proc_cpu_seconds(pid))
            .sum()
    }

    /// Peak resident set (VmHWM) of every service process, MiB.
    pub(super) fn peak_rss(&self) -> Vec<(String, f64)> {
        self.running
            .iter()
            .filter(|p| p.name() != "sink")
            .filter_map(|p| Some((p.name().to_owned(), proc_status_mib(p.id(), "VmHWM:")?)))
            .collect()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        while let Some(process) = self.running.pop() {
            drop(process);
        }
    }
}
