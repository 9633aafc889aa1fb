//! The one module that maps to HTTP statuses and problem types: every error the API answers,
//! and every checkout outcome ([`render`]), becomes a status and a body here and nowhere else
//! (a plain read answers 200 where it is served). The `type` URIs and bodies are a stable
//! contract.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use contract::{ChargeId, DeclineCode, MAX_CHARGEABLE};
use service_kit::idempotency::{self, KeyHeaderError};
use service_kit::problem::{FieldError, Problem};

use crate::checkout::{CheckoutError, Interrupted, Outcome, Settled};
use crate::domain::{AuthFailure, InvalidCheckout};
use crate::ratelimit::{Refusal, Tier};
use crate::schema::PlacedView;
use crate::store::{StoreError, StoredResponse};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication failed: {}", .0.reason())]
    Unauthorized(AuthFailure),
    #[error(transparent)]
    InvalidCheckout(InvalidCheckout),
    #[error("invalid Idempotency-Key header: {0}")]
    InvalidIdempotencyKey(KeyHeaderError),
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
    #[error("order not found")]
    OrderNotFound,
    #[error("order store failed")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    #[error("rate limited by the {} tier", .0.tier.as_str())]
    RateLimited(Refusal),
    #[error("no answer within {0:?}")]
    RequestTimeout(Duration),
    #[error("cross-origin request refused: {detail}")]
    CorsRejected { forbidden: bool, detail: String },
    /// A header that must appear once was sent more than once → 400.
    #[error("the {0} header was sent more than once; send it once")]
    DuplicateHeader(&'static str),
}

impl ApiError {
    fn problem(&self) -> Problem {
        match self {
            Self::Unauthorized(reason) => Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required")
                .detail(match reason {
                    AuthFailure::Missing => "send an API key as `Authorization: Bearer <key>` or `X-API-Key`",
                    AuthFailure::Invalid => "the API key is not valid",
                    AuthFailure::Mismatch => "`Authorization` and `X-API-Key` carry different keys",
                })
                .header("WWW-Authenticate", "Bearer realm=\"webstore\""),
            Self::InvalidCheckout(invalid) => Problem::validation(
                invalid
                    .0
                    .iter()
                    .map(|e| FieldError::new(e.field(), e.to_string()))
                    .collect(),
            ),
            Self::InvalidIdempotencyKey(why) => Problem::new(StatusCode::BAD_REQUEST, "invalid-idempotency-key", "Invalid Idempotency-Key header")
                .detail(format!("Idempotency-Key {why}; send one header of 1-255 visible ASCII characters, unique per checkout")),
            Self::Checkout(e) => checkout_problem(e),
            Self::OrderNotFound => Problem::not_found("no such order"),
            Self::Store(e) => store_problem(e),
            Self::Interrupted(Interrupted::ShuttingDown) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting-down",
                "The service is shutting down; nothing was ordered",
            )
            .detail("retry the checkout: another replica, or this one once restarted, takes it")
            .header("Retry-After", "1"),
            Self::Interrupted(e) => Problem::internal(e),
            Self::RateLimited(refusal) => rate_limited(refusal),
            Self::RequestTimeout(limit) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request-timeout",
                "The request took too long",
            )
            .detail(format!(
                "no answer within {} ms; a checkout sent with an Idempotency-Key can be retried with the same key to learn its outcome",
                limit.as_millis()
            ))
            .header("Retry-After", "1"),
            Self::CorsRejected { forbidden, detail } => Problem::new(
                if *forbidden { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST },
                "cors-rejected",
                "Cross-origin request refused",
            )
            .detail(detail.clone()),
            Self::DuplicateHeader(name) => Problem::new(
                StatusCode::BAD_REQUEST,
                "duplicate-header",
                "A header was sent more than once",
            )
            .detail(self.to_string())
            .with("header", *name),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status()
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}

