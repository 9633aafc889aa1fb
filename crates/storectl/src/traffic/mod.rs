//! `storectl traffic`: the generate-traffic command, and the library half a load test reuses.
//!
//! [`run`] takes a [`TrafficConfig`] and a shutdown future (the CLI passes Ctrl-C/SIGTERM; a
//! test or a soak run passes its own), and returns a [`Report`]. In order: read the catalog's
//! products (nothing is changed if the store is not there); scrape order-service's counters;
//! save the gateway faults the scenario touches and set its own; drive the traffic
//! ([`drive`](mod@drive)); **put the saved faults back** — whatever happened during the run,
//! interrupt included; scrape the counters again for the deltas.
//!
//! - [`scenario`]: [`Scenario`] → [`Plan`] (faults, mix, pace).
//! - [`mix`]: the seeded request planner over the catalog's products.
//! - [`send`]: one request (and its retries), timed.
//! - [`client`]: the client's habits (keyless checkouts, retries) and the journal of attempts.
//! - [`drive`](mod@drive): pacing, concurrency, bounds, progress bar.
//! - [`faults`]: the gateway's fault API.
//! - [`stats`], [`counters`]: what the client saw, what the store counted.
//! - [`report`]: the summary table and its JSON.

pub mod client;
pub mod counters;
pub mod drive;
pub mod faults;
pub mod mix;
pub mod report;
pub mod scenario;
pub mod send;
pub mod stats;

use std::future::Future;
use std::time::Duration;

use reqwest::Url;

pub use client::{Attempt, ClientPolicy, Journal};
pub use counters::Counters;
pub use drive::Stop;
pub use faults::{FaultApi, Faults, FaultsPatch};
pub use report::{FaultsReport, Report};
pub use scenario::{Plan, Scenario};

use crate::error::{Error, Result};
use crate::http::Http;
use drive::{drive, Pace};
use mix::{fetch_products, PlacedOrders, Planner};
use send::Target;

/// Longer than order-service's PAYMENT_TIMEOUT (10 s), so a checkout's own answer (a 504) is
/// what the client sees, not its own timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything a run needs (the command line builds it: `TrafficArgs::config`).
#[derive(Clone, Debug)]
pub struct TrafficConfig {
    pub plan: Plan,
    pub duration: Duration,
    pub max_requests: Option<u64>,
    pub seed: u64,
    pub order: Url,
    pub catalog: Url,
    pub gateway: Url,
    pub api_key: String,
    pub admin_token: String,
    pub show_progress: bool,
    /// Keyless checkouts, retries, the journal; `ClientPolicy::default()` for none of them.
    pub client: ClientPolicy,
}

/// Runs the traffic until the duration, the request count or `shutdown`, whichever comes
/// first. `Err` only when the run could not start (nothing was sent, no fault changed).
pub async fn run(config: &TrafficConfig, shutdown: impl Future<Output = ()>) -> Result<Report> {
    let http = Http::new(REQUEST_TIMEOUT)?;
    let products = fetch_products(&http, &config.catalog).await?;
    let placed = PlacedOrders::default();
    let Some(planner) = Planner::new(config.seed, config.plan.mix, products, placed.clone()) else {
        return Err(Error::EmptyCatalog {
            url: config.catalog.to_string(),
        });
    };
    let mut planner = planner.keyless_one_in(config.client.keyless_one_in);
    let before = Counters::scrape(&http, &config.order).await;

    let fault_api = FaultApi::new(http.clone(), &config.gateway, &config.admin_token);
    let mut faults = None;
    if let Some(patch) = &config.plan.faults {
        let saved = fault_api.get().await?;
        fault_api.put(patch).await?;
        faults = Some((patch, saved));
    }

    let target = Target {
        http: http.clone(),
        order: config.order.clone(),
        catalog: config.catalog.clone(),
        api_key: config.api_key.clone(),
        placed,
        client: config.client.clone(),
    };
    let pace = Pace {
        rps: config.plan.rps,
        concurrency: config.plan.concurrency,
        duration: config.duration,
        max_requests: config.max_requests,
        show_progress: config.show_progress,
    };
    let driven = drive(&pace, &mut planner, &target, shutdown).await;

    // Always, before anything else can fail.
    let faults = match faults {
        Some((patch, saved)) => {
            let undo = patch.undo(&saved);
            let restored = fault_api.put(&undo).await;
            Some(FaultsReport {
                set: *patch,
                restore: undo,
                restored: restored.is_ok(),
                restore_error: restored.err().map(|e| e.to_string()),
                restore_by_hand: fault_api.curl(&undo),
            })
        }
        None => None,
    };

    let after = Counters::scrape(&http, &config.order).await;
    let (store_counted, store_error) = match (before, after) {
        (Ok(before), Ok(after)) => (Some(before.delta(&after)), None),
        (Err(e), _) | (_, Err(e)) => (None, Some(e.to_string())),
    };
    Ok(Report::new(
        config,
        driven,
        store_counted,
        store_error,
        faults,
    ))
}
