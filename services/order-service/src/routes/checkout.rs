//! `POST /api/v1/checkout`: extract, call the checkout, map its answer.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use contract::IdempotencyKey;
use service_kit::idempotency::{key_header, StoredAnswer};

use super::auth::Customer;
use crate::checkout::{run_to_completion, Answer};
use crate::error::ApiError;
use crate::schema::{CheckoutBody, PlacedView};
use crate::state::AppState;

/// The optional `Idempotency-Key` header, bare or as a quoted string. Declared after
/// [`Customer`] and before the body, so a bad key is refused before the body is read. Sent
/// twice → 400: two keys for one request cannot both be honoured.
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(
            key_header(req, IdempotencyKey::parse_header)
                .map(Self)
                .map_err(ApiError::InvalidIdempotencyKey),
        )
    }
}

/// Place an order: price it from the catalog, charge it, answer with the outcome.
///
/// With an `Idempotency-Key`, the first answer that settles the order (201 or 402) is stored
/// and replayed to every retry with the same key and body (`Idempotent-Replayed: true`).
/// 502 and 504 are not stored: a retry with the same key charges the same order again, and
/// the gateway — deduplicating per order — charges it at most once.
#[utoipa::path(
    post,
    path = "/api/v1/checkout",
    request_body = CheckoutBody,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1-255 visible ASCII characters, bare or as a quoted string; scoped to the API key's customer; remembered for IDEMPOTENCY_TTL (24 h)"),
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Charged", body = PlacedView,
            headers(("Location" = String, description = "The order"), ("Idempotent-Replayed" = String, description = "`true` on a replayed answer"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or conflicting API key", content_type = "application/problem+json"),
        (status = 402, description = "Declined by the payment provider", content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is in progress", content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", content_type = "application/problem+json"),
        (status = 422, description = "Invalid basket, unknown product, an order total over what one payment can charge (1000000.00 USD), or Idempotency-Key reused with another body", content_type = "application/problem+json"),
        (status = 429, description = "Rate limited (client or global tier); see Retry-After, RateLimit, RateLimit-Policy", content_type = "application/problem+json"),
        (status = 502, description = "Payment provider failed", content_type = "application/problem+json"),
        (status = 503, description = "Catalog unavailable, the request took longer than REQUEST_TIMEOUT, or the process is shutting down (nothing was ordered; retry)", content_type = "application/problem+json"),
        (status = 504, description = "Payment outcome unknown; retry with the same Idempotency-Key", content_type = "application/problem+json"),
    )
)]
pub async fn checkout(
    customer: Customer,
    key: IdempotencyKeyHeader,
    state: web::Data<AppState>,
    body: web::Json<CheckoutBody>,
) -> Result<HttpResponse, ApiError> {
    let request = body.parse().map_err(ApiError::InvalidCheckout)?;
    let Customer(customer) = customer;
    let drain = state.drain.clone();
    let answer = run_to_completion(&drain, async move {
        state
            .checkout
            .submit(&customer, request, key.0.as_ref())
            .await
    })
    .await??;
    Ok(respond(answer))
}

/// The answer as HTTP — the same bytes the first time and on every replay.
fn respond(answer: Answer) -> HttpResponse {
    StoredAnswer {
        location: format!("/api/v1/orders/{}", answer.response.order_id),
        status: answer.response.status,
        body: answer.response.body,
    }
    .response(answer.replayed)
}
