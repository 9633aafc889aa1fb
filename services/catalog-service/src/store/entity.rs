//! The `products` table.

use sea_orm::entity::prelude::*;

use crate::domain::{Cents, Product, ProductId};

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

/// A row the domain cannot represent (the schema's checks should make this impossible).
#[derive(Debug, thiserror::Error)]
#[error("products row {id:?} is invalid: {reason}")]
pub struct InvalidRow {
    pub id: String,
    pub reason: String,
}

impl TryFrom<Model> for Product {
    type Error = InvalidRow;

    fn try_from(row: Model) -> Result<Self, Self::Error> {
        let invalid = |reason: String| InvalidRow {
            id: row.id.clone(),
            reason,
        };
        let id = ProductId::parse(&row.id).map_err(|e| invalid(e.to_string()))?;
        let price =
            Cents::new(row.price_cents).ok_or_else(|| invalid("negative price_cents".into()))?;
        let stock = u32::try_from(row.stock).map_err(|_| invalid("negative stock".into()))?;
        Ok(Product {
            id,
            name: row.name,
            category: row.category,
            description: row.description,
            price,
            stock,
        })
    }
}
