//! HTTP guards around the routes: CORS (and its errors as problem+json) and the request
//! timeout. Rate limiting lives in `crate::ratelimit`.

use std::time::Duration;

use actix_cors::{Cors, CorsError};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use service_kit::Problem;

use crate::startup::AppState;

/// Which browser origins may call the API (`CORS_ALLOWED_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AllowedOrigins {
    /// The default: no cross-origin browser access at all.
    #[default]
    None,
    /// `*`: any origin. Safe only because credentials travel in headers a page must set
    /// itself (no cookies), and `Access-Control-Allow-Credentials` is never sent.
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// `https://shop.example,http://localhost:3000`, `*`, or empty.
    pub fn parse(value: &str) -> Result<Self, String> {
        let items: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Ok(Self::None);
        }
        if items == ["*"] {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for item in items {
            let rest = item
                .strip_prefix("https://")
                .or_else(|| item.strip_prefix("http://"))
                .ok_or_else(|| format!("{item:?} is not an origin (scheme://host[:port])"))?;
            let ok = !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if !ok {
                return Err(format!(
                    "{item:?} is not an origin: scheme://host[:port], no path, no trailing slash, no wildcard"
                ));
            }
            origins.push(item.to_ascii_lowercase());
        }
        Ok(Self::List(origins))
    }
}

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
    let status = match cors {
        CorsError::OriginNotAllowed
        | CorsError::MethodNotAllowed
        | CorsError::HeadersNotAllowed => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    let problem = Problem::new(status, "cors-rejected", "Cross-origin request refused")
        .detail(cors.to_string());
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
            let problem = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request-timeout",
                "The request took too long",
            )
            .detail(format!(
                "no answer within {} ms; a checkout sent with an Idempotency-Key can be retried with the same key to learn its outcome",
                limit.as_millis()
            ))
            .header("Retry-After", "1");
            Ok(ServiceResponse::new(request, problem.error_response()).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_strictly() {
        assert_eq!(AllowedOrigins::parse(""), Ok(AllowedOrigins::None));
        assert_eq!(AllowedOrigins::parse(" , "), Ok(AllowedOrigins::None));
        assert_eq!(AllowedOrigins::parse("*"), Ok(AllowedOrigins::Any));
        assert_eq!(
            AllowedOrigins::parse("https://Shop.example, http://localhost:3000"),
            Ok(AllowedOrigins::List(vec![
                "https://shop.example".into(),
                "http://localhost:3000".into()
            ]))
        );
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://shop.example/path",
            "https://*.example",
            "*, https://a.example",
            "ftp://a.example",
            "https://",
        ] {
            assert!(AllowedOrigins::parse(bad).is_err(), "{bad}");
        }
    }
}
