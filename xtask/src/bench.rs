//! `cargo xtask bench`: what telemetry costs, as figures that can be compared run to run.
//!
//! 1. Builds the release binaries and the telemetry crate's criterion benches (not timed).
//! 2. Micro: alternating rounds of `benches/histogram.rs` (plain `observe` vs exemplar `observe`
//!    inside a sampled span: `exemplar_ratio`) and `benches/encode.rs` (`/metrics` at ≈ 2 300
//!    series: `metrics_encode_us`), read back from criterion's `estimates.json`.
//! 3. HTTP: two copies of the three services, one with full telemetry (100 % sampling, OTLP
//!    export to a local `otlp-sink`, exemplars) and one with `OTEL_SDK_DISABLED=true`, all pinned
//!    to core 0; `wrk` pinned to core 1 drives a cached `GET /api/v1/products/{id}` and
//!    `POST /api/v1/checkout` against each copy in alternating rounds. Ratios are on/off per
//!    round; the table shows medians and spread.
//! 4. Full run only: a 5-minute memory soak of the telemetry-on copy (RSS sampled every 10 s).
//!
//! Ends with one line, for scripts and for the issue:
//! `bench: exemplar_ratio=… metrics_encode_us=… catalog_rps_ratio=… checkout_rps_ratio=… max_rss_mib=…`
//!
//! Everything it starts runs in xtask's process group (Ctrl-C stops it all) and is stopped
//! again when the run ends or fails. Logs and criterion data: `target/webstore/bench/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use xshell::{cmd, Shell};

use crate::os::{self, Signal};
use crate::{flags, http, project_root};

const HOST: &str = "127.0.0.1";
const SINK_PORT: u16 = 14318;
const API_KEY: &str = "demo-key";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections per `wrk` run: enough to keep one server core busy, few enough for one client core.
const CONNECTIONS: u32 = 32;
const SOAK: Duration = Duration::from_secs(300);
const SOAK_SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The issue's memory target, per service.
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

        let pin = Pinning::detect();
        if !pin.enabled {
            println!("note: `taskset` not found (util-linux): processes run unpinned and figures are noisier");
        }
        let have_wrk = tool_exists("wrk", "--version");
        if !have_wrk && !self.micro_only {
            bail!("`wrk` is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`; or run with --micro-only");
        }

        // Build first: none of it counts toward the run's time.
        let binaries = if self.micro_only {
            BTreeMap::new()
        } else {
            build_services(sh)?
        };
        println!("Building the criterion benches...");
        cmd!(sh, "cargo bench -p telemetry --benches --no-run")
            .quiet()
            .run()
            .context("building the telemetry benches failed")?;

        let started = Instant::now();
        let criterion_home = dir.join("criterion");
        let micro = run_micro(sh, &pin, &criterion_home, plan.rounds)?;
        let http = if self.micro_only {
            None
        } else {
            Some(run_http(&dir, &binaries, &pin, plan)?)
        };
        let elapsed = started.elapsed();

        print!("{}", report(&micro, http.as_ref(), plan, elapsed));
        println!("{}", final_line(&micro, http.as_ref()));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Micro benches

struct Micro {
    /// Per round: (plain ns, exemplar ns).
    observe: Vec<(f64, f64)>,
    /// Per round: µs per 2k-series scrape.
    encode_us: Vec<f64>,
    /// Every other figure of the first round, by criterion id.
    table: BTreeMap<String, f64>,
}

const PLAIN: &str = "observe/plain";
const EXEMPLAR: &str = "observe/exemplar_sampled_span";
const ENCODE_2K: &str = "encode/2k_series";

