//! The crate's one error type and its problem+json mapping: the only place that chooses
//! statuses and `type` slugs for errors, the stored 402 of a decline included.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use contract::{DeclineDetails, InvalidChargeRequest};
use service_kit::authorization::RepeatedAuthorization;
use service_kit::idempotency::{self, KeyHeaderError};
use service_kit::problem::FieldError;
use service_kit::Problem;

use crate::domain::InvalidFault;

/// `realm` for `WWW-Authenticate`.
const REALM: &str = "payment-gateway";

#[derive(thiserror::Error)]
pub enum ApiError {
    /// Missing or malformed `Idempotency-Key` header → 400 `idempotency-key-required`.
    #[error("the Idempotency-Key header {0}")]
    IdempotencyKeyRequired(KeyHeaderError),
    /// A charge body whose members do not validate → 422 `validation`, every member listed.
    #[error("the charge request is not valid: {0}")]
    InvalidCharge(InvalidChargeRequest),
    /// A faults patch out of range → 422 `validation`, every field listed.
    #[error("the faults are not valid")]
    InvalidFaults(Vec<InvalidFault>),
    /// The key was used before with another request → 422 `idempotency-key-reuse`.
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReuse,
    /// A simulated provider failure → 503 `gateway-error`. Nothing was stored.
    #[error("simulated gateway error")]
    GatewayError,
    #[error("no charge {0}")]
    ChargeNotFound(String),
    /// `GET /v1/charges?idempotency_key=` with a key no charge can have → 422 `validation`.
    #[error("invalid idempotency_key: {0}")]
    InvalidLookupKey(contract::InvalidIdempotencyKey),
    /// No charge was made under the key → 404.
    #[error("no charge under this Idempotency-Key")]
    NoChargeForKey,
    /// → 401 with `WWW-Authenticate: Bearer`.
    #[error("the admin API needs Authorization: Bearer <ADMIN_TOKEN>")]
    MissingToken,
    #[error("the admin token is not valid")]
    InvalidToken,
    /// Too many wrong admin tokens in the last second → 429 with `Retry-After`.
    #[error("too many failed admin authentications; retry after {0} s")]
    AdminThrottled(u64),
    /// `/v1/*` without the merchant key → 401 with `WWW-Authenticate: Bearer`.
    #[error("the charges API needs Authorization: Bearer <merchant key>")]
    MissingMerchantKey,
    #[error("the merchant key is not valid")]
    InvalidMerchantKey,
    /// `Authorization` sent more than once → 400: which one counts would be a guess.
    #[error(transparent)]
    RepeatedAuthorization(#[from] RepeatedAuthorization),
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl std::fmt::Debug for ApiError {
    /// The whole cause chain, so that a logged 500 says why.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        match self {
            Self::IdempotencyKeyRequired(why) => Problem::new(
                StatusCode::BAD_REQUEST,
                "idempotency-key-required",
                "An Idempotency-Key header is required",
            )
            .detail(format!("Idempotency-Key {why}; send 1-255 visible ASCII characters, unique per charge")),
            Self::InvalidCharge(invalid) => Problem::validation(
                invalid
                    .0
                    .iter()
                    .map(|e| FieldError::new(e.field(), e.to_string()))
                    .collect(),
            ),
            Self::InvalidFaults(errors) => Problem::validation(
                errors
                    .iter()
                    .map(|e| FieldError::new(e.field(), e.to_string()))
                    .collect(),
            ),
            Self::IdempotencyKeyReuse => idempotency::key_reused("this Idempotency-Key belongs to a charge with a different request body; use a new key for a new charge"),
            Self::GatewayError => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway-error",
                "The payment gateway failed to process the charge",
            )
            .detail("no charge was made; retrying with the same Idempotency-Key is safe")
            .header("Retry-After", "1"),
            Self::ChargeNotFound(id) => Problem::not_found(format!("no charge with id {id:?}")),
            Self::InvalidLookupKey(e) => Problem::validation(vec![FieldError::new(
                "idempotency_key",
                format!("the key {e}"),
            )]),
            Self::NoChargeForKey => Problem::not_found(
                "no charge was made under this Idempotency-Key (a request still being processed is not one yet)",
            ),
            Self::MissingToken => unauthorized(format!("Bearer realm=\"{REALM}\""))
                .detail("send Authorization: Bearer <ADMIN_TOKEN>"),
            Self::InvalidToken => {
                unauthorized(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\"")).detail("the bearer token is not valid")
            }
            Self::AdminThrottled(retry_after) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            )
            .detail(self.to_string())
            .header("Retry-After", retry_after.to_string()),
            Self::MissingMerchantKey => unauthorized(format!("Bearer realm=\"{REALM}\""))
                .detail("send the merchant key as Authorization: Bearer <key>"),
            Self::InvalidMerchantKey => {
                unauthorized(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\"")).detail("the merchant key is not valid")
            }
            Self::RepeatedAuthorization(_) => Problem::new(
                StatusCode::BAD_REQUEST,
                "duplicate-header",
                "A header was sent more than once",
            )
            .detail(self.to_string()),
            // Nothing was stored: the caller may retry once the database is back.
            Self::Database(e) if service_kit::db::is_unavailable(e) => {
                tracing::warn!(error = e as &dyn std::error::Error, "the charges database is unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "The gateway's database is unavailable; nothing was charged",
                )
                .header("Retry-After", "2")
            }
            Self::Database(e) => Problem::internal(e),
            Self::Unexpected(e) => Problem::internal(e.as_ref()),
        }
    }
}

