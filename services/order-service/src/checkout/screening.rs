//! Suspicious-activity screening during a checkout: the rules are `domain::suspicious`; this
//! reads the history they count from the orders table and reports what fires. Flags, never
//! blocks.

use std::sync::Arc;

use contract::{Cents, OrderId};
use telemetry::CounterFamily;

use crate::domain::{CheckoutRequest, CustomerId, Flag, SuspiciousRules};
use crate::store::orders::now_ms;
use crate::store::OrderStore;

#[derive(Clone, Debug)]
pub struct Screening {
    pub rules: SuspiciousRules,
    pub orders: OrderStore,
    /// `webstore_suspicious_activity_total{rule}`.
    pub flagged: Arc<CounterFamily>,
}

impl Screening {
    /// `bulk_quantity`, `high_amount` and `card_testing`, once the order is written.
    pub async fn written(
        &self,
        customer: &CustomerId,
        checkout: &CheckoutRequest,
        order_id: OrderId,
        total: Cents,
    ) {
        for flag in self.rules.basket(checkout, total) {
            self.flag(order_id, &flag);
        }
        if let Some(burst) = self
            .rules
            .card_testing
            .filter(|_| self.rules.counts_as_small(total))
        {
            match self
                .orders
                .count_small_since(customer, self.rules.small_amount, since(burst.window))
                .await
            {
                Ok(n) => {
                    if let Some(flag) = self.rules.card_testing(n) {
                        self.flag(order_id, &flag);
                    }
                }
                Err(e) => tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "card_testing not evaluated"
                ),
            }
        }
    }

    /// `repeated_declines`, once a decline is settled.
    pub async fn declined(&self, customer: &CustomerId, order_id: OrderId) {
        let Some(burst) = self.rules.repeated_declines else {
            return;
        };
        match self
            .orders
            .count_declined_since(customer, since(burst.window))
            .await
        {
            Ok(n) => {
                if let Some(flag) = self.rules.repeated_declines(n) {
                    self.flag(order_id, &flag);
                }
            }
            Err(e) => tracing::warn!(
                error = &e as &dyn std::error::Error,
                "repeated_declines not evaluated"
            ),
        }
    }

    /// Flags without blocking: the metric, and one warning that is both a log line (with the
    /// trace id) and an event on the checkout span.
    fn flag(&self, order_id: OrderId, flag: &Flag) {
        self.flagged.get(&[flag.rule.as_str()]).inc();
        tracing::warn!(
            suspicious.rule = flag.rule.as_str(),
            suspicious.reason = %flag.reason,
            order.id = %order_id,
            "order.suspicious"
        );
    }
}

/// The start of a window ending now, in the store's milliseconds.
fn since(window: std::time::Duration) -> i64 {
    now_ms().saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX))
}
