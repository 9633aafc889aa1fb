//! One soak run, start to end: databases, processes, traffic with the fault schedule running
//! beside it, reconciliation, the audit, the stop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use devstack::services::{CATALOG, GATEWAY, ORDER};
use devstack::Binaries;
use storectl::http::Http;
use storectl::traffic::mix::RequestKind;
use storectl::traffic::scenario::{Basket, Mix};
use storectl::traffic::{self, ClientPolicy, FaultApi, Journal, Plan, Scenario, TrafficConfig};
use tokio::runtime::Runtime;

use crate::audit::{audit, Books};
use crate::databases::{Databases, UNSETTLED};
use crate::faults::Injector;
use crate::report::Outcome;
use crate::schedule::{self, Fault};
use crate::stack::{DatabaseUrls, Stack};
use crate::watch::{RssTracker, SpanTally};
use crate::windows::{self, Window};

/// What one run does.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// How long the traffic runs.
    pub duration: Duration,
    /// One pass of the fault schedule; the run repeats it while whole passes fit.
    pub cycle: Duration,
    pub rps: f64,
    pub seed: u64,
    /// A PostgreSQL URL allowed to `CREATE DATABASE`; the run's three databases are dropped at
    /// the end.
    pub postgres_url: String,
    /// How long the reconciler gets to settle every order after the traffic.
    pub settle_timeout: Duration,
    /// The largest resident-memory growth of a service that passes.
    pub rss_limit_mib: u64,
    /// Where the processes' logs go.
    pub dir: PathBuf,
}

