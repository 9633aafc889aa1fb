//! WebStore catalog-service: the products the store sells.
//!
//! `GET /api/v1/products` pages through the catalogue in id order (opaque keyset cursor);
//! `GET /api/v1/products/{id}` returns one product. Both read through a cache — Redis when
//! `REDIS_URL` is set, a bounded in-process map otherwise. Every Redis command is a client span;
//! every lookup sets `webstore.cache.result` on the server span and is counted in `webstore_catalog_cache_requests_total{result="hit"|"miss"|"error"}`. A
//! broken Redis costs a database read, never a failed request, and never fails `/readyz`.
//!
//! # Layout
//! - [`config`]: `Cli` (flags + environment) and the validated [`config::Settings`].
//! - [`startup`]: [`startup::Application`]: database, migrations, cache, listener, the `App`.
//! - [`routes`]: thin HTTP handlers with their OpenAPI docs, and [`routes::ApiDoc`].
//! - [`domain`]: the page limit and cursor, and cutting a page from rows; no I/O. The product
//!   bodies themselves (`ProductId`, `Product`, `ProductPage`) are `contract`'s.
//! - [`store`]: the sea-orm entity and migrations (with seed data), the cache, and
//!   [`store::Catalog`], the read-through path.
//! - [`error`]: [`error::ApiError`], the one error the routes return, rendered as problem+json.

pub mod config;
pub mod domain;
pub mod error;
pub mod routes;
pub mod startup;
pub mod store;