fn checkout_problem(e: &CheckoutError) -> Problem {
    match e {
        CheckoutError::UnknownProducts(ids) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown-product", "Unknown product")
            .detail(format!(
                "not in the catalog: {}",
                ids.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .with(
                "errors",
                ids.iter()
                    .map(|id| serde_json::json!({"field": "items.product_id", "message": format!("unknown product {id}")}))
                    .collect::<Vec<_>>(),
            ),
        CheckoutError::NotChargeable { total } => {
            let message = match total {
                Some(total) if total.get() > 0 => format!(
                    "the order total, {total}, is more than one payment can charge ({MAX_CHARGEABLE}); nothing was ordered"
                ),
                Some(total) => format!("the order total, {total}, is not chargeable; nothing was ordered"),
                None => format!("the order total is more than one payment can charge ({MAX_CHARGEABLE}); nothing was ordered"),
            };
            Problem::validation(vec![FieldError::new("items", message)])
                .with("max_total_cents", MAX_CHARGEABLE.get())
        }
        CheckoutError::CatalogUnavailable(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "catalog-unavailable",
            "The catalog is unavailable; nothing was ordered",
        )
        .header("Retry-After", "5"),
        CheckoutError::KeyReused => idempotency::key_reused("this Idempotency-Key was used for a checkout with another body; use a new key for a new checkout"),
        CheckoutError::KeyInProgress => Problem::new(
            StatusCode::CONFLICT,
            "idempotency-conflict",
            "A request with this Idempotency-Key is still in progress",
        )
        .detail("retry after the first request has finished; it will then answer with the same response")
        .header("Retry-After", "1"),
        CheckoutError::Store(e) => store_problem(e),
    }
}

/// A database that cannot be reached is a 503 the client may retry (with the same
/// `Idempotency-Key`, a checkout resumes the same order); anything else the store says is a
/// 500. `/readyz` says 503 meanwhile, and the pool reconnects by itself once it is back.
fn store_problem(e: &StoreError) -> Problem {
    if e.is_unavailable() {
        tracing::warn!(
            error = e as &dyn std::error::Error,
            "the order database is unavailable"
        );
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database-unavailable",
            "The order database is unavailable",
        )
        .detail("retry shortly; a checkout retried with the same Idempotency-Key resumes the same order, so it is charged at most once")
        .header("Retry-After", "2")
    } else {
        Problem::internal(e)
    }
}

fn rate_limited(refusal: &Refusal) -> Problem {
    let retry_after = refusal.retry_after;
    let detail = match (refusal.tier, refusal.quota) {
        (Tier::Client, Some(q)) => format!(
            "more than {} requests in {} s from this client; retry after {retry_after} s",
            q.limit,
            q.window_secs()
        ),
        (Tier::Global, Some(q)) => format!(
            "the store is taking more than {} requests in {} s from all clients; retry after {retry_after} s",
            q.limit,
            q.window_secs()
        ),
        _ => format!("retry after {retry_after} s"),
    };
    let mut problem = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        "Too many requests",
    )
    .detail(detail)
    .with("tier", refusal.tier.as_str())
    .header("Retry-After", retry_after.to_string());
    for (name, value) in &refusal.headers {
        problem = problem.header(name, value.clone());
    }
    problem
}

/// A settled checkout as HTTP: 201 with the order for a payment, otherwise the problem of its
/// outcome (always with the `order_id`: an order was written). The checkout stores exactly this
/// for a retry with the same `Idempotency-Key` when the outcome is final.
pub fn render(settled: &Settled) -> StoredResponse {
    let order_id = settled.order_id.to_string();
    let (status, body) = match &settled.outcome {
        Outcome::Paid { payment_id } => paid(settled, payment_id),
        Outcome::Declined {
            charge_id,
            decline_code,
        } => declined(&order_id, charge_id.as_ref(), *decline_code),
        Outcome::PaymentFailed => {
            let p = Problem::new(StatusCode::BAD_GATEWAY, "payment-failed", "The payment provider failed; nothing was charged")
                .detail("the order is recorded as payment_failed; a retry with the same Idempotency-Key tries this same order again")
                .with("order_id", order_id.as_str());
            (p.status(), p.body_text())
        }
        Outcome::PaymentUnknown => {
            let p = Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "payment-unknown",
                "The payment provider did not answer in time; the outcome is unknown",
            )
            .detail("the order is recorded as payment_unknown and may or may not have been charged; retry with the same Idempotency-Key to settle it — the retry charges this same order again and the gateway, which deduplicates per order, answers with the charge it already made instead of charging twice")
            .with("order_id", order_id.as_str());
            (p.status(), p.body_text())
        }
    };
    StoredResponse {
        status: status.as_u16(),
        body,
        order_id,
    }
}

