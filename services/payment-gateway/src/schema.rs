//! The JSON the API speaks: request bodies as received and the charge as answered. Routes parse
//! these into domain types; the gateway renders answers from stored rows through them.

use serde::{Deserialize, Serialize};
use service_kit::problem::FieldError;

use crate::domain::money::cents_to_usd;
use crate::domain::{AmountCents, ChargeRequest, Country, Currency, PaymentMethod, Reference};
use crate::store::charges;

/// `POST /v1/charges` body. Unknown fields are refused (422): a caller cannot slip in fees or
/// statuses the gateway would silently ignore.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeBody {
    /// Integer cents, 1..=100000000.
    #[schema(example = 4999)]
    pub amount_cents: i64,
    /// Only `USD`.
    #[schema(example = "USD")]
    pub currency: String,
    /// `card`, `paypal`, `apple_pay` or `bank_transfer`.
    #[schema(example = "card")]
    pub payment_method: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US")]
    pub country: String,
    /// The caller's reference (the order id), 1–128 characters.
    #[schema(example = "ord_0190a5b2c3d4")]
    pub reference: String,
}

impl TryFrom<ChargeBody> for ChargeRequest {
    type Error = Vec<FieldError>;

    /// Every field is checked, and every failure listed, before anything is refused.
    fn try_from(body: ChargeBody) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let amount = field(
            &mut errors,
            "amount_cents",
            AmountCents::parse(body.amount_cents),
        );
        let currency = field(&mut errors, "currency", Currency::parse(&body.currency));
        let method = field(
            &mut errors,
            "payment_method",
            PaymentMethod::parse(&body.payment_method),
        );
        let country = field(&mut errors, "country", Country::parse(&body.country));
        let reference = field(&mut errors, "reference", Reference::parse(&body.reference));
        match (amount, currency, method, country, reference) {
            (Some(amount), Some(currency), Some(method), Some(country), Some(reference)) => {
                Ok(ChargeRequest {
                    amount,
                    currency,
                    method,
                    country,
                    reference,
                })
            }
            _ => Err(errors),
        }
    }
}

fn field<T>(errors: &mut Vec<FieldError>, name: &str, parsed: Result<T, String>) -> Option<T> {
    parsed
        .map_err(|message| errors.push(FieldError::new(name, message)))
        .ok()
}

/// A charge as answered by `POST /v1/charges` (201) and `GET /v1/charges/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChargeView {
    #[schema(example = "ch_0f8e2d9c4b7a41e3a5c6d7e8f9a0b1c2")]
    pub id: String,
    /// `succeeded` or `declined`.
    #[schema(example = "succeeded")]
    pub status: String,
    #[schema(example = 4999)]
    pub amount_cents: i64,
    /// Derived from `amount_cents`, two decimals.
    #[schema(example = 49.99)]
    pub amount_usd: f64,
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(example = "card")]
    pub payment_method: String,
    #[schema(example = "US")]
    pub country: String,
    #[schema(example = "ord_0190a5b2c3d4")]
    pub reference: String,
    /// RFC 3339, UTC.
    #[schema(example = "2025-01-01T12:00:00.000Z")]
    pub created_at: String,
    /// Only for declined charges: `insufficient_funds`, `card_declined` or `do_not_honor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

impl From<&charges::Model> for ChargeView {
    fn from(row: &charges::Model) -> Self {
        Self {
            id: row.id.clone(),
            status: row.status.clone(),
            amount_cents: row.amount_cents,
            amount_usd: cents_to_usd(row.amount_cents),
            currency: row.currency.clone(),
            payment_method: row.payment_method.clone(),
            country: row.country.clone(),
            reference: row.reference.clone(),
            created_at: row.created_at.clone(),
            decline_code: row.decline_code.clone(),
        }
    }
}

/// RFC 9457 problem details, as every error is answered (documentation only; see
/// `service_kit::Problem`). Validation problems add `errors: [{field, message}]`, declines add
/// `charge_id` and `decline_code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDoc {
    #[schema(example = "https://webstore.example/problems/payment-declined")]
    pub r#type: String,
    #[schema(example = "Payment declined")]
    pub title: String,
    #[schema(example = 402)]
    pub status: u16,
    pub detail: Option<String>,
    /// The trace this answer belongs to, when it was sampled.
    pub trace_id: Option<String>,
}

/// `GET /v1/charges/{id}` 404s and the like use [`ProblemDoc`]; this is the decline's extra.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclineProblemDoc {
    #[schema(example = "https://webstore.example/problems/payment-declined")]
    pub r#type: String,
    #[schema(example = "Payment declined")]
    pub title: String,
    #[schema(example = 402)]
    pub status: u16,
    pub detail: Option<String>,
    pub trace_id: Option<String>,
    /// The stored (declined) charge.
    #[schema(example = "ch_0f8e2d9c4b7a41e3a5c6d7e8f9a0b1c2")]
    pub charge_id: String,
    /// `insufficient_funds`, `card_declined` or `do_not_honor`.
    #[schema(example = "card_declined")]
    pub decline_code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> ChargeBody {
        ChargeBody {
            amount_cents: 1999,
            currency: "USD".into(),
            payment_method: "card".into(),
            country: "US".into(),
            reference: "ord_1".into(),
        }
    }

    #[test]
    fn a_valid_body_parses() {
        let request = ChargeRequest::try_from(body()).unwrap();
        assert_eq!(request.amount.cents(), 1999);
        assert_eq!(request.method, PaymentMethod::Card);
    }

    #[test]
    fn every_invalid_field_is_listed() {
        let errors = ChargeRequest::try_from(ChargeBody {
            amount_cents: 0,
            currency: "EUR".into(),
            payment_method: "cash".into(),
            country: "XX".into(),
            reference: String::new(),
        })
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "amount_cents",
                "currency",
                "payment_method",
                "country",
                "reference"
            ]
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = r#"{"amount_cents":1,"currency":"USD","payment_method":"card","country":"US","reference":"r","fee_cents":0}"#;
        assert!(serde_json::from_str::<ChargeBody>(json).is_err());
    }
}
