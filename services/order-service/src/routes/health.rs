use actix_web::{web, HttpResponse};
use service_kit::readiness::Readiness;

use crate::state::AppState;

/// Ready when the orders database answers and the process is not draining after SIGTERM; Redis
/// (rate limits) is reported, never decisive. Catalog and gateway are not checked: an outage
/// there is answered per request (503/502), and pulling every replica out would not help.
#[utoipa::path(get, path = "/readyz", responses((status = 200), (status = 503)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    Readiness::new(service_kit::db::ping(state.orders.connection()).await)
        .draining(state.drain.is_draining())
        .inform("redis", state.rate_limiter.redis_up().await)
        .response()
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200)))]
#[allow(dead_code)] // documents the route service-kit registers
pub async fn healthz() {}

/// Prometheus metrics, OpenMetrics text with exemplars.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
#[allow(dead_code)] // documents the route the telemetry crate registers
pub async fn metrics() {}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, content_type = "application/json")))]
#[allow(dead_code)] // documents the route service-kit registers
pub async fn openapi() {}