fn paid(settled: &Settled, payment_id: &ChargeId) -> (StatusCode, String) {
    let view = PlacedView {
        order_id: settled.order_id.to_string(),
        status: settled.outcome.status().as_str(),
        total_cents: settled.total.get(),
        total_usd: settled.total.usd(),
        payment_id: payment_id.to_string(),
        trace_id: settled.trace_id.clone(),
    };
    match serde_json::to_string(&view) {
        Ok(body) => (StatusCode::CREATED, body),
        // Strings and numbers always serialize; should that ever change, answer 500, not panic.
        Err(e) => {
            let p = Problem::internal(&e);
            (p.status(), p.body_text())
        }
    }
}

fn declined(
    order_id: &str,
    charge_id: Option<&ChargeId>,
    decline_code: Option<DeclineCode>,
) -> (StatusCode, String) {
    let p = Problem::new(
        StatusCode::PAYMENT_REQUIRED,
        "payment-declined",
        "Payment declined",
    )
    .with("order_id", order_id)
    .with("charge_id", charge_id.map(ToString::to_string))
    .with("decline_code", decline_code.map(|c| c.as_str()));
    (p.status(), p.body_text())
}

#[cfg(test)]
mod tests {
    use contract::{Cents, OrderId};

    use super::*;

    fn settled(outcome: Outcome) -> Settled {
        Settled {
            order_id: "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
                .parse::<OrderId>()
                .unwrap(),
            total: Cents::new(5648).unwrap(),
            trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
            outcome,
        }
    }

    fn json(response: &StoredResponse) -> serde_json::Value {
        serde_json::from_str(&response.body).unwrap()
    }

    #[test]
    fn a_payment_is_201_with_the_order() {
        let response = render(&settled(Outcome::Paid {
            payment_id: ChargeId::parse("ch_1").unwrap(),
        }));
        assert_eq!(response.status, 201);
        assert_eq!(response.order_id, "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b");
        assert_eq!(
            json(&response),
            serde_json::json!({"order_id": "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b", "status": "paid",
                "total_cents": 5648, "total_usd": 56.48, "payment_id": "ch_1",
                "trace_id": "0af7651916cd43dd8448eb211c80319c"})
        );
    }

    #[test]
    fn every_other_outcome_is_its_problem_with_the_order_id() {
        for (outcome, status, slug) in [
            (
                Outcome::Declined {
                    charge_id: ChargeId::parse("ch_2").ok(),
                    decline_code: Some(DeclineCode::CardDeclined),
                },
                402,
                "payment-declined",
            ),
            (Outcome::PaymentFailed, 502, "payment-failed"),
            (Outcome::PaymentUnknown, 504, "payment-unknown"),
        ] {
            let response = render(&settled(outcome));
            let body = json(&response);
            assert_eq!(response.status, status);
            assert_eq!(
                body["type"],
                format!("https://webstore.example/problems/{slug}")
            );
            assert_eq!(body["order_id"], "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b");
        }
        let declined = json(&render(&settled(Outcome::Declined {
            charge_id: None,
            decline_code: None,
        })));
        assert!(declined["charge_id"].is_null() && declined["decline_code"].is_null());
    }

    #[test]
    fn an_order_total_over_the_limit_names_the_limit() {
        let problem = ApiError::Checkout(CheckoutError::NotChargeable {
            total: Cents::new(100_209_900),
        })
        .problem();
        assert_eq!(problem.status(), 422);
        let body: serde_json::Value = serde_json::from_str(&problem.body_text()).unwrap();
        assert_eq!(body["max_total_cents"], 100_000_000);
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("1002099.00 USD") && detail.contains("1000000.00 USD"),
            "{detail}"
        );
    }
}
