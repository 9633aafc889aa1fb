//! Orders and idempotency keys in the service's own database (SQLite by default, Postgres by
//! URL).

pub mod idempotency;
mod migrations;
pub mod orders;

pub use idempotency::{Claim, Held, IdempotencyStore, StoredResponse};
pub use migrations::Migrator;
pub use orders::{NewOrder, OrderRecord, OrderStore, StoreError};
