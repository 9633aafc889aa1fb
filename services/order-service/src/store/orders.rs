//! The `orders` table: rows in, domain [`Order`]s out. The row type never leaves the store
//! except for tests and operators ([`OrderStore::row`]).

use std::time::{SystemTime, UNIX_EPOCH};

use contract::{Cents, ChargeId, Country, OrderId, PaymentMethod, ProductId};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection};
use serde::{Deserialize, Serialize};

use crate::domain::{CustomerId, Order, OrderLine, OrderStatus, Quantity};

mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub customer: String,
        pub status: String,
        pub country: String,
        pub payment_method: String,
        pub total_cents: i64,
        /// JSON array of `{product_id, name, quantity, unit_price_cents}`: the prices the order
        /// was charged at, frozen when it was placed.
        pub lines: String,
        pub payment_id: Option<String>,
        pub trace_id: Option<String>,
        pub created_at_ms: i64,
        pub updated_at_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An `orders` row as stored (strings and integers).
pub use entity::Model as OrderRecord;

/// One element of the `lines` column.
#[derive(Debug, Serialize, Deserialize)]
struct StoredLine {
    product_id: String,
    name: String,
    quantity: u32,
    unit_price_cents: i64,
}

/// What [`OrderStore::insert_pending`] writes.
pub struct NewOrder<'a> {
    pub id: OrderId,
    pub customer: &'a CustomerId,
    pub country: Country,
    pub payment_method: PaymentMethod,
    pub total: Cents,
    pub lines: &'a [OrderLine],
    pub trace_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Db(#[from] DbErr),
    #[error("stored order lines are not valid JSON")]
    Lines(#[from] serde_json::Error),
    #[error("order row {id:?} is invalid: {field}")]
    InvalidRow {
        id: String,
        field: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

#[derive(Clone, Debug)]
pub struct OrderStore {
    db: DatabaseConnection,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl OrderStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn insert_pending(&self, order: NewOrder<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        let lines: Vec<StoredLine> = order
            .lines
            .iter()
            .map(|l| StoredLine {
                product_id: l.product_id.to_string(),
                name: l.name.clone(),
                quantity: l.quantity.get(),
                unit_price_cents: l.unit_price.get(),
            })
            .collect();
        entity::ActiveModel {
            id: Set(order.id.to_string()),
            customer: Set(order.customer.as_ref().to_owned()),
            status: Set(OrderStatus::Pending.as_str().to_owned()),
            country: Set(order.country.as_str().to_owned()),
            payment_method: Set(order.payment_method.as_str().to_owned()),
            total_cents: Set(order.total.get()),
            lines: Set(serde_json::to_string(&lines)?),
            payment_id: Set(None),
            trace_id: Set(order.trace_id),
            created_at_ms: Set(now),
            updated_at_ms: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    pub async fn settle(
        &self,
        id: OrderId,
        status: OrderStatus,
        payment_id: Option<&ChargeId>,
    ) -> Result<(), StoreError> {
        entity::ActiveModel {
            id: Set(id.to_string()),
            status: Set(status.as_str().to_owned()),
            payment_id: Set(payment_id.map(ToString::to_string)),
            updated_at_ms: Set(now_ms()),
            ..Default::default()
        }
        .update(&self.db)
        .await?;
        Ok(())
    }

    /// The order, only if `customer` placed it: anyone else gets `None`, as if it did not exist.
    pub async fn find_for_customer(
        &self,
        id: OrderId,
        customer: &CustomerId,
    ) -> Result<Option<Order>, StoreError> {
        self.row(&id.to_string(), customer)
            .await?
            .map(order_of)
            .transpose()
    }

    /// The row as stored, only if `customer` placed it (for tests and operators).
    pub async fn row(
        &self,
        id: &str,
        customer: &CustomerId,
    ) -> Result<Option<OrderRecord>, StoreError> {
        Ok(entity::Entity::find_by_id(id.to_owned())
            .filter(entity::Column::Customer.eq(customer.as_ref()))
            .one(&self.db)
            .await?)
    }

    /// The customer's orders declined at or after `since_ms` (for `repeated_declines`).
    pub async fn count_declined_since(
        &self,
        customer: &CustomerId,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        Ok(entity::Entity::find()
            .filter(entity::Column::Customer.eq(customer.as_ref()))
            .filter(entity::Column::Status.eq(OrderStatus::Declined.as_str()))
            .filter(entity::Column::UpdatedAtMs.gte(since_ms))
            .count(&self.db)
            .await?)
    }

    /// The customer's orders of at most `max` placed at or after `since_ms` (for
    /// `card_testing`).
    pub async fn count_small_since(
        &self,
        customer: &CustomerId,
        max: Cents,
        since_ms: i64,
    ) -> Result<u64, StoreError> {
        Ok(entity::Entity::find()
            .filter(entity::Column::Customer.eq(customer.as_ref()))
            .filter(entity::Column::TotalCents.lte(max.get()))
            .filter(entity::Column::CreatedAtMs.gte(since_ms))
            .count(&self.db)
            .await?)
    }

    pub async fn count(&self) -> Result<u64, StoreError> {
        Ok(entity::Entity::find().count(&self.db).await?)
    }
}

/// A row as a domain [`Order`]: every column parsed, so a row this service could not have
/// written is an error, not an order.
fn order_of(row: OrderRecord) -> Result<Order, StoreError> {
    let id = row.id.as_str();
    let stored: Vec<StoredLine> = serde_json::from_str(&row.lines)?;
    let mut lines = Vec::with_capacity(stored.len());
    for l in stored {
        lines.push(OrderLine {
            product_id: column(id, "lines", ProductId::parse(&l.product_id))?,
            name: l.name,
            quantity: column(id, "lines", Quantity::parse(i64::from(l.quantity)))?,
            unit_price: column(id, "lines", Cents::try_from(l.unit_price_cents))?,
        });
    }
    Ok(Order {
        id: column(id, "id", id.parse::<OrderId>())?,
        status: column(id, "status", OrderStatus::parse(&row.status))?,
        country: column(id, "country", Country::parse(&row.country))?,
        payment_method: column(
            id,
            "payment_method",
            PaymentMethod::parse(&row.payment_method),
        )?,
        total: column(id, "total_cents", Cents::try_from(row.total_cents))?,
        lines,
        payment_id: column(
            id,
            "payment_id",
            row.payment_id.as_deref().map(ChargeId::parse).transpose(),
        )?,
        trace_id: row.trace_id,
        created_at_ms: row.created_at_ms,
    })
}

fn column<T, E>(id: &str, field: &'static str, parsed: Result<T, E>) -> Result<T, StoreError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    parsed.map_err(|source| StoreError::InvalidRow {
        id: id.to_owned(),
        field,
        source: Box::new(source),
    })
}
