//! The reconciler: settles orders whose payment outcome the checkout could not learn.
//!
//! A checkout that ended `payment_unknown` (no usable answer from the gateway), or an order left
//! `pending` by a process that died between writing it and charging it, is settled by asking
//! the gateway for the charge under the order's derived key (`GET
//! /v1/charges?idempotency_key=`). The rules are `domain::reconcile`'s; this module is the I/O
//! around them: the store, the payment client, the metrics, one span per order linked to the
//! checkout's trace.
//!
//! Runs once at start-up, then every `RECONCILE_INTERVAL`, as tracked work of the drain: a
//! SIGTERM lets the pass in progress finish (lookups are cut when the drain runs out of time)
//! and starts no other.

use std::time::Duration;

use contract::ChargeStatus;
use service_kit::drain::Drain;
use telemetry::opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use telemetry::tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing::field::Empty;
use tracing::Instrument;

use crate::clients::{Lookup, PaymentClient};
use crate::domain::{GatewayRecord, Order, ReconcilePolicy, UnsettledAge, Verdict};
use crate::metrics::OrderMetrics;
use crate::store::orders::now_ms;
use crate::store::{OrderStore, StoreError};

/// Orders looked at per pass at most: a pass stays short even after a long outage, and the
/// next one takes the rest.
const BATCH: u64 = 200;

/// What one pass did, by `result`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub looked_at: usize,
    pub settled: usize,
    pub retried: usize,
}

#[derive(Clone, Debug)]
pub struct Reconciler {
    pub orders: OrderStore,
    pub payment: PaymentClient,
    pub policy: ReconcilePolicy,
    pub metrics: OrderMetrics,
}

impl Reconciler {
    /// Passes until the drain begins: one now, then one every `RECONCILE_INTERVAL`.
    pub fn start(self, drain: &Drain) {
        let stop = drain.clone();
        drain.spawn(async move {
            loop {
                if let Err(e) = self.pass().await {
                    tracing::warn!(
                        error = &e as &dyn std::error::Error,
                        "reconciliation pass failed; the next one tries again"
                    );
                }
                tokio::select! {
                    () = tokio::time::sleep(self.policy.interval) => {}
                    () = stop.draining() => break,
                }
            }
        });
    }

    /// One pass: refreshes `webstore_orders_unsettled`, then reconciles every order due.
    pub async fn pass(&self) -> Result<Pass, StoreError> {
        let now = now_ms();
        self.refresh_unsettled(now).await?;
        let pending_before = now.saturating_sub(millis(self.policy.grace));
        let due = self
            .orders
            .unsettled_due(now, pending_before, BATCH)
            .await?;
        let mut pass = Pass {
            looked_at: due.len(),
            ..Pass::default()
        };
        for order in due {
            match self.reconcile(&order).await? {
                Verdict::Settle { .. } => pass.settled += 1,
                Verdict::Retry { .. } => pass.retried += 1,
                Verdict::Wait => {}
            }
        }
        if pass.looked_at > 0 {
            tracing::info!(
                looked_at = pass.looked_at,
                settled = pass.settled,
                retried = pass.retried,
                "reconciliation pass"
            );
        }
        Ok(pass)
    }

    /// One order: a root span of its own, linked to the checkout's.
    async fn reconcile(&self, order: &Order) -> Result<Verdict, StoreError> {
        let span = tracing::info_span!(
            parent: None,
            "order.reconcile",
            otel.kind = "internal",
            order.id = %order.id,
            order.status = order.status.as_str(),
            order.checkout_trace_id = order.trace_id.as_deref().unwrap_or(""),
            reconcile.attempt = order.reconcile_attempts + 1,
            reconcile.result = Empty,
        );
        if let Some(checkout) = checkout_span(order) {
            span.add_link(checkout);
        }
        self.decide_and_store(order).instrument(span).await
    }

    async fn decide_and_store(&self, order: &Order) -> Result<Verdict, StoreError> {
        let record = match self.payment.find_charge(order.id).await {
            Lookup::Found(charge) => match charge.status {
                ChargeStatus::Succeeded => GatewayRecord::Succeeded(charge.id),
                ChargeStatus::Declined(_) => GatewayRecord::Declined,
            },
            Lookup::NotFound => GatewayRecord::NoCharge,
            Lookup::Unknown(detail) => {
                tracing::warn!(order.id = %order.id, error = %detail, "the gateway gave no usable answer");
                GatewayRecord::NoAnswer
            }
        };
        let now = now_ms();
        let quiet_for = Duration::from_millis(
            u64::try_from(now.saturating_sub(order.updated_at_ms)).unwrap_or(0),
        );
        let verdict = self
            .policy
            .decide(&record, order.reconcile_attempts, quiet_for);
        match &verdict {
            Verdict::Settle { status, payment_id } => {
                let settled = self
                    .orders
                    .settle_unsettled(order.id, *status, payment_id.as_ref())
                    .await?;
                if settled {
                    tracing::info!(order.id = %order.id, order.status = status.as_str(), "order reconciled");
                } else {
                    tracing::info!(order.id = %order.id, "settled by a checkout meanwhile; left as it is");
                    return Ok(Verdict::Wait);
                }
            }
            Verdict::Retry { attempts, after } => {
                self.orders
                    .record_attempt(order.id, *attempts, now.saturating_add(millis(*after)))
                    .await?;
            }
            Verdict::Wait => {}
        }
        if let Some(result) = verdict.result() {
            tracing::Span::current().record("reconcile.result", result);
            self.metrics.reconciled.get(&[result]).inc();
        }
        Ok(verdict)
    }

    async fn refresh_unsettled(&self, now: i64) -> Result<(), StoreError> {
        for age in UnsettledAge::ALL {
            let (from, to) = age.range();
            // Written at or before `now − from`, after `now − to`.
            let newest = now.saturating_sub(millis(from)).saturating_add(1);
            let oldest = to.map(|to| now.saturating_sub(millis(to)).saturating_add(1));
            let count = self
                .orders
                .count_unsettled_created(oldest.unwrap_or(i64::MIN), Some(newest))
                .await?;
            self.metrics
                .unsettled
                .get(&[age.as_str()])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        Ok(())
    }
}

/// The checkout span that wrote the order, as a remote context to link to; `None` when the
/// checkout was not sampled (nothing was stored).
fn checkout_span(order: &Order) -> Option<SpanContext> {
    let trace_id = TraceId::from_hex(order.trace_id.as_deref()?).ok()?;
    let span_id = SpanId::from_hex(order.span_id.as_deref()?).ok()?;
    let cx = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    cx.is_valid().then_some(cx)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
