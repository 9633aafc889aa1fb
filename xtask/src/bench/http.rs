//! The HTTP part: two copies of the services (telemetry on and off, see [`super::copies`])
//! started through `devstack`, `wrk` against each in alternating rounds, and the span
//! accounting of the telemetry-on copy.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use devstack::services::{self, GATEWAY, ORDER, OTLP_SINK};
use devstack::{ports, Binaries, Launch, Probe, HOST};

use super::copies::{key, Endpoint, Processes, Telemetry};
use super::pin::Pinning;
use super::soak::{soak, Soak};
use super::wrk::{checkout_lua, wrk, WrkResult};
use super::{Plan, API_KEY, CONNECTIONS, SINK_PORT};

pub(super) struct Http {
    /// (endpoint, copy) → one result per round.
    pub(super) runs: BTreeMap<(u8, u8), Vec<WrkResult>>,
    /// Peak RSS (VmHWM) per process, MiB.
    pub(super) peak_rss: Vec<(String, f64)>,
    /// Spans the telemetry-on services exported, against requests they served.
    pub(super) spans: Option<(u64, u64)>,
    /// The same for the copy sampling 10 %.
    pub(super) sampled_spans: Option<(u64, u64)>,
    pub(super) soak: Option<Soak>,
}

pub(super) fn run_http(dir: &Path, binaries: &Binaries, pin: &Pinning, plan: Plan) -> Result<Http> {
    for copy in Telemetry::ALL {
        let (a, b, c) = copy.ports();
        for port in [a, b, c, SINK_PORT] {
            if !ports::is_free(port) {
                bail!("port {port} on {HOST} is taken; the bench needs 14318, 18080-18082, 28080-28082 and 38080-38082");
            }
        }
    }

    let mut procs = Processes::default();
    println!("\nStarting otlp-sink and three copies of the services (telemetry on / off / sampled at 10 %), services pinned to core 0...");
    println!(
        "  SQLite files in {} (tmpfs where available: the figures are CPU, not fsync)",
        data_root(dir).display()
    );
    // `--discard`: the receiver decodes and acknowledges every export but keeps nothing. It
    // shares the load generator's core; storing and indexing ~20 000 spans/s there took about a
    // fifth of that core from `wrk` and made the telemetry-on copy look slower than it is.
    let sink_addr = format!("{HOST}:{SINK_PORT}");
    procs.start(
        Launch::new(
            "sink",
            binaries.get(OTLP_SINK)?,
            dir.join("logs").join("sink.log"),
        )
        .run_through(pin.prefix(1))
        .args(["--bind", &sink_addr, "--discard"])
        .env("RUST_LOG", "warn"),
        &Probe::new(sink_addr.clone(), services::ready_path(OTLP_SINK)),
    )?;
    for copy in Telemetry::ALL {
        start_copy(&mut procs, dir, binaries, pin, copy)?;
    }

    let product = product_id(Telemetry::On.ports().1)?;
    let script = dir.join("checkout.lua");
    fs::write(&script, checkout_lua(&product, API_KEY)).context("writing checkout.lua")?;
    let target = |e: Endpoint, s: Telemetry| -> (String, Option<PathBuf>) {
        let (order, catalog, _) = s.ports();
        match e {
            Endpoint::Catalog => (
                format!("http://{HOST}:{catalog}/api/v1/products/{product}"),
                None,
            ),
            Endpoint::Checkout => (
                format!("http://{HOST}:{order}/api/v1/checkout"),
                Some(script.clone()),
            ),
        }
    };

    // Warm caches, connection pools and the allocator of every service once.
    for e in [Endpoint::Catalog, Endpoint::Checkout] {
        for s in Telemetry::ALL {
            let (url, script) = target(e, s);
            wrk(pin, &url, script.as_deref(), plan.warm_up)?;
        }
    }

    let mut http = Http {
        runs: BTreeMap::new(),
        peak_rss: Vec::new(),
        spans: None,
        sampled_spans: None,
        soak: None,
    };
    println!(
        "HTTP: {} alternating rounds of {} s per run, wrk -t1 -c{CONNECTIONS} pinned to core 1",
        plan.rounds,
        plan.duration.as_secs()
    );
    for round in 0..plan.rounds {
        let mut line = format!("  round {}:", round + 1);
        for e in [Endpoint::Catalog, Endpoint::Checkout] {
            for s in Telemetry::order(round) {
                let (url, script) = target(e, s);
                let cpu_before = procs.cpu_seconds(s);
                let mut r = wrk(pin, &url, script.as_deref(), plan.duration)?;
                let cpu = procs.cpu_seconds(s) - cpu_before;
                r.cpu_us_per_request = cpu * 1e6 / r.requests.max(1) as f64;
                let _ = write!(
                    line,
                    " {}/{} {:.0} rps",
                    if e == Endpoint::Catalog {
                        "catalog"
                    } else {
                        "checkout"
                    },
                    s.name(),
                    r.rps
                );
                http.runs.entry(key(e, s)).or_default().push(r);
            }
        }
        println!("{line}");
    }

    http.spans = span_accounting(Telemetry::On);
    http.sampled_spans = span_accounting(Telemetry::Sampled);
    if plan.soak {
        http.soak = Some(soak(&procs, pin, &target)?);
    }
    http.peak_rss = procs.peak_rss();
    drop(procs);
    let _ = fs::remove_dir_all(data_root(dir));
    Ok(http)
}

