//! The checkout: price from the catalog, write the order, charge, settle — and, under an
//! `Idempotency-Key`, decide what a retry gets.
//!
//! The only module that calls the catalog and the gateway, and the only one that writes
//! orders: catalog, store, gateway, store, in that order (`GET /api/v1/orders/{id}` and
//! `/readyz` only read the store). The order row is written *before* the charge so that no
//! money can move for an order the store does not know. [`Checkout::place`] returns the settled order with its outcome as a value;
//! [`Checkout::submit`] adds the idempotency policy around it (see [`Outcome::is_final`]).
//!
//! - [`outcome`]: [`Outcome`], [`Settled`], [`CheckoutError`], [`Answer`].
//! - [`pricing`]: the lines priced from the catalog.
//! - [`screening`]: the suspicious-activity rules fed from the orders table.

pub mod outcome;
pub mod pricing;
pub mod screening;

use std::future::Future;

use contract::{Cents, ChargeAmount, IdempotencyKey, OrderId};
use service_kit::drain::Drain;
use telemetry::{Exemplar, SpanIds};
use tracing::Instrument;
use uuid::Uuid;

pub use outcome::{Answer, CheckoutError, Outcome, Render, Settled};
pub use screening::Screening;

use crate::clients::{CatalogClient, ChargeOutcome, PaymentClient};
use crate::domain::{fingerprint, total, CheckoutRequest, CustomerId, Order, OrderStatus};
use crate::metrics::OrderMetrics;
use crate::store::{Claim, Held, IdempotencyStore, NewOrder, OrderStore};

/// Everything a checkout talks to. One per process, shared by every worker.
pub struct Checkout {
    pub catalog: CatalogClient,
    pub payment: PaymentClient,
    pub orders: OrderStore,
    pub idempotency: IdempotencyStore,
    pub metrics: OrderMetrics,
    pub screening: Screening,
    /// The HTTP rendering of a settled checkout, for the answers stored under a key.
    pub render: Render,
}

/// Which order a checkout works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderRef {
    /// A new order with this id.
    New(OrderId),
    /// An id reserved by an earlier attempt with the same `Idempotency-Key`. If that attempt
    /// wrote the order (and its payment outcome is open), the order is charged again — with
    /// the same order-derived gateway key, so the gateway answers with the charge it already
    /// made instead of making another. Otherwise it is a new order with this id.
    Reserved(OrderId),
}

/// What the charge needs from a written order.
struct Written {
    id: OrderId,
    total: Cents,
    amount: ChargeAmount,
}

/// Runs the money-moving part of a checkout to its end even if the client hangs up (actix drops
/// a handler's future when its connection closes), so no order is left half-done. The one place
/// that decides how such work runs: as the drain's tracked work, in the request's span, so a
/// SIGTERM waits for it (within `SHUTDOWN_TIMEOUT`) instead of dropping it mid-charge. Once the
/// drain has begun, no new checkout starts: nothing is written, and the client retries elsewhere.
pub async fn run_to_completion<F>(drain: &Drain, work: F) -> Result<F::Output, Interrupted>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if drain.is_draining() {
        return Err(Interrupted::ShuttingDown);
    }
    drain
        .spawn(work.instrument(tracing::Span::current()))
        .await
        .map_err(Interrupted::Failed)
}

/// The checkout task gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum Interrupted {
    /// The process is draining after SIGTERM: the checkout did not start, nothing was written.
    #[error("the service is shutting down; the checkout did not start")]
    ShuttingDown,
    /// It panicked or was cancelled.
    #[error("the checkout task did not finish")]
    Failed(#[source] tokio::task::JoinError),
}

impl Checkout {
    /// A new order id: UUID v7, so ids sort by creation time.
    pub fn new_order_id() -> OrderId {
        OrderId::from_uuid(Uuid::now_v7())
    }

