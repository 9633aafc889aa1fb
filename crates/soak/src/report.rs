//! The end of a run: the table, the one final line, and the invariants that fail it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::audit::Audit;
use crate::schedule::Fault;
use crate::watch::SpanTally;
use crate::windows::{Classified, Window};

/// Everything a run found.
#[derive(Debug)]
pub struct Outcome {
    pub duration: Duration,
    pub rps: f64,
    pub seed: u64,
    /// `storectl traffic`'s own summary of the load.
    pub traffic_table: String,
    pub traffic_started: Instant,
    /// HTTP attempts, retries included.
    pub requests: u64,
    pub retries: u64,
    pub keyless_checkouts: u64,
    pub windows: Vec<Window>,
    pub classified: Classified,
    pub audit: Audit,
    /// How long the reconciler took to settle every order after the traffic; `None`: not
    /// within the deadline.
    pub settled_in: Option<Duration>,
    /// Per service: (baseline, last, growth) in MiB.
    pub rss: BTreeMap<&'static str, (f64, f64, f64)>,
    pub rss_growth_mib: u64,
    pub rss_limit_mib: u64,
    pub spans: SpanTally,
    pub answered_while_collector_down: u64,
    pub panicked: Vec<String>,
    pub log_dir: PathBuf,
}

impl Outcome {
    pub fn unexplained_5xx(&self) -> u64 {
        self.classified.unexplained.len() as u64
    }

    /// The last line of every run, exactly.
    pub fn final_line(&self) -> String {
        format!(
            "soak: requests={} unexplained_5xx={} lost_orders={} double_charges={} orphan_charges={} unsettled={} rss_growth_mib={}",
            self.requests,
            self.unexplained_5xx(),
            self.audit.lost_orders.len(),
            self.audit.double_charges,
            self.audit.orphan_charges.len(),
            self.audit.unsettled.len(),
            self.rss_growth_mib
        )
    }

