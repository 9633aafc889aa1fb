//! HTTP guards around the routes: CORS (and its errors as problem+json), the request timeout,
//! and the rate limits (decided by `crate::ratelimit`).

use std::time::Duration;

use actix_cors::{Cors, CorsError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use super::auth::bearer_value;
use crate::config::AllowedOrigins;
use crate::error::ApiError;
use crate::ratelimit::{client_id, Tier};
use crate::state::AppState;

/// The CORS middleware for `origins`. Requests without `Origin`, or from a disallowed one, are
/// served as usual but without CORS headers — the browser then refuses the page the answer;
/// a disallowed preflight is refused (problem+json, see [`cors_errors_as_problems`]).
pub fn cors(origins: &AllowedOrigins) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-api-key"),
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("traceparent"),
            header::HeaderName::from_static("tracestate"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("ratelimit"),
            header::HeaderName::from_static("ratelimit-policy"),
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    match origins {
        AllowedOrigins::None => {}
        AllowedOrigins::Any => cors = cors.allow_any_origin().send_wildcard(),
        AllowedOrigins::List(list) => {
            for origin in list {
                cors = cors.allowed_origin(origin);
            }
        }
    }
    cors
}

/// actix-cors answers a refused preflight in plain text; this turns it into problem+json like
/// every other error.
pub async fn cors_errors_as_problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let response = next.call(req).await?;
    let Some(cors) = response
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
    else {
        return Ok(response.map_into_left_body());
    };
    let problem = ApiError::CorsRejected {
        forbidden: matches!(
            cors,
            CorsError::OriginNotAllowed
                | CorsError::MethodNotAllowed
                | CorsError::HeadersNotAllowed
        ),
        detail: cors.to_string(),
    };
    let (request, original) = response.into_parts();
    let mut answer = problem.error_response();
    // Keep `Vary: Origin` and friends.
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(request, answer).map_into_right_body())
}

/// Bounds how long one API request may take, reading its body included (a slow-upload client
/// cannot hold a request open). Checkout's money-moving part runs on in its own task and still
/// settles the order; a retry with the same `Idempotency-Key` then gets its answer.
pub async fn request_timeout(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.request_timeout)
        .unwrap_or(Duration::from_secs(30));
    let request = req.request().clone();
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result.map(ServiceResponse::map_into_left_body),
        Err(_) => {
            tracing::warn!(timeout = ?limit, "request timed out");
            let problem = ApiError::RequestTimeout(limit);
            Ok(ServiceResponse::new(request, problem.error_response()).map_into_right_body())
        }
    }
}

/// The rate limits, around the API scope: a refused request is answered 429 before it reaches
/// a handler; an allowed one carries the draft-10 `RateLimit` headers.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let limiter = &state.rate_limiter;
    let one = |name: &str| -> Option<&str> {
        let mut values = req.headers().get_all(name);
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        first.to_str().ok()
    };
    let client = client_id(
        &state.api_keys,
        one("authorization").map(bearer_value),
        one("x-api-key").map(str::trim),
        req.peer_addr()
            .map(|addr| state.trusted_proxies.client_ip(addr.ip(), req.headers())),
    );
    let decision = limiter.check(&client).await;
    if !decision.allowed() {
        tracing::debug!(
            rate_limit.tier = decision.denied().map(Tier::as_str),
            "request refused by the rate limiter"
        );
        let response = ApiError::RateLimited(limiter.refusal(&decision)).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    for (name, value) in limiter.headers(&decision) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    Ok(response.map_into_left_body())
}
