use std::time::Duration;

use serde::Deserialize;
use telemetry::TracedClient;

use crate::domain::ProductId;

#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub price_cents: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("product {0} does not exist")]
    NotFound(String),
    #[error("the catalog is unavailable: {0}")]
    Unavailable(String),
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

    pub async fn product(&self, id: &ProductId) -> Result<Product, CatalogError> {
        let request = self
            .http
            .inner()
            .get(format!("{}/api/v1/products/{}", self.base_url, id.as_ref()))
            .timeout(self.timeout)
            .build()
            .map_err(|e| CatalogError::Unavailable(e.to_string()))?;
        let response = self
            .http
            .send(request, "/api/v1/products/{id}")
            .await
            .result
            .map_err(|e| CatalogError::Unavailable(e.to_string()))?;
        match response.status().as_u16() {
            200 => response
                .json::<Product>()
                .await
                .map_err(|e| CatalogError::Unavailable(format!("unreadable product: {e}"))),
            404 => Err(CatalogError::NotFound(id.as_ref().to_owned())),
            status => Err(CatalogError::Unavailable(format!(
                "catalog answered {status}"
            ))),
        }
    }
}