    /// Each invariant that does not hold, in words; empty when the run passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failed = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                failed.push(what);
            }
        };
        check(self.requests > 0, "no request was sent".into());
        check(
            self.unexplained_5xx() == 0,
            format!(
                "{} 5xx or unanswered requests outside every fault window",
                self.unexplained_5xx()
            ),
        );
        let a = &self.audit;
        check(
            a.lost_orders.is_empty(),
            format!(
                "{} orders answered 201 are not stored or readable as paid: {}",
                a.lost_orders.len(),
                sample(&a.lost_orders)
            ),
        );
        check(
            a.double_charges == 0,
            format!("{} orders charged more than once", a.double_charges),
        );
        check(
            a.orphan_charges.is_empty(),
            format!(
                "{} charges captured for orders the store does not call paid: {}",
                a.orphan_charges.len(),
                sample(&a.orphan_charges)
            ),
        );
        check(
            a.paid_without_charge.is_empty(),
            format!(
                "{} paid orders without a captured charge: {}",
                a.paid_without_charge.len(),
                sample(&a.paid_without_charge)
            ),
        );
        check(
            a.unsettled.is_empty(),
            format!(
                "{} orders still pending or payment_unknown after reconciliation: {}",
                a.unsettled.len(),
                sample(&a.unsettled)
            ),
        );
        check(
            self.rss_growth_mib <= self.rss_limit_mib,
            format!(
                "resident memory grew {} MiB (limit {} MiB)",
                self.rss_growth_mib, self.rss_limit_mib
            ),
        );
        let collector_down = self.windows.iter().any(|w| w.fault == Fault::CollectorDown);
        check(
            !collector_down || self.answered_while_collector_down > 0,
            "no request was answered while the collector was down: the span pipeline blocks".into(),
        );
        check(
            self.panicked.is_empty(),
            format!("a panic in the log of {}", self.panicked.join(", ")),
        );
        failed
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "soak: {} of traffic at {} rps (seed {}); logs in {}",
            humantime::format_duration(self.duration),
            self.rps,
            self.seed,
            self.log_dir.display()
        );
        let _ = writeln!(out, "\nFault windows (from the start of the traffic):");
        for w in &self.windows {
            let from = w.started.saturating_duration_since(self.traffic_started);
            let to = w.ended.saturating_duration_since(self.traffic_started);
            let _ = writeln!(
                out,
                "  {:>6.1}–{:<6.1} s  {:<21} {}",
                from.as_secs_f64(),
                to.as_secs_f64(),
                w.fault.name(),
                w.note
            );
        }
        let _ = writeln!(out, "\nTraffic (what the client saw):");
        for line in self.traffic_table.lines().skip(1) {
            let _ = writeln!(out, "{line}");
        }
        let explained: Vec<String> = self
            .classified
            .explained
            .iter()
            .map(|(fault, n)| format!("{}: {n}", fault.name()))
            .collect();
        let _ = writeln!(out, "\nChecks:");
        row(
            &mut out,
            "requests",
            format!(
                "{} attempts ({} client retries; {} checkouts without Idempotency-Key)",
                self.requests, self.retries, self.keyless_checkouts
            ),
        );
        row(
            &mut out,
            "5xx / no answer",
            format!(
                "{} inside fault windows ({}); {} unexplained{}",
                self.classified.explained.values().sum::<u64>(),
                if explained.is_empty() {
                    "none".to_owned()
                } else {
                    explained.join(", ")
                },
                self.unexplained_5xx(),
                match self.classified.unexplained.first() {
                    Some(a) => format!(
                        " (first: {} at {:.1} s, {})",
                        a.kind.route(),
                        a.started
                            .saturating_duration_since(self.traffic_started)
                            .as_secs_f64(),
                        a.status.map_or("no answer".to_owned(), |s| s.to_string())
                    ),
                    None => String::new(),
                }
            ),
        );
        let a = &self.audit;
        row(&mut out, "orders (db)", counts(&a.orders_by_status));
        row(&mut out, "charges (gateway)", counts(&a.charges_by_status));
        row(
            &mut out,
            "books",
            format!(
                "lost {}, double charges {}, orphan charges {}, paid without charge {}",
                a.lost_orders.len(),
                a.double_charges,
                a.orphan_charges.len(),
                a.paid_without_charge.len()
            ),
        );
        row(
            &mut out,
            "reconciliation",
            match self.settled_in {
                Some(t) => format!(
                    "every order settled {:.1} s after the traffic",
                    t.as_secs_f64()
                ),
                None => format!(
                    "{} orders still unsettled at the deadline",
                    a.unsettled.len()
                ),
            },
        );
        let rss: Vec<String> = self
            .rss
            .iter()
            .map(|(s, (from, to, grown))| format!("{s} {from:.1} → {to:.1} ({grown:+.1})"))
            .collect();
        row(
            &mut out,
            "RSS MiB",
            format!(
                "{} (limit +{} MiB)",
                if rss.is_empty() {
                    "not measured".to_owned()
                } else {
                    rss.join(", ")
                },
                self.rss_limit_mib
            ),
        );
        row(
            &mut out,
            "spans",
            format!(
                "exported {}, failed {} (the collector away), dropped {}; {} requests answered 2xx while the collector was down",
                self.spans.get("success"),
                self.spans.get("failure"),
                self.spans.get("dropped"),
                self.answered_while_collector_down
            ),
        );
        let failures = self.failures();
        row(
            &mut out,
            "verdict",
            if failures.is_empty() {
                "every invariant holds".to_owned()
            } else {
                format!("FAILED: {}", failures.join("; "))
            },
        );
        out
    }
}

fn row(out: &mut String, label: &str, value: String) {
    let _ = writeln!(out, "  {label:<17} {value}");
}

fn counts(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The first few ids of a list, for a message.
fn sample(ids: &[String]) -> String {
    let mut shown: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();
    if ids.len() > 3 {
        shown.push("…");
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> Outcome {
        Outcome {
            duration: Duration::from_secs(90),
            rps: 12.0,
            seed: 1,
            traffic_table: "traffic: normal\n  requests   10 sent\n".into(),
            traffic_started: Instant::now(),
            requests: 10,
            retries: 1,
            keyless_checkouts: 2,
            windows: Vec::new(),
            classified: Classified::default(),
            audit: Audit::default(),
            settled_in: Some(Duration::from_secs(2)),
            rss: BTreeMap::new(),
            rss_growth_mib: 3,
            rss_limit_mib: 64,
            spans: SpanTally::default(),
            answered_while_collector_down: 0,
            panicked: Vec::new(),
            log_dir: PathBuf::from("target/webstore/soak"),
        }
    }

    #[test]
    fn the_final_line_has_the_agreed_shape() {
        let o = outcome();
        assert_eq!(
            o.final_line(),
            "soak: requests=10 unexplained_5xx=0 lost_orders=0 double_charges=0 orphan_charges=0 unsettled=0 rss_growth_mib=3"
        );
        assert!(o.failures().is_empty(), "{:?}", o.failures());
        assert!(o.render().contains("every invariant holds"));
    }

    #[test]
    fn a_broken_invariant_fails_the_run() {
        let mut o = outcome();
        o.audit.unsettled = vec!["o1".into()];
        o.rss_growth_mib = 100;
        let failures = o.failures();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(o.final_line().contains("unsettled=1"));
        assert!(o.render().contains("FAILED"));
    }
}
