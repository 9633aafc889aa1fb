//! What a checkout ends in: a settled order whose payment outcome is a value the caller matches
//! on, or an error that means no order was settled.

use contract::{Cents, ChargeId, DeclineCode, OrderId, ProductId, MAX_CHARGEABLE};

use crate::clients::CatalogError;
use crate::domain::OrderStatus;
use crate::store::{StoreError, StoredResponse};

/// How the payment of a written order ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Paid {
        payment_id: ChargeId,
    },
    /// The gateway declined; its reason when it gave a readable one.
    Declined {
        charge_id: Option<ChargeId>,
        decline_code: Option<DeclineCode>,
    },
    /// The gateway answered that it did not charge, or could not be reached at all: nothing was
    /// charged.
    PaymentFailed,
    /// No usable answer (a timeout, a connection cut after sending, an unreadable answer, the
    /// process stopping): the charge may or may not have happened; the reconciler settles it.
    PaymentUnknown,
}

impl Outcome {
    /// Whether this outcome settles the order for good. A final outcome is what a retry with
    /// the same `Idempotency-Key` is answered with; after any other, the retry charges the same
    /// order again (the gateway, deduplicating per order, charges it at most once).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Paid { .. } | Self::Declined { .. })
    }

    /// The order status this outcome is stored as.
    pub fn status(&self) -> OrderStatus {
        match self {
            Self::Paid { .. } => OrderStatus::Paid,
            Self::Declined { .. } => OrderStatus::Declined,
            Self::PaymentFailed => OrderStatus::PaymentFailed,
            Self::PaymentUnknown => OrderStatus::PaymentUnknown,
        }
    }
}

/// A written order whose payment has an outcome (stored with the order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub order_id: OrderId,
    pub total: Cents,
    /// The trace of this checkout, when it was sampled.
    pub trace_id: Option<String>,
    pub outcome: Outcome,
}

/// How a settled checkout is answered over HTTP. The edge provides it (`crate::error::render`),
/// so the checkout can store the very answer a client gets without knowing HTTP itself.
pub type Render = fn(&Settled) -> StoredResponse;

/// What [`super::Checkout::submit`] answers: rendered once, stored when the outcome is final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub response: StoredResponse,
    /// `true` when this is the stored answer of an earlier request with the same key.
    pub replayed: bool,
}

/// Why no order was settled. Every variant but [`CheckoutError::Store`] means nothing was
/// written at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    #[error("the catalog is unavailable")]
    CatalogUnavailable(#[source] CatalogError),
    /// The total is outside what one payment can charge (`None`: it does not even fit in
    /// 64-bit cents), so the order is refused before it is written.
    #[error("the order total is not chargeable (at most {MAX_CHARGEABLE})")]
    NotChargeable { total: Option<Cents> },
    #[error("the Idempotency-Key was used with a different request")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still in progress")]
    KeyInProgress,
    /// The store failed. This may be after the order row was written (and even charged): a
    /// retry with the same `Idempotency-Key` resumes that same order.
    #[error("the order store failed")]
    Store(#[from] StoreError),
}

impl CheckoutError {
    /// Certain that nothing was written, so the `Idempotency-Key` may be used again, even with
    /// a corrected body. A store failure is not: the order may exist.
    pub fn wrote_nothing(&self) -> bool {
        !matches!(self, Self::Store(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paid_and_declined_are_final() {
        let paid = Outcome::Paid {
            payment_id: ChargeId::parse("ch_1").unwrap(),
        };
        let declined = Outcome::Declined {
            charge_id: None,
            decline_code: None,
        };
        assert!(paid.is_final() && declined.is_final());
        assert!(!Outcome::PaymentFailed.is_final());
        assert!(!Outcome::PaymentUnknown.is_final());
        assert_eq!(
            [
                paid,
                declined,
                Outcome::PaymentFailed,
                Outcome::PaymentUnknown
            ]
            .map(|o| o.status().as_str()),
            ["paid", "declined", "payment_failed", "payment_unknown"]
        );
    }

    #[test]
    fn a_store_failure_may_have_written_an_order() {
        assert!(
            !CheckoutError::Store(StoreError::Db(sea_orm::DbErr::Custom("x".into())))
                .wrote_nothing()
        );
        assert!(CheckoutError::NotChargeable { total: None }.wrote_nothing());
        assert!(CheckoutError::UnknownProducts(vec![]).wrote_nothing());
    }
}
