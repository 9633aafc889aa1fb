//! The `idempotency_keys` table: one row per (customer, key).
//!
//! **Invariant:** the primary key (customer, key) is what makes a second concurrent request
//! lose. Code never checks-then-inserts and trusts the check; it inserts with `ON CONFLICT DO
//! NOTHING` and treats "no row inserted" as "someone else holds this key".
//!
//! A row is `in_progress` while a request works on it and `done` once its response is stored.
//! An `in_progress` row is *locked* until `locked_until_ms`; a request that ends without a
//! storable answer (payment outcome unknown, gateway failure, a dead process) releases or
//! outlives the lock, and a retry with the same key then claims the row again — keeping its
//! `order_id`, so the gateway sees the same order-derived key and charges at most once.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use contract::{IdempotencyKey, OrderId};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, SqlErr,
};
use uuid::Uuid;

use super::orders::now_ms;
use crate::domain::CustomerId;

pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// SHA-256 (hex) of the parsed request; see `domain::fingerprint`.
        pub request_hash: String,
        /// `in_progress` or `done`.
        pub state: String,
        /// Reserved when the key is first seen, before anything is charged.
        pub order_id: String,
        pub response_status: Option<i32>,
        #[sea_orm(column_type = "Text", nullable)]
        pub response_body: Option<String>,
        pub created_at_ms: i64,
        pub expires_at_ms: i64,
        /// While `in_progress`: the lock of the request working on it; 0 = released.
        pub locked_until_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

pub const IN_PROGRESS: &str = "in_progress";
pub const DONE: &str = "done";

/// What a request holding a key owns: the order it works on, and its lock (to prove ownership
/// when it stores or releases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub order_id: OrderId,
    /// `false` when the row was taken over from an earlier attempt: the order may exist.
    pub first_attempt: bool,
    lock: i64,
}

/// The stored answer of a finished request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub order_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request runs the checkout.
    Acquired(Held),
    /// Finished before: answer the stored response again.
    Replay(StoredResponse),
    /// The key was used with another request body.
    Mismatch,
    /// Another request with this key is running right now.
    InProgress,
}

#[derive(Debug)]
pub struct IdempotencyStore {
    db: DatabaseConnection,
    ttl: Duration,
    lock: Duration,
    last_purge_ms: AtomicI64,
}

