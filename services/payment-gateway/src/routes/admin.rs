//! `GET/PUT /admin/faults`: fault injection, behind `Authorization: Bearer <ADMIN_TOKEN>`,
//! with guessing throttled. Registered only when `ADMIN_TOKEN` is set.

use std::future::{ready, Ready};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use service_kit::authorization::bearer_token;

use crate::config::AdminToken;
use crate::domain::{FailureThrottle, Faults, FaultsPatch};
use crate::error::ApiError;
use crate::gateway::FaultSwitch;
use service_kit::problem::ProblemDoc;

/// How many wrong admin tokens a second the gateway checks before it refuses every admin
/// request (429) for the rest of that second: enough for an operator's typo, far too few for
/// guessing (unthrottled, a loopback client tried about 3,300 tokens a second).
pub const ADMIN_FAILURES_PER_SECOND: u32 = 5;

/// The admin token and the brake on guessing it, one per process.
#[derive(Debug)]
pub struct AdminGuard {
    token: AdminToken,
    throttle: Mutex<FailureThrottle>,
}

impl AdminGuard {
    pub fn new(token: AdminToken) -> Self {
        Self {
            token,
            throttle: Mutex::new(FailureThrottle::new(
                ADMIN_FAILURES_PER_SECOND,
                Duration::from_secs(1),
            )),
        }
    }

    fn check(&self, presented: &str) -> Result<(), ApiError> {
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable.
        let mut throttle = self.throttle.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(wait) = throttle.refused_for(now) {
            return Err(ApiError::AdminThrottled(wait.as_secs().max(1)));
        }
        if self.token.verify(presented) {
            return Ok(());
        }
        throttle.failed(now);
        tracing::warn!("admin API: invalid bearer token");
        Err(ApiError::InvalidToken)
    }
}

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
    let Some(guard) = req.app_data::<web::Data<AdminGuard>>() else {
        return Err(ApiError::InvalidToken);
    };
    let token = bearer_token(req.headers())?.ok_or(ApiError::MissingToken)?;
    guard.check(token).map(|()| AdminAuth)
}

/// The current fault settings.
#[utoipa::path(
    get,
    path = "/admin/faults",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Current faults", body = Faults),
        (status = 400, description = "Authorization sent more than once (duplicate-header)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong bearer token (WWW-Authenticate: Bearer)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong tokens in the last second (rate-limited, Retry-After); even the right token waits", body = ProblemDoc, content_type = "application/problem+json"),
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
        (status = 400, description = "Authorization sent more than once (duplicate-header)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong bearer token (WWW-Authenticate: Bearer)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong tokens in the last second (rate-limited, Retry-After); even the right token waits", body = ProblemDoc, content_type = "application/problem+json"),
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
