//! The order service's business instruments (names and buckets from the design).

use std::sync::Arc;

use telemetry::{CounterFamily, GaugeFamily, HistogramFamily, Telemetry};

use crate::domain::{reconcile, AuthFailure, OrderStatus, Rule, UnsettledAge};

pub const PAYMENT_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0];
pub const AMOUNT_BUCKETS: &[f64] = &[
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 25000.0,
];

/// The `result` values of `webstore_idempotency_requests_total` (what the checkout counts).
pub const IDEMPOTENCY_RESULTS: [&str; 5] = ["new", "resumed", "replayed", "conflict", "key_reuse"];

#[derive(Clone, Debug)]
pub struct OrderMetrics {
    pub payment_duration: Arc<HistogramFamily>,
    pub checkout_amount: Arc<HistogramFamily>,
    pub orders: Arc<CounterFamily>,
    pub auth_failures: Arc<CounterFamily>,
    pub idempotency: Arc<CounterFamily>,
    pub suspicious: Arc<CounterFamily>,
    pub reconciled: Arc<CounterFamily>,
    pub unsettled: Arc<GaugeFamily>,
}

impl OrderMetrics {
    pub fn new(telemetry: &Telemetry) -> Self {
        let metrics = Self {
            payment_duration: telemetry.histogram(
                "webstore_payment_duration_seconds",
                "Duration of payment-gateway charges as seen by the order service.",
                &["country", "payment_method", "outcome"],
                PAYMENT_BUCKETS,
            ),
            checkout_amount: telemetry.histogram(
                "webstore_checkout_amount_usd",
                "Order totals in US dollars.",
                &["country", "payment_method"],
                AMOUNT_BUCKETS,
            ),
            orders: telemetry.counter("webstore_orders", "Orders by final status.", &["status"]),
            auth_failures: telemetry.counter(
                "webstore_auth_failures",
                "Rejected API credentials by reason.",
                &["reason"],
            ),
            idempotency: telemetry.counter(
                "webstore_idempotency_requests",
                "Checkouts with an Idempotency-Key by result: new, resumed (retry of an open order), replayed, conflict (409), key_reuse (422).",
                &["result"],
            ),
            suspicious: telemetry.counter(
                "webstore_suspicious_activity",
                "Orders flagged (not blocked) by a suspicious-activity rule.",
                &["rule"],
            ),
            reconciled: telemetry.counter(
                "webstore_orders_reconciled",
                "Reconciliations of unsettled orders by result: paid, declined, failed (no charge at the gateway), unknown (no usable answer; retried with backoff), needs_attention (RECONCILE_MAX_ATTEMPTS reached).",
                &["result"],
            ),
            unsettled: telemetry.gauge(
                "webstore_orders_unsettled",
                "Orders whose payment outcome is not known yet (pending or payment_unknown), by time since they were written: lt_1m, 1m_to_10m, ge_10m. Refreshed by each reconciler pass.",
                &["age"],
            ),
        };
        metrics.create_known_series();
        metrics
    }

    /// Every counter series whose label values are known starts at 0, from the first scrape.
    /// A series that appears only with its first increment has no earlier sample, so
    /// `increase()` and `rate()` (and the alerts built on them) miss that increment: after a
    /// restart, the first declined order would never show.
    fn create_known_series(&self) {
        for status in OrderStatus::CHECKOUT_OUTCOMES {
            self.orders.get(&[status.as_str()]);
        }
        for failure in AuthFailure::ALL {
            self.auth_failures.get(&[failure.reason()]);
        }
        for result in IDEMPOTENCY_RESULTS {
            self.idempotency.get(&[result]);
        }
        for rule in Rule::ALL {
            self.suspicious.get(&[rule.as_str()]);
        }
        for result in reconcile::RESULTS {
            self.reconciled.get(&[result]);
        }
        for age in UnsettledAge::ALL {
            self.unsettled.get(&[age.as_str()]);
        }
    }
}
