//! HTTP only: each handler extracts, calls the checkout or the store, and maps the result
//! (statuses and problems are chosen in `crate::error`). One module per resource.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/v1/checkout` | [`checkout::checkout`] |
//! | `GET /api/v1/orders/{id}` | [`orders::get_order`] |
//! | `GET /readyz` | [`health::readyz`] |
//! | `GET /healthz`, `/metrics`, `/openapi.json` | `service_kit::app::common` |

mod auth;
mod checkout;
mod health;
pub mod middleware;
mod orders;

use actix_web::web;
pub use auth::Customer;
use service_kit::edge::other_methods;

use crate::schema::{CheckoutBody, LineBody, OrderLineView, OrderView, PlacedView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(middleware::rate_limit))
            .service(
                web::resource("/checkout")
                    // On the resource, not the scope: it keeps a handle on the request, which
                    // routing must be done with.
                    .wrap(actix_web::middleware::from_fn(middleware::request_timeout))
                    .route(web::post().to(checkout::checkout))
                    .default_service(other_methods("POST")),
            )
            .service(
                web::resource("/orders/{id}")
                    .wrap(actix_web::middleware::from_fn(middleware::request_timeout))
                    .route(web::get().to(orders::get_order))
                    .default_service(other_methods("GET, HEAD")),
            ),
    )
    .service(
        web::resource("/readyz")
            .route(web::get().to(health::readyz))
            .default_service(other_methods("GET, HEAD")),
    );
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "order-service", description = "WebStore checkout orchestration"),
    paths(checkout::checkout, orders::get_order, health::readyz, health::healthz, health::metrics, health::openapi),
    components(schemas(CheckoutBody, LineBody, PlacedView, OrderView, OrderLineView)),
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
