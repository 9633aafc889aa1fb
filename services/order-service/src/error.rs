//! Everything a checkout or an order lookup can answer besides success, and how it maps to
//! problem+json. Only this module knows HTTP status codes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use service_kit::problem::{FieldError, Problem};

use crate::domain::AuthFailure;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("authentication failed: {}", .0.reason())]
    Unauthorized(AuthFailure),
    #[error("invalid checkout")]
    Invalid(Vec<FieldError>),
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<String>),
    #[error("the order total does not fit in 64-bit cents")]
    AmountTooLarge,
    #[error("catalog unavailable: {0}")]
    CatalogUnavailable(String),
    #[error("payment declined for order {order_id}")]
    Declined {
        order_id: String,
        charge_id: Option<String>,
        decline_code: Option<String>,
    },
    #[error("payment failed for order {order_id}")]
    PaymentFailed { order_id: String },
    #[error("payment outcome unknown for order {order_id}")]
    PaymentUnknown { order_id: String },
    #[error("order not found")]
    OrderNotFound,
    #[error("invalid Idempotency-Key header: {0}")]
    InvalidIdempotencyKey(String),
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyKeyReuse,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyConflict,
    #[error("order store failed")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl CheckoutError {
    fn problem(&self) -> Problem {
        match self {
            Self::Unauthorized(reason) => Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required")
                .detail(match reason {
                    AuthFailure::Missing => "send an API key as `Authorization: Bearer <key>` or `X-API-Key`",
                    AuthFailure::Invalid => "the API key is not valid",
                    AuthFailure::Mismatch => "`Authorization` and `X-API-Key` carry different keys",
                })
                .header("WWW-Authenticate", "Bearer realm=\"webstore\""),
            Self::Invalid(errors) => Problem::validation(errors.clone()),
            Self::UnknownProducts(ids) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-product", "Unknown product")
                .detail(format!("not in the catalog: {}", ids.join(", ")))
                .with(
                    "errors",
                    ids.iter()
                        .map(|id| serde_json::json!({"field": "items.product_id", "message": format!("unknown product {id}")}))
                        .collect::<Vec<_>>(),
                ),
            Self::AmountTooLarge => Problem::validation(vec![FieldError::new("items", "the order total is too large")]),
            Self::CatalogUnavailable(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "catalog-unavailable",
                "The catalog is unavailable; nothing was ordered",
            )
            .header("Retry-After", "5"),
            Self::Declined {
                order_id,
                charge_id,
                decline_code,
            } => Problem::new(StatusCode::PAYMENT_REQUIRED, "payment-declined", "Payment declined")
                .with("order_id", order_id.as_str())
                .with("charge_id", charge_id.clone())
                .with("decline_code", decline_code.clone()),
            Self::PaymentFailed { order_id } => {
                Problem::new(StatusCode::BAD_GATEWAY, "payment-failed", "The payment provider failed; nothing was charged")
                    .detail("the order is recorded as payment_failed; a retry with the same Idempotency-Key tries this same order again")
                    .with("order_id", order_id.as_str())
            }
            Self::PaymentUnknown { order_id } => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "payment-unknown",
                "The payment provider did not answer in time; the outcome is unknown",
            )
            .detail("the order is recorded as payment_unknown and may or may not have been charged; retry with the same Idempotency-Key to settle it — the retry charges this same order again and the gateway, which deduplicates per order, answers with the charge it already made instead of charging twice")
            .with("order_id", order_id.as_str()),
            Self::OrderNotFound => Problem::not_found("no such order"),
            Self::InvalidIdempotencyKey(why) => Problem::new(StatusCode::BAD_REQUEST, "invalid-idempotency-key", "Invalid Idempotency-Key header")
                .detail(format!("Idempotency-Key {why}; send one header of 1-255 visible ASCII characters, unique per checkout")),
            Self::IdempotencyKeyReuse => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reuse",
                "Idempotency-Key reused with a different request",
            )
            .detail("this Idempotency-Key was used for a checkout with another body; use a new key for a new checkout"),
            Self::IdempotencyConflict => Problem::new(
                StatusCode::CONFLICT,
                "idempotency-conflict",
                "A request with this Idempotency-Key is still in progress",
            )
            .detail("retry after the first request has finished; it will then answer with the same response")
            .header("Retry-After", "1"),
            Self::Store(e) => Problem::internal(e),
            Self::Internal(_) => Problem::internal(self),
        }
    }
}

impl ResponseError for CheckoutError {
    fn status_code(&self) -> StatusCode {
        self.problem().status()
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
