//! The `Customer` extractor: the API key, checked before anything else is read.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest};
use service_kit::authorization::bearer_token;

use crate::domain::{AuthFailure, CustomerId};
use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated customer. Listed first in a handler's arguments, so that an anonymous
/// request is refused before its body is even read.
pub struct Customer(pub CustomerId);

impl FromRequest for Customer {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Customer, ApiError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(ApiError::Unauthorized(AuthFailure::Missing));
    };
    // A repeated header is ambiguous — a proxy and this service might each read another one —
    // so it is a malformed request (400), not a guess and not a failed authentication.
    let bearer =
        bearer_token(req.headers()).map_err(|_| ApiError::DuplicateHeader("Authorization"))?;
    let mut api_keys = req.headers().get_all("x-api-key");
    let api_key = api_keys.next();
    if api_keys.next().is_some() {
        return Err(ApiError::DuplicateHeader("X-API-Key"));
    }
    // An `Authorization` of another scheme is a key that does not match, not a missing one.
    let bearer = match (bearer, req.headers().contains_key("authorization")) {
        (Some(token), _) => Some(token),
        (None, true) => Some(""),
        (None, false) => None,
    };
    let api_key = api_key.map(|v| v.to_str().map(str::trim).unwrap_or(""));
    state
        .api_keys
        .authenticate(bearer, api_key)
        .map(Customer)
        .map_err(|failure| {
            state.metrics.auth_failures.get(&[failure.reason()]).inc();
            tracing::warn!(auth.failure = failure.reason(), "request refused");
            ApiError::Unauthorized(failure)
        })
}

/// The token of one `Authorization` value if its scheme is `Bearer` (in any case, RFC 9110
/// §11.1); empty for any other scheme.
pub fn bearer_value(value: &str) -> &str {
    service_kit::authorization::bearer_value(value).unwrap_or("")
}
