//! What every service's `App` has besides its own routes.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::edge::other_methods;
use crate::problem::{json_error, path_error, query_error, Problem};

/// Request bodies over this are refused with 413 before they are parsed.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Registers `/healthz`, `/metrics` (from `Telemetry::metrics_endpoint`), `/openapi.json`, the
/// extractor error handlers and the problem+json 404 for unknown routes. Use with
/// `App::configure`.
pub fn common(
    metrics: telemetry::MetricsEndpoint,
    openapi: utoipa::openapi::OpenApi,
) -> impl FnOnce(&mut web::ServiceConfig) {
    let openapi_json = openapi.to_json().unwrap_or_else(|_| "{}".to_owned());
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BODY)
                .error_handler(json_error),
        )
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .service(metrics)
        .service(
            web::resource("/healthz")
                .route(web::get().to(healthz))
                .default_service(other_methods("GET, HEAD")),
        )
        .service(
            web::resource("/openapi.json")
                .route(web::get().to(move || {
                    let body = openapi_json.clone();
                    async move {
                        HttpResponse::Ok()
                            .insert_header((CONTENT_TYPE, "application/json"))
                            .body(body)
                    }
                }))
                .default_service(other_methods("GET, HEAD")),
        )
        .default_service(web::to(not_found));
    }
}

/// The process is up. Says nothing about dependencies: that is `/readyz`.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, Problem> {
    Err(Problem::not_found(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

/// Headers every response carries: this is an API, never a page to frame or sniff.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cache-Control", "no-store"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
}
