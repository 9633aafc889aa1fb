//! The one error type of the HTTP edge, and how each case becomes problem+json.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use service_kit::problem::FieldError;
use service_kit::Problem;

use contract::ProductId;

use crate::domain::InvalidQuery;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `Some` when the id was well-formed; a malformed id is echoed nowhere.
    #[error("no such product")]
    ProductNotFound(Option<ProductId>),
    #[error("invalid query parameters")]
    Validation(Vec<InvalidQuery>),
    #[error("the catalog could not be read")]
    Store(#[from] StoreError),
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        match self {
            Self::ProductNotFound(id) => {
                let problem = Problem::new(
                    StatusCode::NOT_FOUND,
                    "product-not-found",
                    "Product not found",
                );
                match id {
                    Some(id) => problem
                        .detail(format!("no product with id {id}"))
                        .with("product_id", id.as_str()),
                    None => problem.detail("no product has this id"),
                }
            }
            Self::Validation(errors) => Problem::validation(
                errors
                    .iter()
                    .map(|e| FieldError::new(e.field(), e.to_string()))
                    .collect(),
            ),
            // Logged (with its cause chain and trace id) by `Problem::internal`, never sent.
            Self::Store(e) => Problem::internal(e),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::ProductNotFound(_) => StatusCode::NOT_FOUND,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