/// The 402 `payment-declined` answer, rendered once by the gateway and stored with the declined
/// charge, so that every replay is byte-identical. Same shape as every other problem (including
/// the `trace_id` of the request that was declined), plus [`DeclineDetails`].
pub fn decline_problem(details: &DeclineDetails) -> Problem {
    Problem::new(
        StatusCode::PAYMENT_REQUIRED,
        "payment-declined",
        "Payment declined",
    )
    .detail(format!(
        "the issuer declined the charge ({})",
        details.decline_code
    ))
    .with_members(details)
}

fn unauthorized(challenge: String) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Authentication required",
    )
    .header("WWW-Authenticate", challenge)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status()
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}

#[cfg(test)]
mod tests {
    use contract::{ChargeId, DeclineCode};

    use super::*;

    #[test]
    fn statuses_agree_with_the_rendered_problem() {
        for e in [
            ApiError::IdempotencyKeyRequired(KeyHeaderError::Missing),
            ApiError::InvalidFaults(vec![InvalidFault::LatencyMs(600_001)]),
            ApiError::IdempotencyKeyReuse,
            ApiError::GatewayError,
            ApiError::ChargeNotFound("ch_x".into()),
            ApiError::NoChargeForKey,
            ApiError::MissingToken,
            ApiError::InvalidToken,
            ApiError::AdminThrottled(1),
            ApiError::MissingMerchantKey,
            ApiError::InvalidMerchantKey,
            ApiError::RepeatedAuthorization(RepeatedAuthorization(2)),
            ApiError::Unexpected(anyhow::anyhow!("boom")),
        ] {
            assert_eq!(e.status_code(), e.problem().status(), "{e}");
        }
    }

    #[test]
    fn the_decline_problem_carries_its_details() {
        let details = DeclineDetails {
            charge_id: ChargeId::parse("ch_1").unwrap(),
            decline_code: DeclineCode::DoNotHonor,
        };
        let body: serde_json::Value =
            serde_json::from_str(&decline_problem(&details).body_text()).unwrap();
        assert_eq!(body["status"], 402);
        assert_eq!(
            body["type"],
            "https://webstore.example/problems/payment-declined"
        );
        assert_eq!(
            serde_json::from_value::<DeclineDetails>(body).unwrap(),
            details
        );
    }

    #[test]
    fn debug_shows_the_cause_chain() {
        let e = ApiError::Unexpected(anyhow::anyhow!("disk full").context("storing the charge"));
        let text = format!("{e:?}");
        assert!(
            text.contains("storing the charge") && text.contains("disk full"),
            "{text}"
        );
    }
}