fn run_micro(sh: &Shell, pin: &Pinning, home: &Path, rounds: usize) -> Result<Micro> {
    println!("\nMicro benches: {rounds} alternating rounds (criterion --quick), pinned to core 1");
    let _ = fs::remove_dir_all(home);
    let mut micro = Micro {
        observe: Vec::new(),
        encode_us: Vec::new(),
        table: BTreeMap::new(),
    };
    for round in 0..rounds {
        // The first round runs every bench, for the table; later ones only what the ratios need.
        let (histogram_filter, encode_filter) = if round == 0 {
            ("", "")
        } else {
            (
                "^observe/(plain|exemplar_sampled_span)$",
                "^encode/2k_series$",
            )
        };
        criterion(sh, pin, home, "histogram", histogram_filter)?;
        criterion(sh, pin, home, "encode", encode_filter)?;
        let plain = estimate_ns(home, PLAIN)?;
        let exemplar = estimate_ns(home, EXEMPLAR)?;
        let encode = estimate_ns(home, ENCODE_2K)? / 1_000.0;
        println!(
            "  round {}: plain {plain:.1} ns, exemplar {exemplar:.1} ns (×{:.2}), encode 2k series {encode:.0} µs",
            round + 1,
            exemplar / plain
        );
        micro.observe.push((plain, exemplar));
        micro.encode_us.push(encode);
        if round == 0 {
            micro.table = all_estimates(home)?;
        }
    }
    Ok(micro)
}

fn criterion(sh: &Shell, pin: &Pinning, home: &Path, bench: &str, filter: &str) -> Result<()> {
    let mut args = pin.prefix(1);
    args.extend(
        [
            "cargo",
            "bench",
            "-q",
            "-p",
            "telemetry",
            "--bench",
            bench,
            "--",
            "--quick",
            "--noplot",
        ]
        .map(String::from),
    );
    if !filter.is_empty() {
        args.push(filter.to_owned());
    }
    let (program, rest) = args.split_first().expect("a command");
    cmd!(sh, "{program} {rest...}")
        .env("CRITERION_HOME", home)
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .with_context(|| format!("cargo bench --bench {bench} failed (run it by hand to see why)"))
}

