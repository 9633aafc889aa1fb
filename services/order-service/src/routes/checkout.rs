use actix_web::{web, HttpResponse};

use super::Customer;
use crate::checkout::Placed;
use crate::domain::{Checkout, CheckoutBody};
use crate::error::CheckoutError;
use crate::startup::AppState;

/// Place an order: price it from the catalog, charge it, answer with the outcome.
#[utoipa::path(
    post,
    path = "/api/v1/checkout",
    request_body = CheckoutBody,
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Charged", body = Placed),
        (status = 400, description = "Malformed JSON", content_type = "application/problem+json"),
        (status = 401, description = "Missing, invalid or conflicting API key", content_type = "application/problem+json"),
        (status = 402, description = "Declined by the payment provider", content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", content_type = "application/problem+json"),
        (status = 422, description = "Invalid basket or unknown product", content_type = "application/problem+json"),
        (status = 502, description = "Payment provider failed", content_type = "application/problem+json"),
        (status = 503, description = "Catalog unavailable", content_type = "application/problem+json"),
        (status = 504, description = "Payment outcome unknown", content_type = "application/problem+json"),
    )
)]
pub async fn checkout(
    customer: Customer,
    state: web::Data<AppState>,
    body: web::Json<CheckoutBody>,
) -> Result<HttpResponse, CheckoutError> {
    let checkout = Checkout::try_from(body.into_inner()).map_err(CheckoutError::Invalid)?;
    let placed: Placed = state.flow.place(&customer.0, checkout).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/orders/{}", placed.order_id)))
        .json(placed))
}
