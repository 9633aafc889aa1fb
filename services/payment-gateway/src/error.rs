//! The crate's one error type and its problem+json mapping (the only place that chooses
//! statuses and `type` slugs for errors).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use service_kit::problem::FieldError;
use service_kit::Problem;

/// `realm` for `WWW-Authenticate`.
const REALM: &str = "payment-gateway";

#[derive(thiserror::Error)]
pub enum ApiError {
    /// Missing or malformed `Idempotency-Key` header → 400 `idempotency-key-required`.
    #[error("the Idempotency-Key header {0}")]
    IdempotencyKeyRequired(String),
    /// Fields that do not validate → 422 `validation`.
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    /// The key was used before with another request → 422 `idempotency-key-reuse`.
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReuse,
    /// A simulated provider failure → 503 `gateway-error`. Nothing was stored.
    #[error("simulated gateway error")]
    GatewayError,
    #[error("no charge {0}")]
    ChargeNotFound(String),
    /// → 401 with `WWW-Authenticate: Bearer`.
    #[error("the admin API needs Authorization: Bearer <ADMIN_TOKEN>")]
    MissingToken,
    #[error("the admin token is not valid")]
    InvalidToken,
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
            Self::Validation(errors) => Problem::validation(errors.clone()),
            Self::IdempotencyKeyReuse => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reuse",
                "Idempotency-Key reused with a different request",
            )
            .detail("this Idempotency-Key belongs to a charge with a different request body; use a new key for a new charge"),
            Self::GatewayError => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway-error",
                "The payment gateway failed to process the charge",
            )
            .detail("no charge was made; retrying with the same Idempotency-Key is safe")
            .header("Retry-After", "1"),
            Self::ChargeNotFound(id) => Problem::not_found(format!("no charge with id {id:?}")),
            Self::MissingToken => unauthorized(format!("Bearer realm=\"{REALM}\""))
                .detail("send Authorization: Bearer <ADMIN_TOKEN>"),
            Self::InvalidToken => {
                unauthorized(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\"")).detail("the bearer token is not valid")
            }
            Self::Database(e) => Problem::internal(e),
            Self::Unexpected(e) => Problem::internal(e.as_ref()),
        }
    }
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
        match self {
            Self::IdempotencyKeyRequired(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::IdempotencyKeyReuse => StatusCode::UNPROCESSABLE_ENTITY,
            Self::GatewayError => StatusCode::SERVICE_UNAVAILABLE,
            Self::ChargeNotFound(_) => StatusCode::NOT_FOUND,
            Self::MissingToken | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Database(_) | Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_agree_with_the_rendered_problem() {
        for e in [
            ApiError::IdempotencyKeyRequired("is missing".into()),
            ApiError::Validation(vec![FieldError::new("amount_cents", "too small")]),
            ApiError::IdempotencyKeyReuse,
            ApiError::GatewayError,
            ApiError::ChargeNotFound("ch_x".into()),
            ApiError::MissingToken,
            ApiError::InvalidToken,
            ApiError::Unexpected(anyhow::anyhow!("boom")),
        ] {
            assert_eq!(e.status_code(), e.problem().status(), "{e}");
        }
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
