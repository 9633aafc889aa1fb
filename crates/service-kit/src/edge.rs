//! How the three services treat a request before any route sees it, the same everywhere:
//! `HEAD` is `GET` without the body, `OPTIONS` and other methods on a known path say what the
//! path allows, a body the services cannot read as sent is refused (415) instead of being read
//! as something else, and a body that does not arrive in time is a 408.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    HeaderValue, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING,
};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};

use crate::problem::Problem;

/// The edge, as one middleware every service wraps its `App` in (innermost, so the telemetry
/// around it sees the request as sent):
///
/// * a body the service would misread ([`unreadable_body`]) → 415;
/// * `HEAD` is routed as the `GET` of the same path — the server still knows it was `HEAD`
///   (actix decided that when it parsed the request) and sends the headers without the body;
/// * a body gets [`BodyTimeout`] to arrive ([`Deadline`]).
pub async fn request_edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(problem) = unreadable_body(&req) {
        let response = problem.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    if has_body(&req) {
        bound_body(&mut req);
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The default service of a resource serving `allow` (e.g. `"GET, HEAD"`): `OPTIONS` → 204
/// with `Allow`, any other method → 405 problem+json with `Allow`.
pub fn other_methods(allow: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        if req.method() == Method::OPTIONS {
            return Ok(HttpResponse::NoContent()
                .insert_header((ALLOW, options_allow(allow)))
                .finish());
        }
        Err(method_not_allowed(req.method(), req.path(), allow))
    })
}

/// `allow` plus `OPTIONS`, which every known path answers.
fn options_allow(allow: &str) -> String {
    format!("{allow}, OPTIONS")
}

/// 405 problem+json with `Allow`.
pub fn method_not_allowed(method: &Method, path: &str, allow: &'static str) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
    )
    .detail(format!("{method} {path} is not served; allowed: {allow}"))
    .header("Allow", options_allow(allow))
}

/// Whether the request announces a body (a length above zero, or chunks).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// A request body the services would misread: a `Content-Encoding` other than `identity` (none
/// of them decompresses, so a gzip body would be parsed as bytes of JSON) or a `charset` other
/// than UTF-8 (JSON here is read as UTF-8 only, RFC 8259 §8.1). Both are 415 problem+json; the
/// encoding refusal carries `Accept-Encoding: identity` (RFC 9110 §15.5.16).
fn unreadable_body(req: &ServiceRequest) -> Option<Problem> {
    if !has_body(req) {
        return None;
    }
    let headers = req.headers();
    let unsupported = || {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The request body is not in a form this service reads",
        )
    };
    for value in headers.get_all(CONTENT_ENCODING) {
        let encodings = value.to_str().unwrap_or("?");
        let other = encodings
            .split(',')
            .map(str::trim)
            .find(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
        if let Some(encoding) = other {
            return Some(
                unsupported()
                    .detail(format!(
                        "Content-Encoding {encoding:?} is not supported; send the body uncompressed"
                    ))
                    .header("Accept-Encoding", "identity"),
            );
        }
    }
    let content_type = headers.get(CONTENT_TYPE).map(HeaderValue::to_str);
    if let Some(charset) = content_type.and_then(Result::ok).and_then(charset) {
        if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
            return Some(unsupported().detail(format!(
                "charset {charset:?} is not supported; send UTF-8 (charset=utf-8, or no charset)"
            )));
        }
    }
    None
}

/// How long a request body may take to arrive once the head is in (`REQUEST_BODY_TIMEOUT`),
/// as app data; [`DEFAULT_BODY_TIMEOUT`] when a service sets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout(pub Duration);

pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Bounds the time the request's body may take: past [`BodyTimeout`] it reads as an I/O error
/// of kind `TimedOut`, which the JSON error handler answers 408 `body-timeout` (closing the
/// connection). Without it, a client trickling a body held the request for the whole request
/// timeout and got a 503, as if the service had failed.
fn bound_body(req: &mut ServiceRequest) {
    let limit = req
        .app_data::<BodyTimeout>()
        .map_or(DEFAULT_BODY_TIMEOUT, |t| t.0);
    let bounded = Deadline {
        inner: req.take_payload(),
        sleep: Box::pin(tokio::time::sleep(limit)),
        limit,
        expired: false,
    };
    req.set_payload(actix_web::dev::Payload::Stream {
        payload: Box::pin(bounded),
    });
}

/// A request body that fails once its deadline has passed.
struct Deadline {
    inner: actix_web::dev::Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
    expired: bool,
}

impl futures_util::Stream for Deadline {
    type Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired = true;
            let message = format!("the body did not arrive within {:?}", self.limit);
            return Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(
                std::io::Error::new(std::io::ErrorKind::TimedOut, message),
            ))));
        }
        Poll::Pending
    }
}

/// The `charset` parameter of a media type, unquoted.
fn charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn refused(headers: &[(&'static str, &str)]) -> Option<u16> {
        let mut req = TestRequest::post();
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        unreadable_body(&req.to_srv_request()).map(|p| p.status().as_u16())
    }

    #[test]
    fn only_identity_utf8_bodies_are_read() {
        let json = ("content-type", "application/json");
        let sized = ("content-length", "12");
        assert_eq!(refused(&[json, sized]), None);
        assert_eq!(
            refused(&[("content-type", "application/json; charset=UTF-8"), sized]),
            None
        );
        assert_eq!(
            refused(&[
                ("content-type", "application/json;charset=\"utf-8\""),
                sized
            ]),
            None
        );
        assert_eq!(
            refused(&[json, sized, ("content-encoding", "identity")]),
            None
        );
        assert_eq!(
            refused(&[json, sized, ("content-encoding", "gzip")]),
            Some(415)
        );
        assert_eq!(
            refused(&[
                json,
                ("transfer-encoding", "chunked"),
                ("content-encoding", "br")
            ]),
            Some(415)
        );
        assert_eq!(
            refused(&[json, sized, ("content-encoding", "identity, gzip")]),
            Some(415)
        );
        assert_eq!(
            refused(&[("content-type", "application/json; charset=utf-16"), sized]),
            Some(415)
        );
        assert_eq!(
            refused(&[("content-type", "application/json; charset=latin1"), sized]),
            Some(415)
        );
        // No body, nothing to misread.
        assert_eq!(refused(&[("content-encoding", "gzip")]), None);
        assert_eq!(
            refused(&[("content-encoding", "gzip"), ("content-length", "0")]),
            None
        );
    }
}
