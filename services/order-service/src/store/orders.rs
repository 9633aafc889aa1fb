//! The `orders` table.

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection};
use serde::{Deserialize, Serialize};

use crate::domain::{Cents, CustomerId};

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

pub use entity::Model as OrderRecord;

/// The order statuses of the design's outcome table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Written, gateway not answered yet.
    Pending,
    Paid,
    Declined,
    PaymentFailed,
    PaymentUnknown,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Declined => "declined",
            Self::PaymentFailed => "payment_failed",
            Self::PaymentUnknown => "payment_unknown",
        }
    }
}

/// A priced line as stored with the order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PricedLine {
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price_cents: i64,
}

pub struct NewOrder<'a> {
    pub id: Uuid,
    pub customer: &'a CustomerId,
    pub country: &'a str,
    pub payment_method: &'a str,
    pub total: Cents,
    pub lines: &'a [PricedLine],
    pub trace_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Db(#[from] DbErr),
    #[error("stored order lines are not valid JSON")]
    Lines(#[from] serde_json::Error),
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
        entity::ActiveModel {
            id: Set(order.id.to_string()),
            customer: Set(order.customer.as_ref().to_owned()),
            status: Set(OrderStatus::Pending.as_str().to_owned()),
            country: Set(order.country.to_owned()),
            payment_method: Set(order.payment_method.to_owned()),
            total_cents: Set(order.total.get()),
            lines: Set(serde_json::to_string(order.lines)?),
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
        id: Uuid,
        status: OrderStatus,
        payment_id: Option<&str>,
    ) -> Result<(), StoreError> {
        entity::ActiveModel {
            id: Set(id.to_string()),
            status: Set(status.as_str().to_owned()),
            payment_id: Set(payment_id.map(str::to_owned)),
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

    pub fn lines_of(record: &OrderRecord) -> Result<Vec<PricedLine>, StoreError> {
        Ok(serde_json::from_str(&record.lines)?)
    }
}
