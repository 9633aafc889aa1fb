//! Everything with I/O behind the routes: the products table, its migrations, and the cache in
//! front of it.
//!
//! - [`entity`]: the sea-orm entity for `products`.
//! - [`migrations`]: schema and seed data, for SQLite and Postgres alike.
//! - [`cache`]: the [`Cache`] (Redis or in-process), Redis commands as client spans.
//! - [`catalog`]: [`Catalog`], the read-through path (cache → database → cache) and its metric.

pub mod cache;
pub mod catalog;
pub mod entity;
pub mod migrations;

pub use cache::{Cache, CacheError};
pub use catalog::{Catalog, StoreError};