/// Where the services' SQLite files go: a tmpfs (`/dev/shm`) where there is one, so that a
/// checkout's figure is the services' CPU (telemetry included), not the disk's fsync latency —
/// `GATEWAY_LATENCY_SCALE=0` removes the gateway's sleeps for the same reason. Elsewhere,
/// `target/webstore/bench/`.
fn data_root(dir: &Path) -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.join(format!("webstore-bench-{}", std::process::id()))
    } else {
        dir.join("data")
    }
}

/// The three services of one copy, pinned to core 0, each ready before the next.
fn start_copy(
    procs: &mut Processes,
    dir: &Path,
    binaries: &Binaries,
    pin: &Pinning,
    copy: Telemetry,
) -> Result<()> {
    let work = data_root(dir).join(copy.name());
    // Fresh SQLite files per run: the services default to data/<service>.db under their cwd.
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(work.join("data")).context("creating the bench data dir")?;

    let addresses = copy.addresses();
    let common = copy_env(copy);

    for service in services::START_ORDER {
        let own: Vec<(&str, String)> = match service {
            GATEWAY => vec![
                ("GATEWAY_LATENCY_SCALE", "0".to_owned()),
                ("ADMIN_TOKEN", "bench-admin-token".to_owned()),
            ],
            ORDER => vec![
                ("API_KEYS", format!("demo:{API_KEY}")),
                // Rate limits (where the order service has them) must not shape the figure.
                ("RATE_LIMIT_CLIENT", "1000000".to_owned()),
                ("RATE_LIMIT_GLOBAL", "1000000".to_owned()),
            ],
            _ => Vec::new(),
        };
        let label = format!("{}-{service}", copy.name());
        let launch = Launch::new(
            &label,
            binaries.get(service)?,
            dir.join("logs").join(format!("{label}.log")),
        )
        .run_through(pin.prefix(0))
        .current_dir(&work)
        .envs(common.iter().cloned())
        .envs(own)
        .envs(services::neighbours(service, &addresses))
        .envs(services::identity(service, &addresses));
        let addr = addresses.of(service).context("a service of the copy")?;
        procs.start(launch, &Probe::new(addr, services::ready_path(service)))?;
    }
    Ok(())
}

/// What every service of `copy` runs with besides its own settings.
fn copy_env(copy: Telemetry) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("RUST_LOG", "info".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
        ("HTTP_WORKERS", "1".to_owned()),
    ];
    match copy {
        // The batch processor keeps the telemetry crate's defaults (queue 2048, batches of 128,
        // 5 s): its queue is preallocated, about 0.4 KiB resident per slot, so a larger one
        // would be counted as the service's memory. The span accounting line shows nothing is
        // lost.
        Telemetry::On => env.extend([
            ("OTEL_SDK_DISABLED", "false".to_owned()),
            ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
        ]),
        Telemetry::Off => env.push(("OTEL_SDK_DISABLED", "true".to_owned())),
        Telemetry::Sampled => env.extend([
            ("OTEL_SDK_DISABLED", "false".to_owned()),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio".to_owned()),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1".to_owned()),
        ]),
    }
    env
}

/// The first product of the catalog on `port`.
fn product_id(port: u16) -> Result<String> {
    let r = devstack::http::get(
        &format!("{HOST}:{port}"),
        "/api/v1/products?limit=1",
        Duration::from_secs(5),
    )
    .context("listing products")?;
    let json: serde_json::Value =
        serde_json::from_slice(&r.body).context("the product list is not JSON")?;
    match &json["items"][0]["id"] {
        serde_json::Value::String(id) => Ok(id.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => bail!("the catalog lists no product: {}", r.body_snippet()),
    }
}

/// Spans exported by one copy's services (their own counter) and requests they served (their
/// server histograms), summed over the three: a check that 100 % sampling held, or that 10 %
/// did.
fn span_accounting(copy: Telemetry) -> Option<(u64, u64)> {
    let (order, catalog, gateway) = copy.ports();
    let mut spans = 0;
    let mut requests = 0;
    for port in [order, catalog, gateway] {
        let r = devstack::http::get(
            &format!("{HOST}:{port}"),
            "/metrics",
            Duration::from_secs(5),
        )
        .ok()?;
        let text = String::from_utf8_lossy(&r.body);
        for line in text.lines() {
            if let Some(v) =
                line.strip_prefix("otel_sdk_exporter_span_exported_total{outcome=\"success\"} ")
            {
                spans += v.trim().parse::<u64>().ok()?;
            } else if line.starts_with("http_server_request_duration_seconds_count") {
                requests += line
                    .rsplit(' ')
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())?;
            }
        }
    }
    Some((spans, requests))
}
