//! Pricing a checkout from the catalog. Prices never come from the client.

use std::collections::HashMap;

use contract::ProductId;
use futures_util::future::join_all;

use super::outcome::CheckoutError;
use crate::clients::{CatalogClient, CatalogError};
use crate::domain::{CheckoutRequest, OrderLine};

/// Every line of `checkout` with its unit price, in order. Distinct products are looked up
/// once each, concurrently; every unknown product is reported, not just the first.
pub async fn price(
    catalog: &CatalogClient,
    checkout: &CheckoutRequest,
) -> Result<Vec<OrderLine>, CheckoutError> {
    let mut ids: Vec<&ProductId> = checkout.lines.iter().map(|l| &l.product_id).collect();
    ids.sort();
    ids.dedup();
    let found = join_all(ids.iter().map(|id| catalog.product(id))).await;
    let mut unknown = Vec::new();
    let mut products = HashMap::new();
    for (id, result) in ids.into_iter().zip(found) {
        match result {
            Ok(product) => {
                products.insert(id, product);
            }
            Err(CatalogError::NotFound(id)) => unknown.push(id),
            Err(e) => return Err(CheckoutError::CatalogUnavailable(e)),
        }
    }
    if !unknown.is_empty() {
        return Err(CheckoutError::UnknownProducts(unknown));
    }
    Ok(checkout
        .lines
        .iter()
        .filter_map(|line| {
            products.get(&line.product_id).map(|p| OrderLine {
                product_id: line.product_id.clone(),
                name: p.name.clone(),
                quantity: line.quantity,
                unit_price: p.price,
            })
        })
        .collect())
}
