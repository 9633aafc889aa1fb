use actix_web::{web, HttpResponse};

use super::Customer;
use crate::domain::Cents;
use crate::error::CheckoutError;
use crate::startup::AppState;
use crate::store::{OrderStore, PricedLine};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub status: String,
    pub country: String,
    pub payment_method: String,
    pub total_cents: i64,
    pub total_usd: f64,
    pub payment_id: Option<String>,
    pub lines: Vec<PricedLine>,
    pub trace_id: Option<String>,
    pub created_at_ms: i64,
}

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
) -> Result<HttpResponse, CheckoutError> {
    // Order ids are UUIDs: anything else cannot exist, and must not reach the database (a NUL
    // byte, for one, is an error in Postgres, not a miss).
    let id = uuid::Uuid::parse_str(&id).map_err(|_| CheckoutError::OrderNotFound)?;
    let record = state
        .flow
        .store
        .find_for_customer(&id.to_string(), &customer.0)
        .await?
        .ok_or(CheckoutError::OrderNotFound)?;
    let lines = OrderStore::lines_of(&record)?;
    Ok(HttpResponse::Ok().json(OrderView {
        total_usd: Cents::new(record.total_cents).unwrap_or(Cents::ZERO).usd(),
        order_id: record.id,
        status: record.status,
        country: record.country,
        payment_method: record.payment_method,
        total_cents: record.total_cents,
        payment_id: record.payment_id,
        lines,
        trace_id: record.trace_id,
        created_at_ms: record.created_at_ms,
    }))
}
