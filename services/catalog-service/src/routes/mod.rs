//! HTTP only: extract, call the catalog, map errors. Each handler carries its OpenAPI doc.

mod health;
mod products;

use actix_web::web;
use service_kit::edge::other_methods;
use service_kit::problem::{FieldError, ProblemDoc};
use utoipa::OpenApi;

pub use health::readyz;
pub use products::{get_product, list_products};

/// Registers the service's own routes (`/healthz`, `/metrics`, `/openapi.json` come from
/// `service_kit::app::common`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/readyz", web::get().to(health::readyz)),
        ("/api/v1/products", web::get().to(products::list_products)),
        (
            "/api/v1/products/{id}",
            web::get().to(products::get_product),
        ),
    ] {
        cfg.service(
            web::resource(path)
                .route(handler)
                .default_service(other_methods("GET, HEAD")),
        );
    }
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
    components(schemas(contract::ProductJson, contract::ProductPage, ProblemDoc, FieldError)),
    tags((name = "products", description = "The product catalogue"), (name = "operations", description = "Health, readiness, metrics"))
)]
pub struct ApiDoc;
