//! Merchant authentication around `/v1/*`: `Authorization: Bearer <GATEWAY_API_KEY>`, compared
//! in constant time (only digests are compared), before routing and before the body is read.
//! Without a configured key (allowed on a loopback address only) every call passes.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};
use service_kit::authorization::bearer_token;

use crate::config::MerchantKey;
use crate::error::ApiError;

pub async fn require_merchant_key(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = match req.app_data::<web::Data<MerchantKey>>() {
        None => None,
        Some(key) => match bearer_token(req.headers()) {
            Err(repeated) => Some(ApiError::from(repeated)),
            Ok(None) => Some(ApiError::MissingMerchantKey),
            Ok(Some(token)) if key.verify(token) => None,
            Ok(Some(_)) => Some(ApiError::InvalidMerchantKey),
        },
    };
    match refusal {
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Some(error) => {
            tracing::warn!(error = %error, "charges API: request refused");
            let response = error.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}
