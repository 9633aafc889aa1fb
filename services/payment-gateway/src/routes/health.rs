//! `/readyz`, plus OpenAPI entries for the routes `service_kit::app::common` serves.

use actix_web::{web, HttpResponse};
use service_kit::drain::Drain;
use service_kit::readiness::Readiness;

use crate::gateway::Gateway;

/// Ready when the database answers and the process is not draining after SIGTERM (503
/// otherwise). The gateway has no other dependency.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: `{\"status\":\"ready\",\"components\":{\"database\":\"up\"}}`"),
        (status = 503, description = "The database is unreachable, or the process is draining after SIGTERM"),
    )
)]
pub async fn readyz(gateway: web::Data<Gateway>, drain: web::Data<Drain>) -> HttpResponse {
    Readiness::new(service_kit::db::ping(gateway.store().db()).await)
        .draining(drain.is_draining())
        .response()
}

/// Documentation only: served by `service_kit::app::common`.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up: `{\"status\":\"ok\"}`")))]
pub async fn healthz() {}

/// Documentation only: served by `service_kit::app::common`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text with exemplars", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String))
)]
pub async fn metrics() {}

/// Documentation only: served by `service_kit::app::common`.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "This document")))]
pub async fn openapi_json() {}
