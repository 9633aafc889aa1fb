//! The checkout flow: price from the catalog, write the order, charge, settle.
//!
//! This is the only module that talks to the catalog, the store and the gateway, in that order;
//! the route around it only parses and maps errors. The order row is written *before* the charge
//! so that no money can move for an order the store does not know.

use futures_util::future::join_all;
use telemetry::{Exemplar, SpanIds};
use uuid::Uuid;

use crate::clients::{CatalogClient, CatalogError, ChargeOutcome, ChargeRequest, PaymentClient};
use crate::domain::{Cents, Checkout, CustomerId, Flag, ProductId, SuspiciousRules};
use crate::error::CheckoutError;
use crate::metrics::OrderMetrics;
use crate::store::orders::now_ms;
use crate::store::{NewOrder, OrderStatus, OrderStore, PricedLine};

#[derive(Clone, Debug)]
pub struct CheckoutFlow {
    pub catalog: CatalogClient,
    pub payment: PaymentClient,
    pub store: OrderStore,
    pub metrics: OrderMetrics,
    pub rules: SuspiciousRules,
}

/// A charged order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Placed {
    pub order_id: String,
    pub status: &'static str,
    pub total_cents: i64,
    pub total_usd: f64,
    pub payment_id: String,
    /// The trace of this checkout (when sampled), to look it up in Tempo.
    pub trace_id: Option<String>,
}

/// Which order a checkout works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderRef {
    /// A new order with this id.
    New(Uuid),
    /// An id reserved by an earlier attempt with the same `Idempotency-Key`. If that attempt
    /// wrote the order (and its payment outcome is unknown), the order is charged again — with
    /// the same order-derived gateway key, so the gateway answers with the charge it already
    /// made instead of making another. Otherwise it is a new order with this id.
    Reserved(Uuid),
}

/// What the charge needs from a written order.
struct Written {
    id: Uuid,
    total: Cents,
}

impl CheckoutFlow {
    pub async fn place(
        &self,
        customer: &CustomerId,
        checkout: Checkout,
        order: OrderRef,
    ) -> Result<Placed, CheckoutError> {
        let trace_id = SpanIds::current().map(|ids| ids.trace_id().to_string());
        let written = match order {
            OrderRef::New(id) => self.write(customer, &checkout, id, &trace_id).await?,
            OrderRef::Reserved(id) => {
                match self
                    .store
                    .find_for_customer(&id.to_string(), customer)
                    .await?
                {
                    Some(existing) => {
                        tracing::info!(
                            order.id = %id,
                            order.status = %existing.status,
                            "retry with the same Idempotency-Key: charging the same order again"
                        );
                        Written {
                            id,
                            // Prices frozen when the order was written, so the gateway sees
                            // the very same charge request and replays its answer.
                            total: Cents::new(existing.total_cents)
                                .ok_or(CheckoutError::AmountTooLarge)?,
                        }
                    }
                    None => self.write(customer, &checkout, id, &trace_id).await?,
                }
            }
        };
        self.charge(customer, &checkout, written, trace_id).await
    }

    /// Prices the basket and writes the order as `pending`.
    async fn write(
        &self,
        customer: &CustomerId,
        checkout: &Checkout,
        order_id: Uuid,
        trace_id: &Option<String>,
    ) -> Result<Written, CheckoutError> {
        let lines = self.price(checkout).await?;
        let total = lines
            .iter()
            .try_fold(Cents::ZERO, |sum, l| {
                Cents::new(l.unit_price_cents)
                    .and_then(|p| p.checked_mul(l.quantity))
                    .and_then(|amount| sum.checked_add(amount))
            })
            .ok_or(CheckoutError::AmountTooLarge)?;
        let country = checkout.country.as_ref();
        let method = checkout.payment_method.as_ref();
        self.store
            .insert_pending(NewOrder {
                id: order_id,
                customer,
                country,
                payment_method: method,
                total,
                lines: &lines,
                trace_id: trace_id.clone(),
            })
            .await?;
        tracing::info!(order.id = %order_id, order.total_cents = total.get(), "order written, charging");
        self.metrics
            .checkout_amount
            .get(&[country, method])
            .observe(total.usd(), Exemplar::CurrentSpan);
        self.screen_basket(customer, checkout, order_id, total)
            .await;
        Ok(Written {
            id: order_id,
            total,
        })
    }

