//! The end-of-run summary, as a table for people and as JSON for machines (same fields).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::counters::Counters;
use super::drive::{Driven, Stop};
use super::faults::FaultsPatch;
use super::scenario::Scenario;
use super::stats::{writes_an_order, Percentiles, Seen};
use super::TrafficConfig;

/// What the run set on the gateway and whether it was put back.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultsReport {
    pub set: FaultsPatch,
    pub restore: FaultsPatch,
    pub restored: bool,
    pub restore_error: Option<String>,
    /// The command that restores them by hand.
    pub restore_by_hand: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    pub about: &'static str,
    pub seed: u64,
    pub target_rps: f64,
    pub concurrency: usize,
    pub planned_seconds: f64,
    pub elapsed_seconds: f64,
    pub stopped_by: Stop,
    pub requests_sent: u64,
    pub cancelled: u64,
    /// Requests sent per second while sending (below the target when every slot was busy).
    pub achieved_rps: f64,
    #[serde(flatten)]
    pub seen: Seen,
    /// Deltas of order-service's /metrics over the run: every client's requests, not only ours.
    pub store_counted: Option<Counters>,
    pub store_counted_error: Option<String>,
    pub faults: Option<FaultsReport>,
}

impl Report {
    pub(crate) fn new(
        config: &TrafficConfig,
        driven: Driven,
        store_counted: Option<Counters>,
        store_counted_error: Option<String>,
        faults: Option<FaultsReport>,
    ) -> Report {
        let seen = driven.recorder.finish();
        let elapsed = driven.elapsed.as_secs_f64();
        Report {
            scenario: config.plan.scenario,
            about: config.plan.about,
            seed: config.seed,
            target_rps: config.plan.rps,
            concurrency: config.plan.concurrency,
            planned_seconds: config.duration.as_secs_f64(),
            elapsed_seconds: elapsed,
            stopped_by: driven.stop,
            requests_sent: driven.sent,
            cancelled: driven.cancelled,
            achieved_rps: driven.sent as f64 / driven.dispatching.as_secs_f64().max(1e-3),
            seen,
            store_counted,
            store_counted_error,
            faults,
        }
    }

    /// Faults were changed and could not be put back.
    pub fn faults_left_behind(&self) -> bool {
        self.faults.as_ref().is_some_and(|f| !f.restored)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let name = self.scenario.name();
        let _ = writeln!(
            out,
            "traffic: {name} — {}\n  seed {} (rerun the same mix with --seed {}), target {} rps, {} in flight at most",
            self.about, self.seed, self.seed, self.target_rps, self.concurrency
        );
        let stopped = match self.stopped_by {
            Stop::Duration => "duration reached",
            Stop::Requests => "request count reached",
            Stop::Interrupted => "interrupted",
        };
        row(
            &mut out,
            "requests",
            format!(
                "{} sent in {:.1} s ({stopped}); {} answered, {} without an answer{}",
                self.requests_sent,
                self.elapsed_seconds,
                self.seen.answered,
                self.seen.no_answer,
                if self.cancelled > 0 {
                    format!(", {} abandoned in flight", self.cancelled)
                } else {
                    String::new()
                }
            ),
        );
        row(
            &mut out,
            "achieved rate",
            format!(
                "{:.1} requests/s sent (target {}){}",
                self.achieved_rps,
                self.target_rps,
                if self.achieved_rps < 0.9 * self.target_rps {
                    "; every slot was busy at times: raise --concurrency"
                } else {
                    ""
                }
            ),
        );
        row(&mut out, "latency", percentiles(&self.seen.latency_ms));
        for kind in &self.seen.by_request {
            row(
                &mut out,
                "",
                format!(
                    "{:<27} {:>5}  {}",
                    kind.route,
                    kind.count,
                    percentiles(&kind.latency_ms)
                ),
            );
        }
        let codes: Vec<String> = self
            .seen
            .status_codes
            .iter()
            .map(|(code, n)| format!("{code}: {n}"))
            .collect();
        row(&mut out, "status codes", or_none(codes.join("  ")));
        row(&mut out, "checkouts", counts(&self.seen.checkouts));
        row(
            &mut out,
            "429 answers",
            format!(
                "{} ({} with Retry-After, RateLimit and RateLimit-Policy)",
                self.seen.too_many_requests, self.seen.too_many_with_rate_limit_headers
            ),
        );
        match (&self.store_counted, &self.store_counted_error) {
            (Some(store), _) => {
                row(
                    &mut out,
                    "orders (store)",
                    or_none(float_counts(&store.orders)),
                );
                row(
                    &mut out,
                    "rate limited",
                    or_none(float_counts(&store.rate_limited)),
                );
                row(
                    &mut out,
                    "suspicious flags",
                    or_none(float_counts(&store.suspicious)),
                );
                row(
                    &mut out,
                    "",
                    "(order-service /metrics deltas over the run: other clients included)".into(),
                );
            }
            (None, Some(error)) => row(&mut out, "store counters", format!("not read: {error}")),
            (None, None) => {}
        }
        if let Some(faults) = &self.faults {
            let outcome = if faults.restored {
                format!("restored {}", faults.restore.describe())
            } else {
                format!(
                    "NOT restored ({}); restore by hand:\n{:>20}{}",
                    faults.restore_error.as_deref().unwrap_or("unknown error"),
                    "",
                    faults.restore_by_hand
                )
            };
            row(
                &mut out,
                "gateway faults",
                format!("set {} for the run; {outcome}", faults.set.describe()),
            );
        }
        out
    }
}

fn row(out: &mut String, label: &str, value: String) {
    let _ = writeln!(out, "  {label:<17} {value}");
}

fn percentiles(p: &Percentiles) -> String {
    format!(
        "p50 {}  p95 {}  p99 {}  max {}",
        ms(p.p50),
        ms(p.p95),
        ms(p.p99),
        ms(p.max)
    )
}

fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} s", value / 1000.0)
    } else {
        format!("{value:.1} ms")
    }
}

/// Checkout outcomes; those that write no order say so.
fn counts(map: &BTreeMap<&'static str, u64>) -> String {
    or_none(
        map.iter()
            .map(|(k, n)| match writes_an_order(k) {
                Some(false) => format!("{k}: {n} (no order)"),
                _ => format!("{k}: {n}"),
            })
            .collect::<Vec<_>>()
            .join("  "),
    )
}

fn float_counts(map: &BTreeMap<String, f64>) -> String {
    map.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join("  ")
}

fn or_none(text: String) -> String {
    if text.is_empty() {
        "none".to_owned()
    } else {
        text
    }
}
