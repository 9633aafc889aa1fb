//! `POST /v1/charges`, `GET /v1/charges?idempotency_key=`, `GET /v1/charges/{id}`.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use contract::{ChargeJson, ChargeRequest, ChargeRequestJson, IdempotencyKey};
use service_kit::idempotency::{key_header, KeyHeaderError, StoredAnswer};

use crate::error::ApiError;
use crate::gateway::{ChargeReply, Gateway};
use service_kit::problem::ProblemDoc;

use crate::schema::DeclineProblemDoc;

/// The `Idempotency-Key` header, parsed (bare form: the value is the key). Declared before the
/// body in handler arguments, so a missing key is reported (400) before the body is even read.
#[derive(Debug)]
pub struct IdempotencyKeyHeader(pub IdempotencyKey);

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = key_header(req, IdempotencyKey::parse)
            .and_then(|key| key.ok_or(KeyHeaderError::Missing))
            .map(Self)
            .map_err(ApiError::IdempotencyKeyRequired);
        ready(key)
    }
}

/// Create a charge (idempotent per `Idempotency-Key`).
///
/// The first request with a key is processed: simulated provider latency, then an outcome drawn
/// from the current faults. Its answer (201 or 402) is stored; a later request with the same key
/// and the same body gets exactly that answer again with `Idempotent-Replayed: true`. Simulated
/// gateway errors (503) are not stored, so a retry may succeed.
#[utoipa::path(
    post,
    path = "/v1/charges",
    tag = "charges",
    params(
        ("Idempotency-Key" = String, Header, description = "Required. 1-255 visible ASCII characters, unique per charge."),
    ),
    request_body = ChargeRequestJson,
    security(("merchant_key" = [])),
    responses(
        (status = 201, description = "Charged", body = ChargeJson, headers(
            ("Location" = String, description = "/v1/charges/{id}"),
            ("Idempotent-Replayed" = String, description = "`true` when this is a stored answer replayed"),
        )),
        (status = 400, description = "Missing or invalid Idempotency-Key (idempotency-key-required), Authorization sent twice (duplicate-header), or malformed JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "GATEWAY_API_KEY is set and the request lacks it as Authorization: Bearer (unauthorized)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 402, description = "Declined (payment-declined); the declined charge is stored", body = DeclineProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unknown fields (validation), or the key reused with another body (idempotency-key-reuse)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "Simulated gateway error (gateway-error); nothing stored, retry is safe", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn create_charge(
    key: IdempotencyKeyHeader,
    body: web::Json<ChargeRequestJson>,
    gateway: web::Data<Gateway>,
) -> Result<HttpResponse, ApiError> {
    let request = ChargeRequest::try_from(body.into_inner()).map_err(ApiError::InvalidCharge)?;
    let reply = gateway.charge(&key.0, &request).await?;
    Ok(respond(reply))
}

/// The stored answer as HTTP: status and body exactly as first sent.
fn respond(reply: ChargeReply) -> HttpResponse {
    StoredAnswer {
        status: reply.status,
        body: reply.body,
        location: format!("/v1/charges/{}", reply.charge_id),
    }
    .response(reply.replayed)
}

/// Read a charge (succeeded or declined).
#[utoipa::path(
    get,
    path = "/v1/charges/{id}",
    tag = "charges",
    params(("id" = String, Path, description = "Charge id, `ch_…`")),
    security(("merchant_key" = [])),
    responses(
        (status = 200, description = "The charge", body = ChargeJson),
        (status = 400, description = "Authorization sent twice (duplicate-header)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "GATEWAY_API_KEY is set and the request lacks it as Authorization: Bearer (unauthorized)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such charge (not-found)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_charge(
    id: web::Path<String>,
    gateway: web::Data<Gateway>,
) -> Result<HttpResponse, ApiError> {
    match gateway.find(&id).await? {
        Some(charge) => Ok(HttpResponse::Ok().json(charge)),
        None => Err(ApiError::ChargeNotFound(id.into_inner())),
    }
}

/// `?idempotency_key=`: the key a charge was requested with.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChargeLookup {
    /// The `Idempotency-Key` the charge was requested with.
    pub idempotency_key: String,
}

/// Find the charge made under an `Idempotency-Key`.
///
/// How a merchant whose charge request got no usable answer (a timeout, a cut connection)
/// learns what became of it: the charge as `GET /v1/charges/{id}` shows it, or 404 when none was
/// made under the key. A request still being processed has made no charge yet.
#[utoipa::path(
    get,
    path = "/v1/charges",
    tag = "charges",
    params(ChargeLookup),
    responses(
        (status = 200, description = "The charge made under the key (succeeded or declined)", body = ChargeJson),
        (status = 404, description = "No charge under this key (not-found)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Missing, unknown or invalid query parameters (validation)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn find_charge_by_key(
    query: web::Query<ChargeLookup>,
    gateway: web::Data<Gateway>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::parse(&query.idempotency_key).map_err(ApiError::InvalidLookupKey)?;
    match gateway.find_by_key(&key).await? {
        Some(charge) => Ok(HttpResponse::Ok().json(charge)),
        None => Err(ApiError::NoChargeForKey),
    }
}
