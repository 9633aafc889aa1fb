//! The HTTP side of the IETF `Idempotency-Key` draft that order-service and the payment gateway
//! share: reading the header once, and answering with a stored response — the first time and on
//! every replay, byte for byte. What a key is lives in `contract::IdempotencyKey`; what is stored
//! and when is each service's own policy.

use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use contract::{IdempotencyKey, InvalidIdempotencyKey};

use crate::problem::{Problem, CONTENT_TYPE_PROBLEM};

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// `true` on an answer that was stored by an earlier request and is sent again.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

/// Why the `Idempotency-Key` header cannot be used. The message completes a sentence whose
/// subject is the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyHeaderError {
    #[error("is missing")]
    Missing,
    /// Two keys for one request cannot both be honoured.
    #[error("was sent more than once")]
    Repeated,
    #[error("must contain only visible ASCII characters")]
    NotAscii,
    #[error(transparent)]
    Invalid(#[from] InvalidIdempotencyKey),
}

/// The request's key, if it sent one, read with `parse` (the bare form, or the bare-or-quoted
/// header form: each API's choice).
pub fn key_header(
    req: &HttpRequest,
    parse: fn(&str) -> Result<IdempotencyKey, InvalidIdempotencyKey>,
) -> Result<Option<IdempotencyKey>, KeyHeaderError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(KeyHeaderError::Repeated),
        (Some(value), None) => {
            let value = value.to_str().map_err(|_| KeyHeaderError::NotAscii)?;
            Ok(Some(parse(value)?))
        }
    }
}

/// 422 `idempotency-key-reuse`: the key was first sent with another request body, so this
/// request can neither be replayed nor run (the draft's "key reuse" error). `detail` says what
/// to do in the API's own words.
pub fn key_reused(detail: &'static str) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reuse",
        "Idempotency-Key reused with a different request",
    )
    .detail(detail)
}

/// An answer as stored for replay: the status and exact body first sent, and where the created
/// resource lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// A success (the body is the resource as JSON) or an error (the body is problem+json).
    pub status: u16,
    pub body: String,
    /// Sent as `Location` with a success.
    pub location: String,
}

impl StoredAnswer {
    /// The answer as HTTP: the same status, content type and bytes the first time and on every
    /// replay, plus `Idempotent-Replayed: true` when `replayed`. A status that is not one (a
    /// corrupted row) becomes a 500 rather than a panic.
    pub fn response(self, replayed: bool) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        if status.is_success() {
            response
                .insert_header((CONTENT_TYPE, "application/json"))
                .insert_header((LOCATION, self.location));
        } else {
            response.insert_header((CONTENT_TYPE, CONTENT_TYPE_PROBLEM));
        }
        if replayed {
            response.insert_header((IDEMPOTENT_REPLAYED, "true"));
        }
        response.body(self.body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::test::TestRequest;

    use super::*;

    fn header(response: &HttpResponse, name: &str) -> Option<String> {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    #[actix_web::test]
    async fn a_stored_success_is_json_with_its_location() {
        let answer = StoredAnswer {
            status: 201,
            body: "{\"id\":\"ch_1\"}".into(),
            location: "/v1/charges/ch_1".into(),
        };
        let response = answer.clone().response(true);
        assert_eq!(response.status(), 201);
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            header(&response, "location").as_deref(),
            Some("/v1/charges/ch_1")
        );
        assert_eq!(
            header(&response, "idempotent-replayed").as_deref(),
            Some("true")
        );
        assert_eq!(
            to_bytes(response.into_body()).await.unwrap(),
            answer.body.as_bytes()
        );
    }

    #[actix_web::test]
    async fn a_stored_problem_keeps_its_type_and_has_no_location() {
        let response = StoredAnswer {
            status: 402,
            body: "{}".into(),
            location: "/x".into(),
        }
        .response(false);
        assert_eq!(response.status(), 402);
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some(CONTENT_TYPE_PROBLEM)
        );
        assert_eq!(header(&response, "location"), None);
        assert_eq!(header(&response, "idempotent-replayed"), None);
        let corrupted = StoredAnswer {
            status: 42,
            body: String::new(),
            location: String::new(),
        };
        assert_eq!(corrupted.response(false).status(), 500);
    }

    #[test]
    fn the_header_is_read_once_with_the_api_s_parser() {
        let req = TestRequest::default().to_http_request();
        assert_eq!(key_header(&req, IdempotencyKey::parse), Ok(None));
        let req = TestRequest::default()
            .insert_header((IDEMPOTENCY_KEY, "\"k-1\""))
            .to_http_request();
        assert_eq!(
            key_header(&req, IdempotencyKey::parse_header).map(|k| k.map(|k| k.to_string())),
            Ok(Some("k-1".to_owned()))
        );
        assert_eq!(
            key_header(&req, IdempotencyKey::parse).map(|k| k.map(|k| k.to_string())),
            Ok(Some("\"k-1\"".to_owned()))
        );
        let req = TestRequest::default()
            .append_header((IDEMPOTENCY_KEY, "a"))
            .append_header((IDEMPOTENCY_KEY, "b"))
            .to_http_request();
        assert_eq!(
            key_header(&req, IdempotencyKey::parse),
            Err(KeyHeaderError::Repeated)
        );
        let req = TestRequest::default()
            .insert_header((IDEMPOTENCY_KEY, "has space"))
            .to_http_request();
        assert_eq!(
            key_header(&req, IdempotencyKey::parse),
            Err(KeyHeaderError::Invalid(
                InvalidIdempotencyKey::NotVisibleAscii
            ))
        );
    }
}