    /// Charges a written order and settles it to one of the outcome table's statuses.
    async fn charge(
        &self,
        customer: &CustomerId,
        checkout: &Checkout,
        order: Written,
        trace_id: Option<String>,
    ) -> Result<Placed, CheckoutError> {
        let Written {
            id: order_id,
            total,
        } = order;
        let country = checkout.country.as_ref();
        let method = checkout.payment_method.as_ref();
        // The gateway deduplicates on this key: derived from the order, never the client's key.
        let key = format!("order-{order_id}");
        let reference = order_id.to_string();
        let charge = self
            .payment
            .charge(
                &key,
                &ChargeRequest {
                    amount_cents: total.get(),
                    currency: "USD",
                    payment_method: method,
                    country,
                    reference: &reference,
                },
            )
            .await;
        self.metrics
            .payment_duration
            .get(&[country, method, charge.outcome.label()])
            .observe(
                charge.elapsed.as_secs_f64(),
                Exemplar::from(charge.span_ids),
            );

        let (status, result) = match charge.outcome {
            ChargeOutcome::Paid { charge_id } => (
                OrderStatus::Paid,
                Ok(Placed {
                    order_id: reference.clone(),
                    status: OrderStatus::Paid.as_str(),
                    total_cents: total.get(),
                    total_usd: total.usd(),
                    payment_id: charge_id,
                    trace_id,
                }),
            ),
            ChargeOutcome::Declined {
                charge_id,
                decline_code,
            } => (
                OrderStatus::Declined,
                Err(CheckoutError::Declined {
                    order_id: reference.clone(),
                    charge_id,
                    decline_code,
                }),
            ),
            ChargeOutcome::Failed { detail } => {
                tracing::warn!(order.id = %order_id, error = %detail, "payment failed");
                (
                    OrderStatus::PaymentFailed,
                    Err(CheckoutError::PaymentFailed {
                        order_id: reference.clone(),
                    }),
                )
            }
            ChargeOutcome::Timeout => {
                tracing::warn!(order.id = %order_id, timeout = ?charge.elapsed, "payment outcome unknown");
                (
                    OrderStatus::PaymentUnknown,
                    Err(CheckoutError::PaymentUnknown {
                        order_id: reference.clone(),
                    }),
                )
            }
        };
        let payment_id = result.as_ref().ok().map(|p| p.payment_id.as_str());
        self.store.settle(order_id, status, payment_id).await?;
        self.metrics.orders.get(&[status.as_str()]).inc();
        tracing::info!(order.id = %order_id, order.status = status.as_str(), "order settled");
        if status == OrderStatus::Declined {
            self.screen_declines(customer, order_id).await;
        }
        result
    }

    /// `bulk_quantity`, `high_amount` and `card_testing`, once the order is written.
    async fn screen_basket(
        &self,
        customer: &CustomerId,
        checkout: &Checkout,
        order_id: Uuid,
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
            let since = now_ms()
                .saturating_sub(i64::try_from(burst.window.as_millis()).unwrap_or(i64::MAX));
            match self
                .store
                .count_small_since(customer, self.rules.small_amount, since)
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
    async fn screen_declines(&self, customer: &CustomerId, order_id: Uuid) {
        let Some(burst) = self.rules.repeated_declines else {
            return;
        };
        let since =
            now_ms().saturating_sub(i64::try_from(burst.window.as_millis()).unwrap_or(i64::MAX));
        match self.store.count_declined_since(customer, since).await {
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
    fn flag(&self, order_id: Uuid, flag: &Flag) {
        self.metrics.suspicious.get(&[flag.rule.as_str()]).inc();
        tracing::warn!(
            suspicious.rule = flag.rule.as_str(),
            suspicious.reason = %flag.reason,
            order.id = %order_id,
            "order.suspicious"
        );
    }

    /// Prices every line from the catalog (distinct products looked up concurrently). Prices
    /// never come from the client.
    async fn price(&self, checkout: &Checkout) -> Result<Vec<PricedLine>, CheckoutError> {
        let mut ids: Vec<&ProductId> = checkout.lines.iter().map(|l| &l.product_id).collect();
        ids.sort();
        ids.dedup();
        let found = join_all(ids.iter().map(|id| self.catalog.product(id))).await;
        let mut unknown = Vec::new();
        let mut products = std::collections::HashMap::new();
        for (id, result) in ids.iter().zip(found) {
            match result {
                Ok(p) if p.price_cents < 0 => {
                    return Err(CheckoutError::CatalogUnavailable(format!(
                        "negative price for {}",
                        p.id
                    )))
                }
                Ok(p) => {
                    products.insert(id.as_ref().to_owned(), p);
                }
                Err(CatalogError::NotFound(_)) => unknown.push(id.as_ref().to_owned()),
                Err(CatalogError::Unavailable(detail)) => {
                    return Err(CheckoutError::CatalogUnavailable(detail))
                }
            }
        }
        if !unknown.is_empty() {
            return Err(CheckoutError::UnknownProducts(unknown));
        }
        Ok(checkout
            .lines
            .iter()
            .filter_map(|l| {
                products.get(l.product_id.as_ref()).map(|p| PricedLine {
                    product_id: p.id.clone(),
                    name: p.name.clone(),
                    quantity: l.quantity.get(),
                    unit_price_cents: p.price_cents,
                })
            })
            .collect())
    }
}
