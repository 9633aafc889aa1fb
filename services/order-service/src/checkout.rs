//! The checkout flow: price from the catalog, write the order, charge, settle.
//!
//! This is the only module that talks to the catalog, the store and the gateway, in that order;
//! the route around it only parses and maps errors. The order row is written *before* the charge
//! so that no money can move for an order the store does not know.

use futures_util::future::join_all;
use telemetry::metrics::SpanIds;
use uuid::Uuid;

use crate::clients::{CatalogClient, CatalogError, ChargeOutcome, ChargeRequest, PaymentClient};
use crate::domain::{Cents, Checkout, CustomerId, ProductId};
use crate::error::CheckoutError;
use crate::metrics::OrderMetrics;
use crate::store::{NewOrder, OrderStatus, OrderStore, PricedLine};

#[derive(Clone, Debug)]
pub struct CheckoutFlow {
    pub catalog: CatalogClient,
    pub payment: PaymentClient,
    pub store: OrderStore,
    pub metrics: OrderMetrics,
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

impl CheckoutFlow {
    pub async fn place(
        &self,
        customer: &CustomerId,
        checkout: Checkout,
    ) -> Result<Placed, CheckoutError> {
        let lines = self.price(&checkout).await?;
        let total = lines
            .iter()
            .try_fold(Cents::ZERO, |sum, l| {
                Cents::new(l.unit_price_cents)
                    .and_then(|p| p.checked_mul(l.quantity))
                    .and_then(|amount| sum.checked_add(amount))
            })
            .ok_or(CheckoutError::AmountTooLarge)?;

        let order_id = Uuid::now_v7();
        let trace_id = SpanIds::current().map(|ids| ids.trace_id.to_string());
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
            .observe(total.usd());

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
            .observe_with_ids(charge.elapsed.as_secs_f64(), charge.span_ids);

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
        result
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