    /// Places the order: `Ok` with its payment outcome whatever the gateway said, `Err` when no
    /// order was settled (see [`CheckoutError`]).
    pub async fn place(
        &self,
        customer: &CustomerId,
        checkout: &CheckoutRequest,
        order: OrderRef,
    ) -> Result<Settled, CheckoutError> {
        let trace_id = SpanIds::current().map(|ids| ids.trace_id().to_string());
        let (id, existing) = match order {
            OrderRef::New(id) => (id, None),
            OrderRef::Reserved(id) => (id, self.orders.find_for_customer(id, customer).await?),
        };
        let written = match existing {
            None => self.write(customer, checkout, id, &trace_id).await?,
            Some(order) => match resume(&order) {
                Some(written) => written,
                None => {
                    // Only a row written before totals were checked can get here: the gateway
                    // would refuse the amount, so the order fails without asking it.
                    tracing::warn!(order.id = %id, order.total_cents = order.total.get(), "resumed order is not chargeable");
                    let failed = Settled {
                        order_id: id,
                        total: order.total,
                        trace_id,
                        outcome: Outcome::PaymentFailed,
                    };
                    return self.settle(customer, failed).await;
                }
            },
        };
        self.charge(customer, checkout, written, trace_id).await
    }

    /// [`Checkout::place`] under the idempotency policy, answered through [`Checkout::render`].
    ///
    /// With a key: a finished earlier request is replayed; a final outcome is stored for every
    /// retry; an open one (payment failed or unknown, or a store failure) releases the key so a
    /// retry resumes the same order; an error that wrote nothing forgets the key.
    pub async fn submit(
        &self,
        customer: &CustomerId,
        checkout: CheckoutRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Answer, CheckoutError> {
        let Some(key) = key else {
            let settled = self
                .place(customer, &checkout, OrderRef::New(Self::new_order_id()))
                .await?;
            return Ok(self.fresh(&settled));
        };
        let claim = self
            .idempotency
            .claim(customer, key, &fingerprint(&checkout))
            .await
            .map_err(|e| CheckoutError::Store(e.into()))?;
        let held = match claim {
            Claim::Acquired(held) => held,
            Claim::Replay(response) => {
                tracing::info!(order.id = %response.order_id, "idempotent replay of a stored checkout response");
                self.count_key("replayed");
                return Ok(Answer {
                    response,
                    replayed: true,
                });
            }
            Claim::Mismatch => {
                self.count_key("key_reuse");
                return Err(CheckoutError::KeyReused);
            }
            Claim::InProgress => {
                self.count_key("conflict");
                return Err(CheckoutError::KeyInProgress);
            }
        };
        let order = if held.first_attempt {
            self.count_key("new");
            OrderRef::New(held.order_id)
        } else {
            self.count_key("resumed");
            OrderRef::Reserved(held.order_id)
        };
        let placed = self.place(customer, &checkout, order).await;
        self.keep_or_release(customer, key, &held, placed).await
    }

    /// The idempotency policy, applied to what [`Checkout::place`] ended in.
    async fn keep_or_release(
        &self,
        customer: &CustomerId,
        key: &IdempotencyKey,
        held: &Held,
        placed: Result<Settled, CheckoutError>,
    ) -> Result<Answer, CheckoutError> {
        let store = &self.idempotency;
        match placed {
            Ok(settled) if settled.outcome.is_final() => {
                let answer = self.fresh(&settled);
                let response = &answer.response;
                match store
                    .complete(customer, key, held, response.status, &response.body)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        order.id = %settled.order_id,
                        "the Idempotency-Key lock ran out before the response was stored; a retry charges the same order again (the gateway deduplicates)"
                    ),
                    // The answer is still right; a retry resumes the order and gets the same charge.
                    Err(e) => tracing::warn!(
                        error = &e as &dyn std::error::Error,
                        "storing the idempotent response failed"
                    ),
                }
                Ok(answer)
            }
            Ok(settled) => {
                self.release(customer, key, held).await;
                Ok(self.fresh(&settled))
            }
            Err(e) if e.wrote_nothing() => {
                if let Err(db) = store.forget(customer, key, held).await {
                    tracing::warn!(
                        error = &db as &dyn std::error::Error,
                        "forgetting the Idempotency-Key failed"
                    );
                }
                Err(e)
            }
            Err(e) => {
                self.release(customer, key, held).await;
                Err(e)
            }
        }
    }

    /// Ends this attempt without a stored answer; the next request with the key resumes the
    /// same order.
    async fn release(&self, customer: &CustomerId, key: &IdempotencyKey, held: &Held) {
        if let Err(e) = self.idempotency.release(customer, key, held).await {
            // The lock then simply runs out; the retry waits for it instead of 409 → retry.
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "releasing the Idempotency-Key failed"
            );
        }
    }

    fn fresh(&self, settled: &Settled) -> Answer {
        Answer {
            response: (self.render)(settled),
            replayed: false,
        }
    }

    fn count_key(&self, result: &str) {
        self.metrics.idempotency.get(&[result]).inc();
    }

    /// Prices the basket and writes the order as `pending` — unless its total is more than one
    /// payment can charge, in which case nothing is written.
    async fn write(
        &self,
        customer: &CustomerId,
        checkout: &CheckoutRequest,
        id: OrderId,
        trace_id: &Option<String>,
    ) -> Result<Written, CheckoutError> {
        let lines = pricing::price(&self.catalog, checkout).await?;
        let total = total(&lines).ok_or(CheckoutError::NotChargeable { total: None })?;
        let amount = ChargeAmount::new(total)
            .map_err(|_| CheckoutError::NotChargeable { total: Some(total) })?;
        let (country, method) = (checkout.country, checkout.payment_method);
        self.orders
            .insert_pending(NewOrder {
                id,
                customer,
                country,
                payment_method: method,
                total,
                lines: &lines,
                trace_id: trace_id.clone(),
                span_id: SpanIds::current().map(|ids| ids.span_id().to_string()),
            })
            .await?;
        tracing::info!(order.id = %id, order.total_cents = total.get(), "order written, charging");
        self.metrics
            .checkout_amount
            .get(&[country.as_str(), method.as_str()])
            .observe(total.usd(), Exemplar::CurrentSpan);
        self.screening.written(customer, checkout, id, total).await;
        Ok(Written { id, total, amount })
    }

    /// Charges a written order and settles it to one of the outcome table's statuses.
    async fn charge(
        &self,
        customer: &CustomerId,
        checkout: &CheckoutRequest,
        order: Written,
        trace_id: Option<String>,
    ) -> Result<Settled, CheckoutError> {
        let (country, method) = (checkout.country, checkout.payment_method);
        let charge = self
            .payment
            .charge(order.id, order.amount, method, country)
            .await;
        self.metrics
            .payment_duration
            .get(&[country.as_str(), method.as_str(), charge.outcome.label()])
            .observe(
                charge.elapsed.as_secs_f64(),
                Exemplar::from(charge.span_ids),
            );
        let outcome = match charge.outcome {
            ChargeOutcome::Paid { charge_id } => Outcome::Paid {
                payment_id: charge_id,
            },
            ChargeOutcome::Declined {
                charge_id,
                decline_code,
            } => Outcome::Declined {
                charge_id,
                decline_code,
            },
            ChargeOutcome::Failed { detail } => {
                tracing::warn!(order.id = %order.id, error = %detail, "payment failed");
                Outcome::PaymentFailed
            }
            ChargeOutcome::Unknown { reason } => {
                tracing::warn!(order.id = %order.id, reason = %reason, elapsed = ?charge.elapsed, "payment outcome unknown; the reconciler will ask the gateway");
                Outcome::PaymentUnknown
            }
        };
        let settled = Settled {
            order_id: order.id,
            total: order.total,
            trace_id,
            outcome,
        };
        self.settle(customer, settled).await
    }

    /// Stores the outcome with the order and counts it.
    async fn settle(
        &self,
        customer: &CustomerId,
        settled: Settled,
    ) -> Result<Settled, CheckoutError> {
        let status = settled.outcome.status();
        let payment_id = match &settled.outcome {
            Outcome::Paid { payment_id } => Some(payment_id),
            _ => None,
        };
        self.orders
            .settle(settled.order_id, status, payment_id)
            .await?;
        self.metrics.orders.get(&[status.as_str()]).inc();
        tracing::info!(order.id = %settled.order_id, order.status = status.as_str(), "order settled");
        if status == OrderStatus::Declined {
            self.screening.declined(customer, settled.order_id).await;
        }
        Ok(settled)
    }
}

/// An order written by an earlier attempt, charged again at the prices frozen when it was
/// written — so the gateway sees the very same charge request and replays its answer. `None`
/// when its total is not chargeable.
fn resume(order: &Order) -> Option<Written> {
    tracing::info!(
        order.id = %order.id,
        order.status = order.status.as_str(),
        "retry with the same Idempotency-Key: charging the same order again"
    );
    Some(Written {
        id: order.id,
        total: order.total,
        amount: ChargeAmount::new(order.total).ok()?,
    })
}
