//! `GET/PUT /admin/faults`: fault injection, behind `Authorization: Bearer <ADMIN_TOKEN>`.
//! Registered only when `ADMIN_TOKEN` is set.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use crate::config::AdminToken;
use crate::domain::{Faults, FaultsPatch};
use crate::error::ApiError;
use crate::gateway::FaultSwitch;
use service_kit::problem::ProblemDoc;

/// Proof that the request carried the admin token. First in every admin handler's arguments,
/// so an unauthenticated request is refused before its body is read.
#[derive(Debug)]
pub struct AdminAuth;

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<AdminAuth, ApiError> {
    // Without a configured token there is nothing to match: refuse (the routes are normally
    // not even registered then).
    let Some(expected) = req.app_data::<web::Data<AdminToken>>() else {
        return Err(ApiError::InvalidToken);
    };
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::MissingToken)?;
    let value = header.to_str().map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::MissingToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingToken);
    }
    if expected.verify(token.trim()) {
        Ok(AdminAuth)
    } else {
        tracing::warn!("admin API: invalid bearer token");
        Err(ApiError::InvalidToken)
    }
}

/// The current fault settings.
#[utoipa::path(
    get,
    path = "/admin/faults",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Current faults", body = Faults),
        (status = 401, description = "Missing or wrong bearer token (WWW-Authenticate: Bearer)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "ADMIN_TOKEN is not set: the admin API does not exist", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_faults(_: AdminAuth, faults: web::Data<FaultSwitch>) -> HttpResponse {
    HttpResponse::Ok().json(faults.get())
}

/// Change some fault settings; the given fields replace the current values, the others stay.
/// Answers the full current set.
#[utoipa::path(
    put,
    path = "/admin/faults",
    tag = "admin",
    security(("admin_token" = [])),
    request_body = FaultsPatch,
    responses(
        (status = 200, description = "The faults now in force", body = Faults),
        (status = 401, description = "Missing or wrong bearer token (WWW-Authenticate: Bearer)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "ADMIN_TOKEN is not set: the admin API does not exist", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "A rate outside [0, 1], latency_ms over 600000, or an unknown field (validation); nothing changed", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn put_faults(
    _: AdminAuth,
    patch: web::Json<FaultsPatch>,
    faults: web::Data<FaultSwitch>,
) -> Result<HttpResponse, ApiError> {
    let current = faults.update(&patch).map_err(ApiError::InvalidFaults)?;
    Ok(HttpResponse::Ok().json(current))
}
