//! One test binary for the catalog-service HTTP API (zero2prod style: `spawn_app()` per test).

mod cache;
mod helpers;
mod hostile;
mod observability;
mod products;