/// Criterion's median estimate for `id` (`group/function`), in ns.
fn estimate_ns(home: &Path, id: &str) -> Result<f64> {
    let path = home.join(id).join("new").join("estimates.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    median_from_estimates(&text).ok_or_else(|| anyhow!("no median in {}", path.display()))
}

fn median_from_estimates(json: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Every `group/function` under `home` with its median, ns.
fn all_estimates(home: &Path) -> Result<BTreeMap<String, f64>> {
    let mut found = BTreeMap::new();
    for group in fs::read_dir(home).with_context(|| format!("reading {}", home.display()))? {
        let group = group?.path();
        let Ok(functions) = fs::read_dir(&group) else {
            continue;
        };
        for function in functions {
            let function = function?.path();
            let (Some(g), Some(f)) = (
                group.file_name().and_then(|s| s.to_str()),
                function.file_name().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let id = format!("{g}/{f}");
            if let Ok(ns) = estimate_ns(home, &id) {
                found.insert(id, ns);
            }
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// Variables for one process.
type Env = Vec<(&'static str, String)>;

/// One copy of the three services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stack {
    On,
    Off,
}

impl Stack {
    fn name(self) -> &'static str {
        match self {
            Stack::On => "on",
            Stack::Off => "off",
        }
    }

    /// (order, catalog, gateway)
    fn ports(self) -> (u16, u16, u16) {
        match self {
            Stack::On => (18080, 18081, 18082),
            Stack::Off => (28080, 28081, 28082),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Catalog,
    Checkout,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Catalog => "catalog GET /api/v1/products/{id}",
            Endpoint::Checkout => "checkout POST /api/v1/checkout",
        }
    }
}

/// One `wrk` run.
#[derive(Clone, Debug, Default, PartialEq)]
struct WrkResult {
    rps: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    socket_errors: u64,
    /// CPU time (user + system) the copy's three services spent per request during the run:
    /// unlike requests/s, it hardly moves when other work shares the machine.
    cpu_us_per_request: f64,
}

struct Http {
    /// (endpoint, stack) → one result per round.
    runs: BTreeMap<(u8, u8), Vec<WrkResult>>,
    /// Peak RSS (VmHWM) per process, MiB.
    peak_rss: Vec<(String, f64)>,
    /// Spans the telemetry-on services exported, against requests they served.
    spans: Option<(u64, u64)>,
    soak: Option<Soak>,
}

fn key(e: Endpoint, s: Stack) -> (u8, u8) {
    (e as u8, s as u8)
}

fn run_http(
    dir: &Path,
    binaries: &BTreeMap<String, PathBuf>,
    pin: &Pinning,
    plan: Plan,
) -> Result<Http> {
    for stack in [Stack::On, Stack::Off] {
        let (a, b, c) = stack.ports();
        for port in [a, b, c] {
            ensure_port_free(port)?;
        }
    }
    ensure_port_free(SINK_PORT)?;

    let mut procs = Processes::default();
    println!("\nStarting otlp-sink and two copies of the services (telemetry on / off), services pinned to core 0...");
    println!(
        "  SQLite files in {} (tmpfs where available: the figures are CPU, not fsync)",
        data_root(dir).display()
    );
    let sink = binaries
        .get("otlp-sink")
        .ok_or_else(|| anyhow!("no otlp-sink binary"))?;
    // `--discard`: the receiver decodes and acknowledges every export but keeps nothing. It
    // shares the load generator's core; storing and indexing ~20 000 spans/s there took about a
    // fifth of that core from `wrk` and made the telemetry-on copy look slower than it is.
    procs.spawn(
        dir,
        "sink",
        pin.command(1, sink),
        &[
            "--bind".to_owned(),
            format!("{HOST}:{SINK_PORT}"),
            "--discard".to_owned(),
        ],
        &[("RUST_LOG", "warn".to_owned())],
    )?;
    procs.await_ready(&format!("{HOST}:{SINK_PORT}"), "/healthz")?;
    for stack in [Stack::On, Stack::Off] {
        start_stack(&mut procs, dir, binaries, pin, stack)?;
    }

    let product = product_id(Stack::On.ports().1)?;
    let script = dir.join("checkout.lua");
    fs::write(&script, checkout_lua(&product, API_KEY)).context("writing checkout.lua")?;
    let target = |e: Endpoint, s: Stack| -> (String, Option<PathBuf>) {
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
        for s in [Stack::On, Stack::Off] {
            let (url, script) = target(e, s);
            wrk(pin, &url, script.as_deref(), plan.warm_up)?;
        }
    }

    let mut http = Http {
        runs: BTreeMap::new(),
        peak_rss: Vec::new(),
        spans: None,
        soak: None,
    };
    println!(
        "HTTP: {} alternating rounds of {} s per run, wrk -t1 -c{CONNECTIONS} pinned to core 1",
        plan.rounds,
        plan.duration.as_secs()
    );
    for round in 0..plan.rounds {
        // Alternate which copy goes first, so drift (thermal, neighbours) hits both alike.
        let order = if round % 2 == 0 {
            [Stack::On, Stack::Off]
        } else {
            [Stack::Off, Stack::On]
        };
        let mut line = format!("  round {}:", round + 1);
        for e in [Endpoint::Catalog, Endpoint::Checkout] {
            for s in order {
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

    http.spans = span_accounting(Stack::On);
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

fn start_stack(
    procs: &mut Processes,
    dir: &Path,
    binaries: &BTreeMap<String, PathBuf>,
    pin: &Pinning,
    stack: Stack,
) -> Result<()> {
    let (order, catalog, gateway) = stack.ports();
    let work = data_root(dir).join(stack.name());
    // Fresh SQLite files per run: the services default to data/<service>.db under their cwd.
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(work.join("data")).context("creating the bench data dir")?;

    let mut common = vec![
        ("RUST_LOG", "info".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
        ("HTTP_WORKERS", "1".to_owned()),
    ];
    match stack {
        Stack::On => common.extend([
            ("OTEL_SDK_DISABLED", "false".to_owned()),
            ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://{HOST}:{SINK_PORT}"),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
            // The batch processor keeps its defaults (queue 2048, batch 512, 5 s): its queue
            // is preallocated, about 0.4 KiB resident per slot, so a larger one would be
            // counted as the service's memory. The span accounting line shows nothing is lost.
        ]),
        Stack::Off => common.push(("OTEL_SDK_DISABLED", "true".to_owned())),
    }

    let services: [(&str, u16, Env); 3] = [
        ("catalog-service", catalog, vec![]),
        (
            "payment-gateway",
            gateway,
            vec![
                ("GATEWAY_LATENCY_SCALE", "0".to_owned()),
                ("ADMIN_TOKEN", "bench-admin-token".to_owned()),
            ],
        ),
        (
            "order-service",
            order,
            vec![
                ("CATALOG_URL", format!("http://{HOST}:{catalog}")),
                ("PAYMENT_GATEWAY_URL", format!("http://{HOST}:{gateway}")),
                ("API_KEYS", format!("demo:{API_KEY}")),
                // Rate limits (where the order service has them) must not shape the figure.
                ("RATE_LIMIT_CLIENT", "1000000".to_owned()),
                ("RATE_LIMIT_GLOBAL", "1000000".to_owned()),
            ],
        ),
    ];
    for (name, port, own) in services {
        let exe = binaries
            .get(name)
            .ok_or_else(|| anyhow!("no {name} binary was built"))?;
        let mut env = common.clone();
        env.extend(own);
        env.push(("BIND_ADDR", format!("{HOST}:{port}")));
        env.push(("OTEL_SERVICE_NAME", name.to_owned()));
        let label = format!("{}-{name}", stack.name());
        let mut command = pin.command(0, exe);
        command.current_dir(&work);
        procs.spawn(dir, &label, command, &[], &env)?;
        procs.await_ready(&format!("{HOST}:{port}"), "/readyz")?;
    }
    Ok(())
}

/// The first product of the catalog on `port`.
fn product_id(port: u16) -> Result<String> {
    let r = http::get(
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

fn checkout_lua(product: &str, api_key: &str) -> String {
    let body = serde_json::json!({
        "country": "US",
        "payment_method": "card",
        "items": [{"product_id": product, "quantity": 1}],
    })
    .to_string();
    format!(
        "-- Written by `cargo xtask bench`.\n\
         wrk.method = \"POST\"\n\
         wrk.body = {}\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {api_key}\"\n",
        lua_string(&body)
    )
}

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn wrk(pin: &Pinning, url: &str, script: Option<&Path>, duration: Duration) -> Result<WrkResult> {
    let mut command = pin.command(1, Path::new("wrk"));
    command.args([
        "-t1".to_owned(),
        format!("-c{CONNECTIONS}"),
        format!("-d{}s", duration.as_secs().max(1)),
        "--latency".to_owned(),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let out = command
        .stdin(Stdio::null())
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_wrk(&text).ok_or_else(|| anyhow!("could not read wrk's output:\n{text}"))
}

/// Requests/sec, the 99th percentile, and the error counts of `wrk --latency` output.
fn parse_wrk(text: &str) -> Option<WrkResult> {
    let mut r = WrkResult::default();
    let mut rps = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("99%") {
            r.p99_ms = duration_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // connect 0, read 0, write 0, timeout 0
            r.socket_errors = v
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        } else if line.contains(" requests in ") {
            r.requests = line.split_whitespace().next()?.parse().ok()?;
        }
    }
    r.rps = rps?;
    Some(r)
}

/// `1.23ms`, `456.00us`, `1.02s`, `2.00m` → milliseconds.
fn duration_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1_000.0,
        "ms" => n,
        "s" => n * 1_000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}

/// Spans exported by the telemetry-on services (their own counter) and requests they served
/// (their server histograms), summed over the three: a check that 100 % sampling held.
fn span_accounting(stack: Stack) -> Option<(u64, u64)> {
    let (order, catalog, gateway) = stack.ports();
    let mut spans = 0;
    let mut requests = 0;
    for port in [order, catalog, gateway] {
        let r = http::get(
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

// ---------------------------------------------------------------------------------------------
// Memory soak

struct Soak {
    /// (seconds since start, RSS MiB per service)
    samples: Vec<(u64, Vec<(String, f64)>)>,
}

fn soak(
    procs: &Processes,
    pin: &Pinning,
    target: &dyn Fn(Endpoint, Stack) -> (String, Option<PathBuf>),
) -> Result<Soak> {
    println!(
        "\nMemory soak: {} s of checkout + catalog load on the telemetry-on services, RSS every {} s",
        SOAK.as_secs(),
        SOAK_SAMPLE_EVERY.as_secs()
    );
    let mut loads = Vec::new();
    for e in [Endpoint::Checkout, Endpoint::Catalog] {
        let (url, script) = target(e, Stack::On);
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
            .services(Stack::On)
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
    fn growth(&self) -> Vec<(String, f64, f64)> {
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

// ---------------------------------------------------------------------------------------------
// Processes

/// Pins a command to a core with `taskset` when it exists.
struct Pinning {
    enabled: bool,
}

impl Pinning {
    fn detect() -> Pinning {
        Pinning {
            enabled: tool_exists("taskset", "--version"),
        }
    }

    fn command(&self, core: u8, exe: &Path) -> Command {
        if self.enabled {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(core.to_string()).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn prefix(&self, core: u8) -> Vec<String> {
        if self.enabled {
            vec!["taskset".to_owned(), "-c".to_owned(), core.to_string()]
        } else {
            Vec::new()
        }
    }
}

fn tool_exists(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

struct Running {
    label: String,
    child: Child,
}

/// What the bench started; stopped (SIGTERM, then SIGKILL) when dropped, last started first.
#[derive(Default)]
struct Processes {
    running: Vec<Running>,
}

impl Processes {
    fn spawn(
        &mut self,
        dir: &Path,
        label: &str,
        mut command: Command,
        args: &[String],
        env: &[(&str, String)],
    ) -> Result<()> {
        let log_path = dir.join("logs").join(format!("{label}.log"));
        let log =
            File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        command
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // Cargo's variables for xtask itself would mislead a service (`CARGO_PKG_NAME`, …).
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| k.starts_with("CARGO_")) {
                command.env_remove(key);
            }
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {label}"))?;
        self.running.push(Running {
            label: label.to_owned(),
            child,
        });
        Ok(())
    }

    /// Waits for the last started process to answer 200 on `path`.
    fn await_ready(&mut self, addr: &str, path: &str) -> Result<()> {
        let running = self.running.last_mut().expect("a process was started");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = running.child.try_wait() {
                bail!(
                    "{} exited ({status}); see target/webstore/bench/logs/{}.log",
                    running.label,
                    running.label
                );
            }
            if matches!(http::get(addr, path, Duration::from_secs(2)), Ok(r) if r.status == 200) {
                return Ok(());
            }
            if start.elapsed() > READY_TIMEOUT {
                bail!(
                    "{} not ready on http://{addr}{path} within {} s; see target/webstore/bench/logs/{}.log",
                    running.label,
                    READY_TIMEOUT.as_secs(),
                    running.label
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// (service name, pid) of one copy.
    fn services(&self, stack: Stack) -> impl Iterator<Item = (&str, u32)> {
        let prefix = format!("{}-", stack.name());
        self.running.iter().filter_map(move |r| {
            r.label
                .strip_prefix(&prefix)
                .map(|name| (name, r.child.id()))
        })
    }

    /// CPU seconds (user + system) used so far by one copy's services; 0 where `/proc` is absent.
    fn cpu_seconds(&self, stack: Stack) -> f64 {
        self.services(stack)
            .filter_map(|(_, pid)| proc_cpu_seconds(pid))
            .sum()
    }

    /// Peak resident set (VmHWM) of every service process, MiB.
    fn peak_rss(&self) -> Vec<(String, f64)> {
        self.running
            .iter()
            .filter(|r| r.label != "sink")
            .filter_map(|r| Some((r.label.clone(), proc_status_mib(r.child.id(), "VmHWM:")?)))
            .collect()
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        while let Some(mut r) = self.running.pop() {
            if let Ok(Some(_)) = r.child.try_wait() {
                continue;
            }
            let _ = os::send(r.child.id(), Signal::Terminate);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = r.child.try_wait() {
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            if let Ok(None) = r.child.try_wait() {
                let _ = r.child.kill();
                let _ = r.child.wait();
            }
        }
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in MiB; `None` off Linux.
fn proc_status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_mib(&status, field)
}

/// utime + stime of `/proc/<pid>/stat`, in seconds.
fn proc_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = stat_cpu_ticks(&stat)?;
    Some(ticks as f64 / clock_ticks_per_second())
}

/// Fields 14 and 15 (utime, stime) of a `/proc/<pid>/stat` line; the command name before them
/// may hold spaces and parentheses.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(unix)]
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

#[cfg(not(unix))]
fn clock_ticks_per_second() -> f64 {
    100.0
}

fn status_field_mib(status: &str, field: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line[field.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn ensure_port_free(port: u16) -> Result<()> {
    if TcpListener::bind((HOST, port)).is_err() {
        bail!("port {port} on {HOST} is taken; the bench needs 14318, 18080-18082 and 28080-28082");
    }
    Ok(())
}

/// `cargo build --release` of the four binaries; their paths from Cargo's JSON messages.
fn build_services(sh: &Shell) -> Result<BTreeMap<String, PathBuf>> {
    println!(
        "Building release binaries (catalog-service, payment-gateway, order-service, otlp-sink)..."
    );
    let messages = cmd!(
        sh,
        "cargo build --release --bins --message-format=json-render-diagnostics -p catalog-service -p payment-gateway -p order-service -p otlp-sink"
    )
    .read()
    .context("building the release binaries failed")?;
    let mut found = BTreeMap::new();
    for line in messages.lines() {
        let Ok(m) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(name), Some(exe)) = (m["target"]["name"].as_str(), m["executable"].as_str()) {
            found.insert(name.to_owned(), PathBuf::from(exe));
        }
    }
    for name in [
        "catalog-service",
        "payment-gateway",
        "order-service",
        "otlp-sink",
    ] {
        if !found.contains_key(name) {
            bail!("cargo built no `{name}` binary");
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Report

/// Median and (min, max) of `v`.
fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    s.sort_by(f64::total_cmp);
    let mid = s.len() / 2;
    let median = if s.len().is_multiple_of(2) {
        (s[mid - 1] + s[mid]) / 2.0
    } else {
        s[mid]
    };
    (median, s[0], s[s.len() - 1])
}

fn ratios(http: &Http, e: Endpoint, f: impl Fn(&WrkResult) -> f64) -> Vec<f64> {
    let on = http.runs.get(&key(e, Stack::On));
    let off = http.runs.get(&key(e, Stack::Off));
    match (on, off) {
        (Some(on), Some(off)) => on.iter().zip(off).map(|(a, b)| f(a) / f(b)).collect(),
        _ => Vec::new(),
    }
}

fn max_rss(http: Option<&Http>) -> f64 {
    http.map_or(f64::NAN, |h| {
        h.peak_rss.iter().map(|(_, m)| *m).fold(0.0, f64::max)
    })
}

fn report(micro: &Micro, http: Option<&Http>, plan: Plan, elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n== cargo xtask bench{} — {} rounds, measured part took {:.0} s ==",
        if plan.soak { "" } else { " --quick" },
        plan.rounds,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "\nfigure                                   median      spread (min–max)   target"
    );
    let row = |out: &mut String, name: &str, v: &[f64], unit: &str, digits: usize, target: &str| {
        let (m, lo, hi) = stats(v);
        let _ = writeln!(
            out,
            "{name:<40} {:>8} {unit:<3} {:>8} – {:<8} {target}",
            format!("{m:.digits$}"),
            format!("{lo:.digits$}"),
            format!("{hi:.digits$}")
        );
    };
    let plain: Vec<f64> = micro.observe.iter().map(|o| o.0).collect();
    let exemplar: Vec<f64> = micro.observe.iter().map(|o| o.1).collect();
    let ratio: Vec<f64> = micro.observe.iter().map(|o| o.1 / o.0).collect();
    row(&mut out, "observe, plain (ns)", &plain, "ns", 1, "");
    row(
        &mut out,
        "observe, exemplar in sampled span (ns)",
        &exemplar,
        "ns",
        1,
        "",
    );
    row(&mut out, "exemplar_ratio", &ratio, "×", 2, "≤ 1.5");
    row(
        &mut out,
        "metrics_encode_us (2 315 series)",
        &micro.encode_us,
        "µs",
        0,
        "< 1000",
    );
    if let Some(h) = http {
        for e in [Endpoint::Catalog, Endpoint::Checkout] {
            let (target, short) = match e {
                Endpoint::Catalog => ("≥ 0.90", "catalog"),
                Endpoint::Checkout => ("≥ 0.95", "checkout"),
            };
            for s in [Stack::On, Stack::Off] {
                let rps: Vec<f64> = h
                    .runs
                    .get(&key(e, s))
                    .map(|v| v.iter().map(|r| r.rps).collect())
                    .unwrap_or_default();
                row(
                    &mut out,
                    &format!("{short} rps, telemetry {}", s.name()),
                    &rps,
                    "rps",
                    0,
                    "",
                );
            }
            row(
                &mut out,
                &format!("{short}_rps_ratio"),
                &ratios(h, e, |r| r.rps),
                "×",
                2,
                target,
            );
            for s in [Stack::On, Stack::Off] {
                let cpu: Vec<f64> = h
                    .runs
                    .get(&key(e, s))
                    .map(|v| v.iter().map(|r| r.cpu_us_per_request).collect())
                    .unwrap_or_default();
                row(
                    &mut out,
                    &format!("{short} CPU µs/request, telemetry {}", s.name()),
                    &cpu,
                    "µs",
                    1,
                    "",
                );
            }
            // Off/on CPU per request: the throughput ratio a CPU-bound service would reach,
            // and much steadier than requests/s on a shared machine.
            row(
                &mut out,
                &format!("{short} CPU/request off/on"),
                &ratios(h, e, |r| 1.0 / r.cpu_us_per_request.max(f64::MIN_POSITIVE)),
                "×",
                2,
                "",
            );
            row(
                &mut out,
                &format!("{short} p99 on/off"),
                &ratios(h, e, |r| r.p99_ms),
                "×",
                2,
                "≤ 1.10",
            );
        }
        let _ = writeln!(
            out,
            "\nendpoints: {} and {}",
            Endpoint::Catalog.name(),
            Endpoint::Checkout.name()
        );
        for e in [Endpoint::Catalog, Endpoint::Checkout] {
            for s in [Stack::On, Stack::Off] {
                if let Some(runs) = h.runs.get(&key(e, s)) {
                    let requests: u64 = runs.iter().map(|r| r.requests).sum();
                    let bad: u64 = runs.iter().map(|r| r.non_2xx + r.socket_errors).sum();
                    let p99: Vec<f64> = runs.iter().map(|r| r.p99_ms).collect();
                    let _ = writeln!(
                        out,
                        "  {:<8} telemetry {:<3}: {requests} requests, {bad} non-2xx or socket errors, p99 median {:.2} ms",
                        if e == Endpoint::Catalog { "catalog" } else { "checkout" },
                        s.name(),
                        stats(&p99).0
                    );
                }
            }
        }
        if let Some((spans, requests)) = h.spans {
            let _ = writeln!(
                out,
                "  telemetry on: {spans} spans exported for {requests} server requests (all three services)"
            );
        }
        let _ = writeln!(
            out,
            "\npeak RSS (VmHWM), MiB, target < {RSS_TARGET_MIB:.0} per service:"
        );
        for (label, mib) in &h.peak_rss {
            let _ = writeln!(out, "  {label:<24} {mib:>6.1}");
        }
        if let Some(soak) = &h.soak {
            let _ = writeln!(
                out,
                "\nmemory soak, {} s (RSS after the first minute → at the end):",
                SOAK.as_secs()
            );
            for (name, start, end) in soak.growth() {
                let flat = end - start <= (start * 0.05).max(2.0);
                let _ = writeln!(
                    out,
                    "  {name:<24} {start:>6.1} → {end:>6.1} MiB  {}",
                    if flat { "flat" } else { "GROWING" }
                );
            }
        }
    }
    if !micro.table.is_empty() {
        let _ = writeln!(out, "\ncriterion medians, first round:");
        for (id, ns) in &micro.table {
            let shown = if *ns >= 10_000.0 {
                format!("{:.1} µs", ns / 1_000.0)
            } else {
                format!("{ns:.1} ns")
            };
            let _ = writeln!(out, "  {id:<44} {shown:>12}");
        }
    }
    out.push('\n');
    out
}

fn final_line(micro: &Micro, http: Option<&Http>) -> String {
    let ratio: Vec<f64> = micro.observe.iter().map(|o| o.1 / o.0).collect();
    let (catalog, checkout) = http.map_or((f64::NAN, f64::NAN), |h| {
        (
            stats(&ratios(h, Endpoint::Catalog, |r| r.rps)).0,
            stats(&ratios(h, Endpoint::Checkout, |r| r.rps)).0,
        )
    });
    format!(
        "bench: exemplar_ratio={:.2} metrics_encode_us={:.0} catalog_rps_ratio={:.2} checkout_rps_ratio={:.2} max_rss_mib={:.0}",
        stats(&ratio).0,
        stats(&micro.encode_us).0,
        catalog,
        checkout,
        max_rss(http)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 4s test @ http://127.0.0.1:18081/api/v1/products/p1
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  300.00us   9.87ms   90.00%
    Req/Sec    29.10k     1.20k   31.00k    80.00%
  Latency Distribution
     50%    1.02ms
     75%    1.20ms
     90%    1.40ms
     99%  812.00us
  116400 requests in 4.00s, 50.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  29100.50
Transfer/sec:     12.53MB
";

    #[test]
    fn reads_wrk_output() {
        let r = parse_wrk(WRK).unwrap();
        assert_eq!(r.rps, 29100.5);
        assert!((r.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(r.requests, 116_400);
        assert_eq!(r.non_2xx, 7);
        assert_eq!(r.socket_errors, 3);
        assert!(parse_wrk("garbage").is_none());
        assert_eq!(duration_ms("1.50s"), Some(1500.0));
        assert_eq!(duration_ms("2.00m"), Some(120_000.0));
    }

    #[test]
    fn reads_criterion_estimates() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.1,"upper_bound":10.5},"point_estimate":10.3,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.9,"upper_bound":10.2},"point_estimate":10.0,"standard_error":0.1}}"#;
        assert_eq!(median_from_estimates(json), Some(10.0));
        assert_eq!(median_from_estimates("{}"), None);
    }

    #[test]
    fn medians_and_spread() {
        assert_eq!(stats(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
        assert!(stats(&[]).0.is_nan());
    }

    #[test]
    fn cpu_ticks_from_stat() {
        let stat = "4242 (order (svc) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(stat_cpu_ticks(stat), Some(300));
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn status_fields() {
        let status = "Name:\torder-service\nVmHWM:\t   40960 kB\nVmRSS:\t   20480 kB\n";
        assert_eq!(status_field_mib(status, "VmHWM:"), Some(40.0));
        assert_eq!(status_field_mib(status, "VmRSS:"), Some(20.0));
        assert_eq!(status_field_mib(status, "VmSwap:"), None);
    }

    #[test]
    fn checkout_script_is_valid_lua_with_the_body() {
        let lua = checkout_lua("p-\"1", "demo-key");
        assert!(lua.contains("wrk.method = \"POST\""), "{lua}");
        assert!(
            lua.contains(r#"wrk.body = "{\"country\":\"US\",\"items\":[{\"product_id\":\"p-\\\"1\",\"quantity\":1}],\"payment_method\":\"card\"}""#),
            "{lua}"
        );
        assert!(lua.contains("wrk.headers[\"Authorization\"] = \"Bearer demo-key\""));
    }

    #[test]
    fn final_line_format() {
        let micro = Micro {
            observe: vec![(10.0, 11.0), (10.0, 12.0), (10.0, 11.5)],
            encode_us: vec![40.2, 41.0, 39.0],
            table: BTreeMap::new(),
        };
        let mut runs = BTreeMap::new();
        let r = |rps: f64| WrkResult {
            rps,
            ..WrkResult::default()
        };
        runs.insert(key(Endpoint::Catalog, Stack::On), vec![r(80.0)]);
        runs.insert(key(Endpoint::Catalog, Stack::Off), vec![r(100.0)]);
        runs.insert(key(Endpoint::Checkout, Stack::On), vec![r(96.0)]);
        runs.insert(key(Endpoint::Checkout, Stack::Off), vec![r(100.0)]);
        let http = Http {
            runs,
            peak_rss: vec![("on-order-service".to_owned(), 30.4)],
            spans: None,
            soak: None,
        };
        assert_eq!(
            final_line(&micro, Some(&http)),
            "bench: exemplar_ratio=1.15 metrics_encode_us=40 catalog_rps_ratio=0.80 checkout_rps_ratio=0.96 max_rss_mib=30"
        );
    }
}
