use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest};

use crate::domain::CustomerId;
use crate::error::CheckoutError;
use crate::startup::AppState;

/// The authenticated customer. Listed first in a handler's arguments, so that an anonymous
/// request is refused before its body is even read.
pub struct Customer(pub CustomerId);

impl FromRequest for Customer {
    type Error = CheckoutError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Customer, CheckoutError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(CheckoutError::Unauthorized(
            crate::domain::AuthFailure::Missing,
        ));
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
        Err(crate::domain::AuthFailure::Mismatch)
    } else {
        let bearer = authorization.first().map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or("")
                .trim()
        });
        state
            .api_keys
            .authenticate(bearer, api_key.first().map(|v| v.trim()))
    };
    result.map(Customer).map_err(|failure| {
        state
            .flow
            .metrics
            .auth_failures
            .get(&[failure.reason()])
            .inc();
        tracing::warn!(auth.failure = failure.reason(), "request refused");
        CheckoutError::Unauthorized(failure)
    })
}