/// Expired rows are deleted at most this often (by whichever request comes first).
const PURGE_EVERY_MS: i64 = 60_000;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl IdempotencyStore {
    /// `ttl`: how long a key is remembered. `lock`: how long one attempt may hold a key before
    /// a retry may take it over — longer than any attempt can take (catalog + payment timeouts
    /// and margin), so it only ever frees keys of requests that died.
    pub fn new(db: DatabaseConnection, ttl: Duration, lock: Duration) -> Self {
        Self {
            db,
            ttl,
            lock,
            last_purge_ms: AtomicI64::new(0),
        }
    }

    /// Claims `key` for this request, or says why not. Safe under any concurrency, across
    /// processes sharing the database.
    pub async fn claim(
        &self,
        customer: &CustomerId,
        key: &IdempotencyKey,
        request_hash: &str,
    ) -> Result<Claim, DbErr> {
        self.purge_expired().await;
        // Each pass either decides or removes one obstacle (an expired row); two are enough
        // unless the key is being expired and re-created concurrently, which a third settles.
        for _ in 0..3 {
            let now = now_ms();
            let order_id = OrderId::from_uuid(Uuid::now_v7());
            let lock = now.saturating_add(millis(self.lock));
            let row = entity::ActiveModel {
                customer: Set(customer.as_ref().to_owned()),
                key: Set(key.as_ref().to_owned()),
                request_hash: Set(request_hash.to_owned()),
                state: Set(IN_PROGRESS.to_owned()),
                order_id: Set(order_id.to_string()),
                response_status: Set(None),
                response_body: Set(None),
                created_at_ms: Set(now),
                expires_at_ms: Set(now.saturating_add(millis(self.ttl))),
                locked_until_ms: Set(lock),
            };
            let inserted = match Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([Column::Customer, Column::Key])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await
            {
                Ok(rows) => rows,
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => 0,
                Err(e) => return Err(e),
            };
            if inserted > 0 {
                return Ok(Claim::Acquired(Held {
                    order_id,
                    first_attempt: true,
                    lock,
                }));
            }
            let Some(existing) =
                Entity::find_by_id((customer.as_ref().to_owned(), key.as_ref().to_owned()))
                    .one(&self.db)
                    .await?
            else {
                continue;
            };
            if existing.expires_at_ms <= now {
                Entity::delete_many()
                    .filter(Column::Customer.eq(&existing.customer))
                    .filter(Column::Key.eq(&existing.key))
                    .filter(Column::ExpiresAtMs.eq(existing.expires_at_ms))
                    .exec(&self.db)
                    .await?;
                continue;
            }
            if existing.request_hash != request_hash {
                return Ok(Claim::Mismatch);
            }
            if existing.state == DONE {
                return Ok(Claim::Replay(StoredResponse {
                    status: existing
                        .response_status
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(500),
                    body: existing.response_body.unwrap_or_default(),
                    order_id: existing.order_id,
                }));
            }
            if existing.locked_until_ms > now {
                return Ok(Claim::InProgress);
            }
            // Released (or its holder died): take it over, compare-and-set on the old lock so
            // that of two retries racing here exactly one wins.
            let taken = Entity::update_many()
                .col_expr(Column::LockedUntilMs, Expr::value(lock))
                .filter(Column::Customer.eq(&existing.customer))
                .filter(Column::Key.eq(&existing.key))
                .filter(Column::State.eq(IN_PROGRESS))
                .filter(Column::LockedUntilMs.eq(existing.locked_until_ms))
                .exec(&self.db)
                .await?;
            if taken.rows_affected == 0 {
                return Ok(Claim::InProgress);
            }
            let order_id: OrderId = existing
                .order_id
                .parse()
                .map_err(|e| DbErr::Custom(format!("stored order id: {e}")))?;
            return Ok(Claim::Acquired(Held {
                order_id,
                first_attempt: false,
                lock,
            }));
        }
        Ok(Claim::InProgress)
    }

    /// Stores the final response; `false` if the lock was lost (another attempt took over).
    pub async fn complete(
        &self,
        customer: &CustomerId,
        key: &IdempotencyKey,
        held: &Held,
        status: u16,
        body: &str,
    ) -> Result<bool, DbErr> {
        let done = Entity::update_many()
            .col_expr(Column::State, Expr::value(DONE))
            .col_expr(Column::ResponseStatus, Expr::value(i32::from(status)))
            .col_expr(Column::ResponseBody, Expr::value(body))
            .col_expr(Column::LockedUntilMs, Expr::value(0i64))
            .filter(Column::Customer.eq(customer.as_ref()))
            .filter(Column::Key.eq(key.as_ref()))
            .filter(Column::State.eq(IN_PROGRESS))
            .filter(Column::LockedUntilMs.eq(held.lock))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected > 0)
    }

    /// Ends this attempt without a stored answer, keeping the reserved order id: the next
    /// request with the key resumes the same order.
    pub async fn release(
        &self,
        customer: &CustomerId,
        key: &IdempotencyKey,
        held: &Held,
    ) -> Result<(), DbErr> {
        Entity::update_many()
            .col_expr(Column::LockedUntilMs, Expr::value(0i64))
            .filter(Column::Customer.eq(customer.as_ref()))
            .filter(Column::Key.eq(key.as_ref()))
            .filter(Column::State.eq(IN_PROGRESS))
            .filter(Column::LockedUntilMs.eq(held.lock))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Forgets the key: nothing was ordered (invalid basket, catalog down), so the client may
    /// use it again, even with a corrected body.
    pub async fn forget(
        &self,
        customer: &CustomerId,
        key: &IdempotencyKey,
        held: &Held,
    ) -> Result<(), DbErr> {
        Entity::delete_many()
            .filter(Column::Customer.eq(customer.as_ref()))
            .filter(Column::Key.eq(key.as_ref()))
            .filter(Column::State.eq(IN_PROGRESS))
            .filter(Column::LockedUntilMs.eq(held.lock))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The row, for tests and operators.
    pub async fn find(
        &self,
        customer: &CustomerId,
        key: &str,
    ) -> Result<Option<entity::Model>, DbErr> {
        Entity::find_by_id((customer.as_ref().to_owned(), key.to_owned()))
            .one(&self.db)
            .await
    }

    /// Deletes expired rows, at most once per [`PURGE_EVERY_MS`] per process. A failure only
    /// postpones the purge: `claim` ignores expired rows by itself.
    async fn purge_expired(&self) {
        let now = now_ms();
        let last = self.last_purge_ms.load(Ordering::Relaxed);
        if now - last < PURGE_EVERY_MS
            || self
                .last_purge_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Err(e) = Entity::delete_many()
            .filter(Column::ExpiresAtMs.lte(now))
            .exec(&self.db)
            .await
        {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "purging expired idempotency keys failed"
            );
        }
    }
}
