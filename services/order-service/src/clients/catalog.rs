//! The catalog, as order-service reads it: one product at a time, parsed at this boundary into
//! the contract's [`Product`] (a negative price or a bad id never gets past here).

use std::time::Duration;

use contract::{Product, ProductId};
use telemetry::TracedClient;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("product {0} does not exist")]
    NotFound(ProductId),
    #[error("the catalog could not be reached")]
    Unreachable(#[source] reqwest::Error),
    #[error("the catalog answered {0}")]
    Status(u16),
    #[error("the catalog's product is unreadable")]
    Unreadable(#[source] reqwest::Error),
}

#[derive(Clone, Debug)]
pub struct CatalogClient {
    http: TracedClient,
    base_url: String,
    timeout: Duration,
}

impl CatalogClient {
    pub fn new(http: TracedClient, base_url: String, timeout: Duration) -> Self {
        Self {
            http,
            base_url,
            timeout,
        }
    }

    /// `GET /api/v1/products/{id}`: a product, or why not. Product ids are URL-safe by
    /// construction, so the id goes into the path as is.
    pub async fn product(&self, id: &ProductId) -> Result<Product, CatalogError> {
        let request = self
            .http
            .inner()
            .get(format!("{}/api/v1/products/{id}", self.base_url))
            .timeout(self.timeout)
            .build()
            .map_err(CatalogError::Unreachable)?;
        let response = self
            .http
            .send(request, "/api/v1/products/{id}")
            .await
            .result
            .map_err(CatalogError::Unreachable)?;
        match response.status().as_u16() {
            200 => response
                .json::<Product>()
                .await
                .map_err(CatalogError::Unreadable),
            404 => Err(CatalogError::NotFound(id.clone())),
            status => Err(CatalogError::Status(status)),
        }
    }
}
