//! What the soak watches besides the answers: each service's resident memory, and what its span
//! pipeline did with its spans.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use storectl::openmetrics;

/// RSS of every incarnation of every service: a baseline once it has warmed up, and the last
/// sample.
#[derive(Debug)]
pub struct RssTracker {
    warmup: Duration,
    incarnations: BTreeMap<(&'static str, u32), Incarnation>,
}

#[derive(Debug)]
struct Incarnation {
    first_seen: Instant,
    baseline: Option<f64>,
    last: f64,
}

impl RssTracker {
    /// Samples taken less than `warmup` after a process was first seen set no baseline: pools,
    /// caches and the allocator's arenas fill in the first seconds.
    pub fn new(warmup: Duration) -> RssTracker {
        RssTracker {
            warmup,
            incarnations: BTreeMap::new(),
        }
    }

    /// Records `rss_mib` of `service` running as `pid`, at `now`.
    pub fn record(&mut self, service: &'static str, pid: u32, rss_mib: f64, now: Instant) {
        let warmup = self.warmup;
        let inc = self
            .incarnations
            .entry((service, pid))
            .or_insert(Incarnation {
                first_seen: now,
                baseline: None,
                last: rss_mib,
            });
        inc.last = rss_mib;
        if inc.baseline.is_none() && now.duration_since(inc.first_seen) >= warmup {
            inc.baseline = Some(rss_mib);
        }
    }

    /// Samples every process in `pids` from `/proc`.
    pub fn sample(&mut self, pids: &[(&'static str, u32)]) {
        let now = Instant::now();
        for (service, pid) in pids {
            if let Some(mib) = devstack::procfs::rss_mib(*pid) {
                self.record(service, *pid, mib, now);
            }
        }
    }

    /// Per service: (baseline, last, growth) of the incarnation that grew most; services none
    /// of whose incarnations outlived the warm-up are left out.
    pub fn growth(&self) -> BTreeMap<&'static str, (f64, f64, f64)> {
        let mut out: BTreeMap<&'static str, (f64, f64, f64)> = BTreeMap::new();
        for ((service, _), inc) in &self.incarnations {
            let Some(baseline) = inc.baseline else {
                continue;
            };
            let grown = inc.last - baseline;
            let entry = out.entry(service).or_insert((baseline, inc.last, grown));
            if grown > entry.2 {
                *entry = (baseline, inc.last, grown);
            }
        }
        out
    }

    /// The largest growth of any service, in whole MiB (never negative).
    pub fn max_growth_mib(&self) -> u64 {
        self.growth()
            .values()
            .map(|(_, _, grown)| grown.max(0.0).round() as u64)
            .max()
            .unwrap_or(0)
    }
}

/// `otel_sdk_exporter_span_exported_total` by outcome, summed over every service and every
/// incarnation (each is scraped before it stops).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanTally(pub BTreeMap<String, f64>);

pub const SPAN_COUNTER: &str = "otel_sdk_exporter_span_exported_total";

impl SpanTally {
    /// Adds what one `/metrics` exposition counted.
    pub fn add(&mut self, exposition: &str) {
        let samples = openmetrics::parse(exposition);
        for (outcome, n) in openmetrics::counter_by(&samples, SPAN_COUNTER, "outcome") {
            *self.0.entry(outcome).or_default() += n;
        }
    }

    pub fn get(&self, outcome: &str) -> u64 {
        self.0.get(outcome).copied().unwrap_or(0.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_measured_after_the_warmup_per_incarnation() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut rss = RssTracker::new(s(10));
        rss.record("order-service", 1, 10.0, t0);
        rss.record("order-service", 1, 30.0, t0 + s(10));
        rss.record("order-service", 1, 34.0, t0 + s(60));
        // A restart: a new pid, a new baseline.
        rss.record("order-service", 2, 12.0, t0 + s(61));
        rss.record("order-service", 2, 31.0, t0 + s(71));
        rss.record("order-service", 2, 31.5, t0 + s(90));
        // Never warmed up: no figure.
        rss.record("payment-gateway", 3, 20.0, t0);
        rss.record("payment-gateway", 3, 90.0, t0 + s(5));
        let growth = rss.growth();
        assert_eq!(growth["order-service"], (30.0, 34.0, 4.0));
        assert!(!growth.contains_key("payment-gateway"));
        assert_eq!(rss.max_growth_mib(), 4);
    }

    #[test]
    fn span_outcomes_add_up_across_scrapes() {
        let mut tally = SpanTally::default();
        let scrape = "# TYPE otel_sdk_exporter_span_exported counter\n\
            otel_sdk_exporter_span_exported_total{outcome=\"success\"} 10\n\
            otel_sdk_exporter_span_exported_total{outcome=\"failure\"} 4\n\
            otel_sdk_exporter_span_exported_total{outcome=\"dropped\"} 0\n";
        tally.add(scrape);
        tally.add(scrape);
        assert_eq!(tally.get("success"), 20);
        assert_eq!(tally.get("failure"), 8);
        assert_eq!(tally.get("dropped"), 0);
        assert_eq!(tally.get("other"), 0);
    }
}
