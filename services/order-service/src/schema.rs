//! The JSON the API reads and writes, separate from the domain types they map to: a request
//! body becomes a `CheckoutRequest` once, a domain `Order` or a `Settled` checkout becomes a
//! view. What the OpenAPI document describes is these, never a store row.

use serde::{Deserialize, Serialize};

use crate::domain::{CheckoutRequest, InvalidCheckout, Order, OrderLine};

/// `POST /api/v1/checkout` as sent. Unknown fields are refused: a client cannot slip in a price
/// or a total. A field given twice is refused too (serde's derived visitor reports `duplicate
/// field`), so there is no "last one wins" ambiguity between what a proxy or a WAF saw and what
/// is charged.
///
/// Only a JSON object is read ([`service_kit::deserialize_object_only!`]): serde would also take
/// the members as a positional array.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CheckoutBody {
    /// ISO 3166-1 alpha-2 country code, upper case, e.g. `US`.
    pub country: String,
    /// `card`, `paypal`, `apple_pay` or `bank_transfer`.
    pub payment_method: String,
    /// 1–100 lines.
    pub items: Vec<LineBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct LineBody {
    pub product_id: String,
    /// An integer 1–1000.
    pub quantity: i64,
}

service_kit::deserialize_object_only!(
    CheckoutBody,
    "a checkout object {country, payment_method, items}"
);
service_kit::deserialize_object_only!(LineBody, "a line object {product_id, quantity}");

impl CheckoutBody {
    /// The checkout this body asks for, or every rule it breaks.
    pub fn parse(&self) -> Result<CheckoutRequest, InvalidCheckout> {
        let lines: Vec<(&str, i64)> = self
            .items
            .iter()
            .map(|l| (l.product_id.as_str(), l.quantity))
            .collect();
        CheckoutRequest::parse(&self.country, &self.payment_method, &lines)
    }
}

/// A charged checkout (201).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Placed)]
pub struct PlacedView {
    pub order_id: String,
    /// Always `paid`.
    pub status: &'static str,
    pub total_cents: i64,
    pub total_usd: f64,
    pub payment_id: String,
    /// The trace of this checkout (when sampled), to look it up in Tempo.
    pub trace_id: Option<String>,
}

/// `GET /api/v1/orders/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Order)]
pub struct OrderView {
    pub order_id: String,
    /// `pending`, `paid`, `declined`, `payment_failed`, `payment_unknown` (the reconciler settles
    /// it once the gateway says what became of the charge) or `needs_attention` (it could not
    /// learn that; an operator decides).
    pub status: &'static str,
    pub country: &'static str,
    pub payment_method: &'static str,
    pub total_cents: i64,
    pub total_usd: f64,
    pub payment_id: Option<String>,
    pub lines: Vec<OrderLineView>,
    pub trace_id: Option<String>,
    pub created_at_ms: i64,
}

/// A line as priced when the order was written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderLine)]
pub struct OrderLineView {
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price_cents: i64,
}

impl From<&Order> for OrderView {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.id.to_string(),
            status: order.status.as_str(),
            country: order.country.as_str(),
            payment_method: order.payment_method.as_str(),
            total_cents: order.total.get(),
            total_usd: order.total.usd(),
            payment_id: order.payment_id.as_ref().map(ToString::to_string),
            lines: order.lines.iter().map(OrderLineView::from).collect(),
            trace_id: order.trace_id.clone(),
            created_at_ms: order.created_at_ms,
        }
    }
}

impl From<&OrderLine> for OrderLineView {
    fn from(line: &OrderLine) -> Self {
        Self {
            product_id: line.product_id.to_string(),
            name: line.name.clone(),
            quantity: line.quantity.get(),
            unit_price_cents: line.unit_price.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_and_unknown_fields_are_refused() {
        for raw in [
            r#"{"country":"US","country":"DE","payment_method":"card","items":[]}"#,
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p","quantity":1,"quantity":9}]}"#,
            r#"{"country":"US","payment_method":"card","items":[],"items":[]}"#,
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p","quantity":1,"price_cents":1}]}"#,
        ] {
            let err = serde_json::from_str::<CheckoutBody>(raw).unwrap_err();
            assert!(err.is_data(), "{raw}: {err}");
        }
    }

    #[test]
    fn a_body_parses_into_a_checkout_or_every_broken_rule() {
        let body: CheckoutBody = serde_json::from_str(
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":2}]}"#,
        )
        .unwrap();
        assert_eq!(body.parse().unwrap().units(), 2);
        let body: CheckoutBody = serde_json::from_str(
            r#"{"country":"us","payment_method":"card","items":[{"product_id":"p-1","quantity":0}]}"#,
        )
        .unwrap();
        assert_eq!(body.parse().unwrap_err().0.len(), 2);
    }
}
