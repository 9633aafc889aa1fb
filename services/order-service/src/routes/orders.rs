//! `GET /api/v1/orders/{id}`.

use actix_web::{web, HttpResponse};
use contract::OrderId;

use super::auth::Customer;
use crate::error::ApiError;
use crate::schema::OrderView;
use crate::state::AppState;

/// One order — only for the API key that placed it (anyone else gets 404).
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, body = OrderView),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", content_type = "application/problem+json"),
        (status = 503, description = "The request took longer than REQUEST_TIMEOUT", content_type = "application/problem+json"),
    )
)]
pub async fn get_order(
    customer: Customer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Order ids are UUIDs: anything else cannot exist, and must not reach the database (a NUL
    // byte, for one, is an error in Postgres, not a miss).
    let id: OrderId = id.parse().map_err(|_| ApiError::OrderNotFound)?;
    let order = state
        .orders
        .find_for_customer(id, &customer.0)
        .await?
        .ok_or(ApiError::OrderNotFound)?;
    Ok(HttpResponse::Ok().json(OrderView::from(&order)))
}
