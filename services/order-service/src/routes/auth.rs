//! The `Customer` extractor: the API key, checked before anything else is read.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest};

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
    let header = |name: &str| -> Vec<&str> {
        req.headers()
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    let authorization = header("authorization");
    let api_key = header("x-api-key");
    // A repeated header is ambiguous: treat it as a mismatch rather than guess which one counts.
    let result = if authorization.len() > 1 || api_key.len() > 1 {
        Err(AuthFailure::Mismatch)
    } else {
        let bearer = authorization.first().map(|v| bearer_token(v));
        state
            .api_keys
            .authenticate(bearer, api_key.first().map(|v| v.trim()))
    };
    result.map(Customer).map_err(|failure| {
        state.metrics.auth_failures.get(&[failure.reason()]).inc();
        tracing::warn!(auth.failure = failure.reason(), "request refused");
        ApiError::Unauthorized(failure)
    })
}

/// The token of an `Authorization: Bearer <token>` value; empty for any other scheme.
pub fn bearer_token(value: &str) -> &str {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or("")
        .trim()
}
