//! HTTP only: extract, call the catalog, map errors. Each handler carries its OpenAPI doc.

mod health;
mod products;

use actix_web::web;
use utoipa::OpenApi;

pub use health::readyz;
pub use products::{get_product, list_products};

/// Registers the service's own routes (`/healthz`, `/metrics`, `/openapi.json` come from
/// `service_kit::app::common`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/readyz", web::get().to(health::readyz))
        .route("/api/v1/products", web::get().to(products::list_products))
        .route(
            "/api/v1/products/{id}",
            web::get().to(products::get_product),
        );
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "WebStore catalog-service",
        description = "Products, read through a Redis (or in-process) cache. Errors are RFC 9457 \
                       application/problem+json with a stable `type` URI.",
    ),
    paths(
        products::list_products,
        products::get_product,
        health::readyz,
        health::healthz_doc,
        health::metrics_doc,
        health::openapi_doc,
    ),
    components(schemas(contract::ProductJson, contract::ProductPage, ProblemDoc, FieldErrorDoc)),
    tags((name = "products", description = "The product catalogue"), (name = "operations", description = "Health, readiness, metrics"))
)]
pub struct ApiDoc;

/// RFC 9457 problem details, as every error response carries them.
#[derive(utoipa::ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // documentation only: `service_kit::Problem` builds the real body
pub struct ProblemDoc {
    /// Stable URI, `https://webstore.example/problems/{slug}` (e.g. `product-not-found`, `validation`).
    #[schema(example = "https://webstore.example/problems/product-not-found")]
    r#type: String,
    title: String,
    status: u16,
    detail: Option<String>,
    /// The trace of the failed request, when it was sampled.
    trace_id: Option<String>,
    /// Validation problems only: every offending field.
    errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code)] // documentation only
pub struct FieldErrorDoc {
    /// The query parameter or body field, e.g. `limit` or `cursor`.
    field: String,
    message: String,
}
