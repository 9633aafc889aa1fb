//! An order as the service knows it once written: what was bought at which frozen price, and
//! where its payment stands.

use contract::{Cents, ChargeId, Country, OrderId, PaymentMethod, ProductId};

use super::checkout::Quantity;

/// The order statuses of the design's outcome table, plus the moment between writing the order
/// and hearing from the gateway, and the reconciler's last word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Written, gateway not answered yet.
    Pending,
    Paid,
    Declined,
    PaymentFailed,
    PaymentUnknown,
    /// The reconciler could not learn the payment's outcome within `RECONCILE_MAX_ATTEMPTS`:
    /// an operator decides. Final for the machine.
    NeedsAttention,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown order status {0:?}")]
pub struct UnknownStatus(pub String);

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        Self::Pending,
        Self::Paid,
        Self::Declined,
        Self::PaymentFailed,
        Self::PaymentUnknown,
        Self::NeedsAttention,
    ];

    /// What a checkout can end in (the statuses `webstore_orders_total` counts).
    pub const CHECKOUT_OUTCOMES: [OrderStatus; 4] = [
        Self::Paid,
        Self::Declined,
        Self::PaymentFailed,
        Self::PaymentUnknown,
    ];

    /// Whether the payment's outcome is still to be learnt: the reconciler's work.
    pub fn is_unsettled(self) -> bool {
        matches!(self, Self::Pending | Self::PaymentUnknown)
    }

    /// Also the `status` label of `webstore_orders_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Declined => "declined",
            Self::PaymentFailed => "payment_failed",
            Self::PaymentUnknown => "payment_unknown",
            Self::NeedsAttention => "needs_attention",
        }
    }

    pub fn parse(value: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| UnknownStatus(value.to_owned()))
    }
}

/// A line priced from the catalog when the order was written; the price never changes after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub name: String,
    pub quantity: Quantity,
    pub unit_price: Cents,
}

impl OrderLine {
    /// `None` if the line's amount does not fit in 64-bit cents.
    pub fn amount(&self) -> Option<Cents> {
        self.unit_price.checked_mul(self.quantity.get())
    }
}

/// What `lines` add up to; `None` if that does not fit in 64-bit cents (100 lines × 1000 units
/// at a huge price must not wrap around).
pub fn total(lines: &[OrderLine]) -> Option<Cents> {
    lines
        .iter()
        .try_fold(Cents::ZERO, |sum, line| sum.checked_add(line.amount()?))
}

/// A written order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub status: OrderStatus,
    pub country: Country,
    pub payment_method: PaymentMethod,
    pub total: Cents,
    pub lines: Vec<OrderLine>,
    /// The gateway's charge, once paid.
    pub payment_id: Option<ChargeId>,
    /// The checkout's trace, when it was sampled.
    pub trace_id: Option<String>,
    /// The checkout span that wrote the order (with `trace_id`, what a reconciliation links to).
    pub span_id: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// How often the reconciler asked the gateway about this order without a usable answer.
    pub reconcile_attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(unit_price: i64, quantity: i64) -> OrderLine {
        OrderLine {
            product_id: ProductId::parse("p-1").unwrap(),
            name: "Widget".into(),
            quantity: Quantity::parse(quantity).unwrap(),
            unit_price: Cents::new(unit_price).unwrap(),
        }
    }

    #[test]
    fn totals_are_checked_sums() {
        assert_eq!(
            total(&[line(1999, 2), line(550, 3)]),
            Cents::new(1999 * 2 + 550 * 3)
        );
        assert_eq!(total(&[]), Some(Cents::ZERO));
        assert_eq!(total(&[line(i64::MAX, 2)]), None);
        assert_eq!(
            total(&[line(i64::MAX / 2, 1), line(i64::MAX / 2, 1), line(2, 1)]),
            None
        );
    }

    #[test]
    fn statuses_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Ok(status));
        }
        assert!(OrderStatus::parse("shipped").is_err());
    }
}
