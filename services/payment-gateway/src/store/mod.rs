//! Persistence: the `charges` table (sea-orm), its migrations, and [`ChargeStore`].
//!
//! **Architecture invariant:** the unique index on `idempotency_key` is what guarantees "at
//! most one charge per key". Code never checks-then-inserts and trusts the check; it inserts and
//! treats a unique violation as "someone else got there first".

pub mod charges;
pub mod migration;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, SqlErr,
};

pub use migration::Migrator;

/// The charges table, behind the operations the gateway needs.
#[derive(Debug, Clone)]
pub struct ChargeStore {
    db: DatabaseConnection,
}

/// The result of [`ChargeStore::insert`].
#[derive(Debug)]
pub enum Inserted {
    /// The row is ours.
    New,
    /// A charge with this idempotency key already exists (possibly inserted a moment ago by a
    /// concurrent request); here it is.
    Existing(Box<charges::Model>),
}

impl ChargeStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn find_by_id(&self, id: &str) -> Result<Option<charges::Model>, DbErr> {
        charges::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await
    }

    pub async fn find_by_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<charges::Model>, DbErr> {
        charges::Entity::find()
            .filter(charges::Column::IdempotencyKey.eq(idempotency_key))
            .one(&self.db)
            .await
    }

    /// Inserts `charge` unless its idempotency key is taken, in which case the existing charge
    /// is returned instead. Safe under concurrency: the database's unique index decides.
    pub async fn insert(&self, charge: charges::Model) -> Result<Inserted, DbErr> {
        let key = charge.idempotency_key.clone();
        let active = charges::ActiveModel {
            id: Set(charge.id),
            idempotency_key: Set(charge.idempotency_key),
            request_hash: Set(charge.request_hash),
            amount_cents: Set(charge.amount_cents),
            currency: Set(charge.currency),
            payment_method: Set(charge.payment_method),
            country: Set(charge.country),
            reference: Set(charge.reference),
            status: Set(charge.status),
            decline_code: Set(charge.decline_code),
            response_status: Set(charge.response_status),
            response_body: Set(charge.response_body),
            created_at: Set(charge.created_at),
        };
        // `ON CONFLICT (idempotency_key) DO NOTHING` makes the loser of a race a no-op on both
        // SQLite and Postgres instead of an error (and on Postgres it does not abort an
        // enclosing transaction). Zero rows affected means the key was taken.
        let result = charges::Entity::insert(active)
            .on_conflict(
                OnConflict::column(charges::Column::IdempotencyKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await;
        let rows = match result {
            Ok(rows) => rows,
            // Belt and braces: a driver that reports the conflict as an error instead.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => 0,
            Err(e) => return Err(e),
        };
        if rows > 0 {
            return Ok(Inserted::New);
        }
        match self.find_by_key(&key).await? {
            Some(existing) => Ok(Inserted::Existing(Box::new(existing))),
            None => Err(DbErr::RecordNotInserted),
        }
    }
}
