//! RFC 9457 problem details.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::{Map, Value};

/// Base of every problem `type`: `{PROBLEM_BASE}{slug}`. Stable: clients may match on it.
pub const PROBLEM_BASE: &str = "https://webstore.example/problems/";
pub const CONTENT_TYPE_PROBLEM: &str = "application/problem+json";

/// An error response. Build with [`Problem::new`], add detail and extension members, return it
/// from a handler (it is a `ResponseError`).
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: Option<String>,
    extensions: Map<String, Value>,
    headers: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Self {
        Self {
            status,
            slug,
            title,
            detail: None,
            extensions: Map::new(),
            headers: Vec::new(),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// An extension member (`order_id`, `errors`, …).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// Every member of `members` as an extension member: a typed set of extension members
    /// (such as a decline's `charge_id` and `decline_code`) that a client reads back with the
    /// same type. `members` must serialize to a JSON object; anything else is logged as a bug
    /// and adds nothing.
    pub fn with_members(mut self, members: &impl serde::Serialize) -> Self {
        match serde_json::to_value(members) {
            Ok(Value::Object(members)) => self.extensions.extend(members),
            other => tracing::error!(
                value = ?other,
                "problem extension members are not a JSON object; left out"
            ),
        }
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn type_uri(&self) -> String {
        format!("{PROBLEM_BASE}{}", self.slug)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(detail)
    }

    /// A 500 whose cause is logged (with the trace id) but never sent to the client.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
    }

    /// One invalid field: `{"field": "...", "message": "..."}` in the `errors` member.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request is not valid",
        )
        .detail(detail)
        .with(
            "errors",
            serde_json::to_value(&errors).unwrap_or(Value::Null),
        )
    }

    /// The body exactly as [`ResponseError::error_response`] sends it, for a caller that stores
    /// the answer to replay it later. The `trace_id` member is the current span's.
    pub fn body_text(&self) -> String {
        self.body().to_string()
    }

    fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), self.type_uri().into());
        body.insert("title".into(), self.title.into());
        body.insert("status".into(), self.status.as_u16().into());
        if let Some(d) = &self.detail {
            body.insert("detail".into(), d.clone().into());
        }
        if let Some(ids) = telemetry::SpanIds::current() {
            body.insert("trace_id".into(), ids.trace_id().to_string().into());
        }
        for (k, v) in &self.extensions {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

/// One offending field, listed in a validation problem.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The body field or query parameter, e.g. `items[0].quantity` or `limit`.
    pub field: String,
    pub message: String,
}

/// The body of every [`Problem`], for OpenAPI documents (documentation only: [`Problem`]
/// builds the real one). Problems add their own extension members, listed where they are
/// answered.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc {
    /// Stable URI, `https://webstore.example/problems/{slug}`.
    #[schema(example = "https://webstore.example/problems/validation")]
    pub r#type: String,
    #[schema(example = "The request is not valid")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: Option<String>,
    /// The trace of the request, when it was sampled.
    pub trace_id: Option<String>,
    /// Validation problems only: every offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.status)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((CONTENT_TYPE, CONTENT_TYPE_PROBLEM));
        for (name, value) in &self.headers {
            res.insert_header((*name, value.as_str()));
        }
        res.body(self.body_text())
    }
}

/// Malformed JSON → 400, wrong content type → 415, too large → 413, well-formed JSON that does
/// not fit the schema (wrong type, unknown or missing field) → 422.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let problem = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The request body is too large",
            )
            .detail(err.to_string())
        }
        JsonPayloadError::Payload(e) if is_body_timeout(e) => Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "The request body did not arrive in time",
        )
        .detail(format!("{e}; send the whole body promptly"))
        .header("Connection", "close"),
        JsonPayloadError::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send the body as application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            Problem::validation(vec![FieldError::new(
                "body",
                crate::json::describe_error(&e.to_string()),
            )])
        }
        JsonPayloadError::Deserialize(e) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
        )
        .detail(crate::json::describe_error(&e.to_string())),
        other => Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request body could not be read",
        )
        .detail(other.to_string()),
    };
    problem.into()
}

/// The error a body reads as once `edge`'s deadline has passed: an I/O error of kind
/// `TimedOut` (actix's own payload errors never are).
fn is_body_timeout(error: &actix_web::error::PayloadError) -> bool {
    matches!(error, actix_web::error::PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
        .detail(err.to_string())
        .into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    Problem::validation(vec![FieldError::new(
        "query",
        crate::json::describe_error(&err.to_string()),
    )])
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn problem_renders_rfc9457_json() {
        let p = Problem::new(
            StatusCode::PAYMENT_REQUIRED,
            "payment-declined",
            "Payment declined",
        )
        .detail("card declined")
        .with("order_id", "o-1")
        .header("Retry-After", "1");
        let res = p.error_response();
        assert_eq!(res.status(), 402);
        assert_eq!(
            res.headers().get(CONTENT_TYPE).unwrap(),
            CONTENT_TYPE_PROBLEM
        );
        assert_eq!(res.headers().get("retry-after").unwrap(), "1");
        let body: Value =
            serde_json::from_slice(&to_bytes(res.into_body()).await.unwrap()).unwrap();
        assert_eq!(
            body["type"],
            "https://webstore.example/problems/payment-declined"
        );
        assert_eq!(body["status"], 402);
        assert_eq!(body["order_id"], "o-1");
        assert_eq!(body["detail"], "card declined");
    }

    #[derive(serde::Serialize)]
    struct Decline {
        charge_id: &'static str,
        decline_code: &'static str,
    }

    #[actix_web::test]
    async fn typed_members_and_the_stored_body_match_the_response() {
        let p = Problem::new(
            StatusCode::PAYMENT_REQUIRED,
            "payment-declined",
            "Payment declined",
        )
        .with_members(&Decline {
            charge_id: "ch_1",
            decline_code: "card_declined",
        })
        .with_members(&"not an object");
        let stored = p.body_text();
        let sent = to_bytes(p.error_response().into_body()).await.unwrap();
        assert_eq!(stored.as_bytes(), &sent[..]);
        let body: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(body["charge_id"], "ch_1");
        assert_eq!(body["decline_code"], "card_declined");
    }
}
