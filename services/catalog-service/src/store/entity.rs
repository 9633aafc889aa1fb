//! The `products` table.

use sea_orm::entity::prelude::*;

use contract::{Cents, InvalidProductId, NegativeCents, Product, ProductId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub category: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub price_cents: i64,
    pub stock: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A row the catalog cannot serve (the schema's checks should make this impossible).
#[derive(Debug, thiserror::Error)]
pub enum InvalidRow {
    #[error("products row {id:?} has an invalid id")]
    Id {
        id: String,
        #[source]
        source: InvalidProductId,
    },
    #[error("products row {id:?} has an invalid price")]
    Price {
        id: String,
        #[source]
        source: NegativeCents,
    },
    #[error("products row {id:?} has a negative stock ({stock})")]
    Stock { id: String, stock: i32 },
}

impl Model {
    /// The product this row holds.
    pub fn product(self) -> Result<Product, InvalidRow> {
        let id = ProductId::parse(&self.id).map_err(|source| InvalidRow::Id {
            id: self.id.clone(),
            source,
        })?;
        let price = Cents::try_from(self.price_cents).map_err(|source| InvalidRow::Price {
            id: self.id.clone(),
            source,
        })?;
        let stock = u32::try_from(self.stock).map_err(|_| InvalidRow::Stock {
            id: self.id.clone(),
            stock: self.stock,
        })?;
        Ok(Product {
            id,
            name: self.name,
            category: self.category,
            description: self.description,
            price,
            stock,
        })
    }
}