/// Browse and checkout, and lookups of the orders placed.
const MIX: Mix = Mix {
    list: 20,
    product: 25,
    checkout: 40,
    order_lookup: 15,
    basket: Basket::Shopper,
};
/// A process's RSS baseline is taken this long after it first answered.
const RSS_WARMUP: Duration = Duration::from_secs(10);
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Runs the soak with the service executables in `bin`. `Err` when the run could not be carried
/// out (a process did not start, a database could not be created); a run that was carried out
/// returns its [`Outcome`], invariants held or not.
pub fn run(config: &SoakConfig, bin: Binaries) -> Result<Outcome> {
    std::fs::create_dir_all(&config.dir)
        .with_context(|| format!("creating {}", config.dir.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let databases = rt.block_on(Databases::create(&config.postgres_url))?;
    let outcome = run_with(config, bin, &rt, &databases);
    if let Err(err) = rt.block_on(databases.drop_all()) {
        eprintln!("soak: the run's databases were not all dropped: {err:#}");
    }
    outcome
}

fn run_with(
    config: &SoakConfig,
    bin: Binaries,
    rt: &Runtime,
    databases: &Databases,
) -> Result<Outcome> {
    let mut stack = Stack::start(
        bin,
        &config.dir,
        DatabaseUrls {
            order: databases.url("order"),
            gateway: databases.url("gateway"),
            catalog: databases.url("catalog"),
        },
    )?;
    let parse = |service: &str| {
        storectl::http::parse_base_url(&stack.url(service)).map_err(anyhow::Error::msg)
    };
    let (order_url, catalog_url, gateway_url) = (parse(ORDER)?, parse(CATALOG)?, parse(GATEWAY)?);
    let journal = Journal::default();
    let traffic_config = TrafficConfig {
        plan: Plan {
            scenario: Scenario::Normal,
            faults: None,
            mix: MIX,
            rps: config.rps,
            concurrency: 64,
            about: "browse, checkout and order lookups under the soak's fault schedule",
            manual: None,
        },
        duration: config.duration,
        max_requests: None,
        seed: config.seed,
        order: order_url.clone(),
        catalog: catalog_url,
        gateway: gateway_url.clone(),
        api_key: stack.api_key.clone(),
        admin_token: stack.admin_token.clone(),
        show_progress: false,
        client: ClientPolicy {
            keyless_one_in: 4,
            retries: 3,
            retry_backoff: Duration::from_millis(500),
            journal: Some(journal.clone()),
        },
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let fault_api = FaultApi::new(
        Http::new(Duration::from_secs(10))?,
        &gateway_url,
        &stack.admin_token,
    );
    let mut spans = SpanTally::default();
    let mut rss = RssTracker::new(RSS_WARMUP);
    let api_key = stack.api_key.clone();
    let mut injector = Injector {
        stack: &mut stack,
        rt: rt.handle(),
        databases,
        fault_api,
        spans: &mut spans,
        http: http.clone(),
    };

    eprintln!(
        "soak: {} of traffic at {} rps, faults every {} (logs in {})",
        humantime::format_duration(config.duration),
        config.rps,
        humantime::format_duration(config.cycle.min(config.duration)),
        config.dir.display()
    );
    let traffic_started = Instant::now();
    let traffic = rt.spawn(async move { traffic::run(&traffic_config, interrupted()).await });
    let windows = inject(config, &mut injector, &mut rss, traffic_started, || {
        traffic.is_finished()
    });
    // The gateway's faults go back whatever happened, before anything else can fail.
    let cleared = injector.clear_gateway_faults();
    let windows = windows?;
    cleared?;
    let mut report = rt
        .block_on(traffic)
        .context("the traffic task")?
        .context("the traffic")?;
    // order-service restarted during the run, so its counters' deltas say nothing; the audit
    // reads the databases instead.
    report.store_counted = None;
    report.store_counted_error = None;

    eprintln!("soak: traffic done; restarting order-service to reconcile");
    injector.scrape_spans(&[ORDER]);
    injector.stack.stop_order();
    // The grace must exceed PAYMENT_TIMEOUT (order-service refuses to start otherwise): a
    // "no charge" answer is believed only once no charge for the order can still be on its way.
    injector
        .stack
        .start_order(&[("RECONCILE_INTERVAL", "1s"), ("RECONCILE_GRACE", "4s")])?;
    let settled_in = rt.block_on(settle(databases, config.settle_timeout))?;

    let attempts = journal.attempts();
    let placed: BTreeSet<String> = attempts.iter().filter_map(|a| a.order_id.clone()).collect();
    let read_back = rt.block_on(read_back(&http, &order_url, &api_key, &placed));
    let books = Books {
        placed,
        read_back,
        orders: rt.block_on(databases.orders())?,
        charges: rt.block_on(databases.charges())?,
    };
    injector.scrape_spans(&[ORDER, CATALOG, GATEWAY]);
    let panicked = stack.stop_all();

    Ok(Outcome {
        duration: config.duration,
        rps: config.rps,
        seed: config.seed,
        traffic_table: report.render(),
        traffic_started,
        requests: attempts.len() as u64,
        retries: attempts.iter().filter(|a| a.retry > 0).count() as u64,
        keyless_checkouts: attempts
            .iter()
            .filter(|a| a.kind == RequestKind::Checkout && a.idempotency_key.is_none())
            .count() as u64,
        classified: windows::classify(&attempts, &windows),
        answered_while_collector_down: windows::answered_during(
            &attempts,
            &windows,
            Fault::CollectorDown,
        ),
        windows,
        audit: audit(&books),
        settled_in,
        rss: rss.growth(),
        rss_growth_mib: rss.max_growth_mib(),
        rss_limit_mib: config.rss_limit_mib,
        spans,
        panicked,
        log_dir: config.dir.clone(),
    })
}

/// Runs the fault schedule against the clock of the traffic, sampling RSS meanwhile, until the
/// schedule is done and `traffic_done` says the traffic is too.
fn inject(
    config: &SoakConfig,
    injector: &mut Injector<'_>,
    rss: &mut RssTracker,
    t0: Instant,
    traffic_done: impl Fn() -> bool,
) -> Result<Vec<Window>> {
    /// What happens at one moment of the schedule.
    enum Event {
        /// A fault starts; `held` when a later `End` takes it back.
        Begin {
            fault: Fault,
            held: bool,
        },
        End(Fault),
    }
    let mut events: Vec<(Duration, Event)> = Vec::new();
    for step in schedule::plan(config.duration, config.cycle) {
        let held = !step.hold.is_zero();
        events.push((
            step.at,
            Event::Begin {
                fault: step.fault,
                held,
            },
        ));
        if held {
            events.push((step.at + step.hold, Event::End(step.fault)));
        }
    }
    events.sort_by_key(|(at, _)| *at);

    let mut windows = Vec::new();
    let mut open: Vec<(Fault, Instant, String)> = Vec::new();
    let mut last_sample = Instant::now() - SAMPLE_EVERY;
    let mut wait_until = |due: Option<Instant>, injector: &mut Injector<'_>| -> Result<()> {
        loop {
            if devstack::os::interrupted() {
                bail!("interrupted");
            }
            let now = Instant::now();
            if now.duration_since(last_sample) >= SAMPLE_EVERY {
                rss.sample(&injector.stack.service_pids());
                last_sample = now;
            }
            let done = match due {
                Some(due) => now >= due,
                None => traffic_done(),
            };
            if done {
                return Ok(());
            }
            let left = due.map_or(SAMPLE_EVERY, |d| d.saturating_duration_since(now));
            thread::sleep(left.min(Duration::from_millis(100)));
        }
    };
    for (at, event) in events {
        wait_until(Some(t0 + at), injector)?;
        let started = Instant::now();
        match event {
            Event::Begin { fault, held } => {
                eprintln!("soak: +{:.0} s {}", at.as_secs_f64(), fault.name());
                let note = injector.begin(fault)?;
                if held {
                    open.push((fault, started, note));
                } else {
                    windows.push(Window {
                        fault,
                        started,
                        ended: Instant::now(),
                        note,
                    });
                }
            }
            Event::End(fault) => {
                let note = injector.end(fault)?;
                if let Some(i) = open.iter().position(|(f, _, _)| *f == fault) {
                    let (fault, started, begun) = open.remove(i);
                    windows.push(Window {
                        fault,
                        started,
                        ended: Instant::now(),
                        note: format!("{begun}; {note}"),
                    });
                }
            }
        }
    }
    wait_until(None, injector)?;
    windows.sort_by_key(|w| w.started);
    Ok(windows)
}

/// Polls the order database until no order is unsettled; how long that took, or `None` at the
/// deadline.
async fn settle(databases: &Databases, timeout: Duration) -> Result<Option<Duration>> {
    let started = Instant::now();
    loop {
        let orders = databases.orders().await?;
        if !orders
            .iter()
            .any(|(_, status)| UNSETTLED.contains(&status.as_str()))
        {
            return Ok(Some(started.elapsed()));
        }
        if started.elapsed() >= timeout {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `GET /api/v1/orders/{id}` of each order: its status, `None` unless 200.
async fn read_back(
    http: &reqwest::Client,
    order: &reqwest::Url,
    api_key: &str,
    ids: &BTreeSet<String>,
) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for id in ids {
        let url = storectl::http::endpoint(order, &format!("/api/v1/orders/{id}"));
        let status = async {
            let response = http.get(url).bearer_auth(api_key).send().await.ok()?;
            if response.status() != reqwest::StatusCode::OK {
                return None;
            }
            let body: serde_json::Value = response.json().await.ok()?;
            body["status"].as_str().map(str::to_owned)
        }
        .await;
        out.insert(id.clone(), status);
    }
    out
}

/// Resolves on Ctrl-C (with [`devstack::os::install_interrupt_handler`] installed).
async fn interrupted() {
    while !devstack::os::interrupted() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
