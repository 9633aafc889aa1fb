//! `/readyz`, and the OpenAPI entries of the routes `service_kit::app::common` registers.

use actix_web::{web, HttpResponse};
use service_kit::drain::Drain;
use service_kit::readiness::Readiness;

use crate::store::Catalog;

/// Ready when the database answers and the process is not shutting down. Redis is reported
/// (`up`, `down`, or `not configured`) but never makes the service unready: without it requests
/// are served from the database.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Database reachable", content_type = "application/json",
         example = json!({"status": "ready", "components": {"database": "up", "redis": "down"}})),
        (status = 503, description = "Database unreachable, or draining after SIGTERM (`\"status\": \"draining\"`)", content_type = "application/json",
         example = json!({"status": "not ready", "components": {"database": "down", "redis": "up"}})),
    )
)]
pub async fn readyz(catalog: web::Data<Catalog>, drain: web::Data<Drain>) -> HttpResponse {
    // Both checks at once, so a slow one does not add to the other.
    let (database, redis) = tokio::join!(
        service_kit::db::ping(catalog.db()),
        catalog.cache().redis_up()
    );
    Readiness::new(database)
        .draining(drain.is_draining())
        .inform("redis", redis)
        .response()
}

/// Process is up (says nothing about dependencies).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Always, while the process runs", content_type = "application/json",
        example = json!({"status": "ok"}))))]
#[allow(dead_code)] // documentation only: served by `service_kit::app::common`
pub fn healthz_doc() {}

/// Metrics in OpenMetrics text, with exemplars (`trace_id`, `span_id`) on histogram buckets.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics exposition",
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String)))]
#[allow(dead_code)] // documentation only: served by `service_kit::app::common`
pub fn metrics_doc() {}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
#[allow(dead_code)] // documentation only: served by `service_kit::app::common`
pub fn openapi_doc() {}
