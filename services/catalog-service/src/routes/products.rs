//! `GET /api/v1/products` and `GET /api/v1/products/{id}`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use contract::ProductId;
use service_kit::problem::ProblemDoc;

use crate::domain::PageRequest;
use crate::error::ApiError;
use crate::store::Catalog;

/// Query parameters as sent; parsed into a [`PageRequest`] so that errors name the parameter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Products per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page; omit for the first page.
    cursor: Option<String>,
}

/// Products in id order, a page at a time. Walk the catalogue by passing each response's
/// `next_cursor` as `cursor` until it is `null`.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    tag = "products",
    params(ListParams),
    responses(
        (status = 200, description = "One page of products", body = contract::ProductPage),
        (status = 422, description = "`limit` out of range or `cursor` not from this API; `errors` lists each field",
         body = ProblemDoc, content_type = "application/problem+json"),
        (status = 500, description = "Database failure", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn list_products(
    catalog: web::Data<Catalog>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let request = PageRequest::parse(params.limit.as_deref(), params.cursor.as_deref())
        .map_err(ApiError::Validation)?;
    let page = catalog.page(&request).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One product. Ids are `[A-Za-z0-9_-]{1,64}`; anything else is simply not found.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "products",
    params(("id" = String, Path, description = "Product id, e.g. `p-0001`", max_length = 64, pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The product", body = contract::ProductJson),
        (status = 404, description = "No product has this id (`type` ends in `product-not-found`)",
         body = ProblemDoc, content_type = "application/problem+json"),
        (status = 500, description = "Database failure", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
pub async fn get_product(
    catalog: web::Data<Catalog>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // A malformed id cannot exist, so it never reaches the cache or the database.
    let id = ProductId::parse(&id).map_err(|_| ApiError::ProductNotFound(None))?;
    match catalog.product(&id).await? {
        Some(product) => Ok(HttpResponse::Ok().json(product)),
        None => Err(ApiError::ProductNotFound(Some(id))),
    }
}
