//! HTTP only: extract, call the gateway, shape the answer. One module per resource.
//!
//! | route | handler |
//! |---|---|
//! | `/v1/*` | behind [`merchant::require_merchant_key`] when `GATEWAY_API_KEY` is set |
//! | `POST /v1/charges` | [`charges::create_charge`] |
//! | `GET /v1/charges?idempotency_key=` | [`charges::find_charge_by_key`] |
//! | `GET /v1/charges/{id}` | [`charges::get_charge`] |
//! | `GET /admin/faults`, `PUT /admin/faults` | [`admin`] — only when `ADMIN_TOKEN` is set |
//! | `GET /readyz` | [`health::readyz`] |
//! | `GET /healthz`, `/metrics`, `/openapi.json` | `service_kit::app::common` |

pub mod admin;
pub mod charges;
pub mod health;
pub mod merchant;

use actix_web::web;
use contract::{ChargeJson, ChargeRequestJson, DeclineDetails};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::domain::{Faults, FaultsPatch};
use service_kit::edge::other_methods;
use service_kit::problem::ProblemDoc;

use crate::schema::DeclineProblemDoc;

/// Registers the gateway's routes. `admin`: register `/admin/faults` (only when an
/// `ADMIN_TOKEN` is configured; otherwise the path falls through to the 404 default service).
pub fn configure(admin: bool) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::resource("/readyz")
                .route(web::get().to(health::readyz))
                .default_service(other_methods("GET, HEAD")),
        )
        .service(
            web::scope("/v1")
                .wrap(actix_web::middleware::from_fn(
                    merchant::require_merchant_key,
                ))
                .service(
                    web::resource("/charges")
                        .route(web::post().to(charges::create_charge))
                        .route(web::get().to(charges::find_charge_by_key))
                        .default_service(other_methods("GET, HEAD, POST")),
                )
                .service(
                    web::resource("/charges/{id}")
                        .route(web::get().to(charges::get_charge))
                        .default_service(other_methods("GET, HEAD")),
                ),
        );
        if admin {
            cfg.service(
                web::resource("/admin/faults")
                    .route(web::get().to(admin::get_faults))
                    .route(web::put().to(admin::put_faults))
                    .default_service(other_methods("GET, HEAD, PUT")),
            );
        }
    }
}

/// The OpenAPI document served at `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "payment-gateway",
        description = "Mock external payment provider for WebStore: idempotent charges with a long-tailed latency model per payment method, declines, and faults injectable at run time. Errors are RFC 9457 application/problem+json."
    ),
    paths(
        charges::create_charge,
        charges::find_charge_by_key,
        charges::get_charge,
        admin::get_faults,
        admin::put_faults,
        health::healthz,
        health::readyz,
        health::metrics,
        health::openapi_json,
    ),
    components(schemas(ChargeRequestJson, ChargeJson, DeclineDetails, Faults, FaultsPatch, ProblemDoc, DeclineProblemDoc)),
    modifiers(&AdminSecurity),
    tags(
        (name = "charges", description = "Create and read charges"),
        (name = "admin", description = "Fault injection (exists only when ADMIN_TOKEN is set)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The document this process serves: [`ApiDoc`], without `/admin/faults` (its tag and security
/// scheme too) when the admin routes are not registered, so the document lists exactly the routes.
pub fn openapi(admin: bool) -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    let mut doc = ApiDoc::openapi();
    if !admin {
        doc.paths
            .paths
            .retain(|path, _| !path.starts_with("/admin/"));
        if let Some(tags) = doc.tags.as_mut() {
            tags.retain(|tag| tag.name != "admin");
        }
        if let Some(components) = doc.components.as_mut() {
            components.security_schemes.remove("admin_token");
        }
    }
    doc
}

struct AdminSecurity;

impl utoipa::Modify for AdminSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "merchant_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "GATEWAY_API_KEY (required only when the gateway has one)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("ADMIN_TOKEN"))
                    .build(),
            ),
        );
    }
}
