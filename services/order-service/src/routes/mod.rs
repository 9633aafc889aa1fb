//! HTTP only: extract, call the flow, map errors.

mod auth;
mod checkout;
mod health;
mod orders;

use actix_web::web;
pub use auth::Customer;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/checkout", web::post().to(checkout::checkout))
        .route("/api/v1/orders/{id}", web::get().to(orders::get_order))
        .route("/readyz", web::get().to(health::readyz));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "order-service", description = "WebStore checkout orchestration"),
    paths(checkout::checkout, orders::get_order, health::readyz, health::healthz, health::metrics),
    components(schemas(crate::domain::CheckoutBody, crate::domain::LineBody, crate::checkout::Placed, orders::OrderView, crate::store::PricedLine)),
    modifiers(&ApiKeyAuth)
)]
pub struct ApiDoc;

struct ApiKeyAuth;

impl utoipa::Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}
