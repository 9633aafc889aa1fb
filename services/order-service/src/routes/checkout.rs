use std::future::{ready, Ready};

use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use service_kit::problem::CONTENT_TYPE_PROBLEM;
use tracing::Instrument;
use uuid::Uuid;

use super::Customer;
use crate::checkout::{OrderRef, Placed};
use crate::domain::{fingerprint, Checkout, CheckoutBody, CustomerId, IdempotencyKey};
use crate::error::CheckoutError;
use crate::startup::AppState;
use crate::store::{Claim, Held, StoreError, StoredResponse};

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

/// The optional `Idempotency-Key` header, parsed. Declared after [`Customer`] and before the
/// body, so a bad key is refused before the body is read. Sent twice → 400: two keys for one
/// request cannot both be honoured.
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyKeyHeader {
    type Error = CheckoutError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let values: Vec<_> = req.headers().get_all(IDEMPOTENCY_KEY).collect();
        let result = match values.as_slice() {
            [] => Ok(Self(None)),
            [value] => value
                .to_str()
                .map_err(|_| "must contain only visible ASCII characters".to_owned())
                .and_then(IdempotencyKey::parse)
                .map(|k| Self(Some(k)))
                .map_err(CheckoutError::InvalidIdempotencyKey),
            _ => Err(CheckoutError::InvalidIdempotencyKey(
                "was sent more than once".to_owned(),
            )),
        };
        ready(result)
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
        (status = 201, description = "Charged", body = Placed,
            headers(("Location" = String, description = "The order"), ("Idempotent-Replayed" = String, description = "`true` on a replayed answer"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or conflicting API key", content_type = "application/problem+json"),
        (status = 402, description = "Declined by the payment provider", content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is in progress", content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", content_type = "application/problem+json"),
        (status = 422, description = "Invalid basket, unknown product, or Idempotency-Key reused with another body", content_type = "application/problem+json"),
        (status = 429, description = "Rate limited (client or global tier); see Retry-After, RateLimit, RateLimit-Policy", content_type = "application/problem+json"),
        (status = 502, description = "Payment provider failed", content_type = "application/problem+json"),
        (status = 503, description = "Catalog unavailable, or the request took longer than REQUEST_TIMEOUT", content_type = "application/problem+json"),
        (status = 504, description = "Payment outcome unknown; retry with the same Idempotency-Key", content_type = "application/problem+json"),
    )
)]
pub async fn checkout(
    customer: Customer,
    key: IdempotencyKeyHeader,
    state: web::Data<AppState>,
    body: web::Json<CheckoutBody>,
) -> Result<HttpResponse, CheckoutError> {
    let checkout = Checkout::try_from(body.into_inner()).map_err(CheckoutError::Invalid)?;
    let customer = customer.0;
    // From here on money may move: run to the end even if the client hangs up (actix drops a
    // handler's future when its connection closes), so no order is left half-done.
    let work = async move {
        match key.0 {
            None => {
                let placed = state
                    .flow
                    .place(&customer, checkout, OrderRef::New(Uuid::now_v7()))
                    .await?;
                Ok(created(&placed)?)
            }
            Some(key) => idempotent(&state, &customer, &key, checkout).await,
        }
    };
    actix_web::rt::spawn(work.instrument(tracing::Span::current()))
        .await
        .unwrap_or_else(|e| {
            Err(CheckoutError::Internal(format!(
                "the checkout task failed: {e}"
            )))
        })
}

async fn idempotent(
    state: &AppState,
    customer: &CustomerId,
    key: &IdempotencyKey,
    checkout: Checkout,
) -> Result<HttpResponse, CheckoutError> {
    let store = &state.idempotency;
    let claim = store
        .claim(customer, key, &fingerprint(&checkout))
        .await
        .map_err(StoreError::from)?;
    let held = match claim {
        Claim::Acquired(held) => held,
        Claim::Replay(stored) => {
            tracing::info!(order.id = %stored.order_id, "idempotent replay of a stored checkout response");
            state.flow.metrics.idempotency.get(&["replayed"]).inc();
            return Ok(respond(&stored, true));
        }
        Claim::Mismatch => {
            state.flow.metrics.idempotency.get(&["key_reuse"]).inc();
            return Err(CheckoutError::IdempotencyKeyReuse);
        }
        Claim::InProgress => {
            state.flow.metrics.idempotency.get(&["conflict"]).inc();
            return Err(CheckoutError::IdempotencyConflict);
        }
    };
    let order = if held.first_attempt {
        state.flow.metrics.idempotency.get(&["new"]).inc();
        OrderRef::New(held.order_id)
    } else {
        state.flow.metrics.idempotency.get(&["resumed"]).inc();
        OrderRef::Reserved(held.order_id)
    };
    let result = state.flow.place(customer, checkout, order).await;
    finish(state, customer, key, &held, result).await
}

/// Stores what settles the order (201, 402), releases the key for a retry when the outcome is
/// open (502, 504, a store failure), and forgets it when nothing was ordered.
async fn finish(
    state: &AppState,
    customer: &CustomerId,
    key: &IdempotencyKey,
    held: &Held,
    result: Result<Placed, CheckoutError>,
) -> Result<HttpResponse, CheckoutError> {
    let store = &state.idempotency;
    let stored = match result {
        Ok(placed) => StoredResponse {
            status: StatusCode::CREATED.as_u16(),
            body: serde_json::to_string(&placed).map_err(StoreError::from)?,
            order_id: placed.order_id,
        },
        Err(CheckoutError::Declined {
            order_id,
            charge_id,
            decline_code,
        }) => {
            let response = CheckoutError::Declined {
                order_id: order_id.clone(),
                charge_id,
                decline_code,
            }
            .error_response();
            let status = response.status().as_u16();
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .map_err(|e| CheckoutError::Internal(format!("rendering the decline: {e}")))?;
            StoredResponse {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
                order_id,
            }
        }
        Err(
            e @ (CheckoutError::PaymentFailed { .. }
            | CheckoutError::PaymentUnknown { .. }
            | CheckoutError::Store(_)
            | CheckoutError::Internal(_)),
        ) => {
            if let Err(db) = store.release(customer, key, held).await {
                // The lock then simply runs out; the retry waits for it instead of 409 → retry.
                tracing::warn!(
                    error = &db as &dyn std::error::Error,
                    "releasing the Idempotency-Key failed"
                );
            }
            return Err(e);
        }
        Err(e) => {
            if let Err(db) = store.forget(customer, key, held).await {
                tracing::warn!(
                    error = &db as &dyn std::error::Error,
                    "forgetting the Idempotency-Key failed"
                );
            }
            return Err(e);
        }
    };
    match store
        .complete(customer, key, held, stored.status, &stored.body)
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            order.id = %stored.order_id,
            "the Idempotency-Key lock ran out before the response was stored; a retry charges the same order again (the gateway deduplicates)"
        ),
        // The answer is still right; a retry resumes the order and gets the same charge.
        Err(db) => tracing::warn!(
            error = &db as &dyn std::error::Error,
            "storing the idempotent response failed"
        ),
    }
    Ok(respond(&stored, false))
}

fn created(placed: &Placed) -> Result<HttpResponse, CheckoutError> {
    let stored = StoredResponse {
        status: StatusCode::CREATED.as_u16(),
        body: serde_json::to_string(placed).map_err(StoreError::from)?,
        order_id: placed.order_id.clone(),
    };
    Ok(respond(&stored, false))
}

/// A settled answer as HTTP — the same bytes the first time and on every replay.
fn respond(stored: &StoredResponse, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if status.is_success() {
        response
            .insert_header((CONTENT_TYPE, "application/json"))
            .insert_header((LOCATION, format!("/api/v1/orders/{}", stored.order_id)));
    } else {
        response.insert_header((CONTENT_TYPE, CONTENT_TYPE_PROBLEM));
    }
    if replayed {
        response.insert_header((IDEMPOTENT_REPLAYED, "true"));
    }
    response.body(stored.body.clone())
}
