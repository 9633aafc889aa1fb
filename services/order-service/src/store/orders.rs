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
        pub span_id: Option<String>,
        pub reconcile_attempts: i32,
        pub reconcile_after_ms: Option<i64>,
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
    /// The checkout's trace and span, when sampled: what a later reconciliation links to.
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
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

impl StoreError {
    /// The database could not be reached or dropped the connection: a retry may succeed once
    /// it is back (503 with `Retry-After`, not 500).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Db(e) if service_kit::db::is_unavailable(e))
    }
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
            span_id: Set(order.span_id),
            reconcile_attempts: Set(0),
            reconcile_after_ms: Set(None),
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

    /// Orders the reconciler may look at now: every `payment_unknown` one and each `pending` one
    /// written before `pending_before_ms`, unless an earlier attempt said to wait until after
    /// `now_ms`. Oldest first, at most `limit`.
    pub async fn unsettled_due(
        &self,
        now_ms: i64,
        pending_before_ms: i64,
        limit: u64,
    ) -> Result<Vec<Order>, StoreError> {
        use sea_orm::{Condition, QueryOrder, QuerySelect};
        let rows = entity::Entity::find()
            .filter(
                Condition::any()
                    .add(entity::Column::Status.eq(OrderStatus::PaymentUnknown.as_str()))
                    .add(
                        Condition::all()
                            .add(entity::Column::Status.eq(OrderStatus::Pending.as_str()))
                            .add(entity::Column::CreatedAtMs.lt(pending_before_ms)),
                    ),
            )
            .filter(
                Condition::any()
                    .add(entity::Column::ReconcileAfterMs.is_null())
                    .add(entity::Column::ReconcileAfterMs.lte(now_ms)),
            )
            .order_by_asc(entity::Column::CreatedAtMs)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.into_iter().map(order_of).collect()
    }

    /// Settles an order the reconciler found still unsettled. `false` when it no longer is (a
    /// checkout retry settled it meanwhile): the newer word stands.
    pub async fn settle_unsettled(
        &self,
        id: OrderId,
        status: OrderStatus,
        payment_id: Option<&ChargeId>,
    ) -> Result<bool, StoreError> {
        use sea_orm::sea_query::Expr;
        let result = entity::Entity::update_many()
            .col_expr(entity::Column::Status, Expr::value(status.as_str()))
            .col_expr(
                entity::Column::PaymentId,
                Expr::value(payment_id.map(ToString::to_string)),
            )
            .col_expr(entity::Column::UpdatedAtMs, Expr::value(now_ms()))
            .col_expr(entity::Column::ReconcileAfterMs, Expr::value(None::<i64>))
            .filter(entity::Column::Id.eq(id.to_string()))
            .filter(entity::Column::Status.is_in(unsettled()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Records an attempt that learnt nothing: the count, and not to ask again before
    /// `after_ms`. Leaves `updated_at_ms` alone (that is the checkout's last write).
    pub async fn record_attempt(
        &self,
        id: OrderId,
        attempts: u32,
        after_ms: i64,
    ) -> Result<(), StoreError> {
        use sea_orm::sea_query::Expr;
        entity::Entity::update_many()
            .col_expr(
                entity::Column::ReconcileAttempts,
                Expr::value(i32::try_from(attempts).unwrap_or(i32::MAX)),
            )
            .col_expr(entity::Column::ReconcileAfterMs, Expr::value(after_ms))
            .filter(entity::Column::Id.eq(id.to_string()))
            .filter(entity::Column::Status.is_in(unsettled()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Unsettled orders (`pending` or `payment_unknown`) written at or after `from_ms` and, if
    /// given, before `to_ms`.
    pub async fn count_unsettled_created(
        &self,
        from_ms: i64,
        to_ms: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut query = entity::Entity::find()
            .filter(entity::Column::Status.is_in(unsettled()))
            .filter(entity::Column::CreatedAtMs.gte(from_ms));
        if let Some(to) = to_ms {
            query = query.filter(entity::Column::CreatedAtMs.lt(to));
        }
        Ok(query.count(&self.db).await?)
    }

    pub async fn count(&self) -> Result<u64, StoreError> {
        Ok(entity::Entity::find().count(&self.db).await?)
    }
}

fn unsettled() -> [&'static str; 2] {
    [
        OrderStatus::Pending.as_str(),
        OrderStatus::PaymentUnknown.as_str(),
    ]
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
        span_id: row.span_id,
        created_at_ms: row.created_at_ms,
        updated_at_ms: row.updated_at_ms,
        reconcile_attempts: u32::try_from(row.reconcile_attempts).unwrap_or(0),
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
