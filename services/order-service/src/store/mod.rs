//! Orders in the service's own database (SQLite by default, Postgres by URL).

mod migrations;
pub mod orders;

pub use migrations::Migrator;
pub use orders::{NewOrder, OrderRecord, OrderStatus, OrderStore, PricedLine, StoreError};
