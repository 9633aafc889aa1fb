//! The HTTP edge and the infrastructure the three WebStore services share, so none of it is
//! copied between them. What both sides of a call agree on (countries, money, ids, bodies) is
//! not here but in the `contract` crate.
//!
//! # Layout
//! - [`problem`]: RFC 9457 `application/problem+json` errors with stable `type` URIs, and the
//!   extractor configs that turn bad JSON, paths and queries into them (never HTML, never a panic).
//! - [`authorization`]: the one `Authorization: Bearer` header (scheme in any case; sent twice
//!   is an error).
//! - [`client_ip`]: the client's address behind the proxies listed in `TRUSTED_PROXIES`.
//! - [`app`]: what every service's `App` has — `/healthz`, `/metrics`, `/openapi.json`, the
//!   problem+json 404, security headers.
//! - [`drain`]: graceful shutdown — one signal, `/readyz` 503 while draining, tracked work
//!   finished within `SHUTDOWN_TIMEOUT`.
//! - [`edge`]: what every service does before routing: `HEAD` as `GET`, `OPTIONS` and 405
//!   with `Allow`, bodies it cannot read (compressed, not UTF-8) refused with 415.
//! - [`db`]: connecting to the service's database (SQLite file by default, Postgres by URL) and
//!   migrating it.
//! - [`config`]: the flags and variables every service takes (`BIND_ADDR`, `DATABASE_URL`), the
//!   `REDIS_URL` check two of them share, duration settings, and the error naming a variable.
//! - [`json`]: request bodies that must be JSON objects, and serde errors without Rust type
//!   names.
//! - [`idempotency`]: the `Idempotency-Key` header read once, and a stored answer sent again
//!   byte for byte (`Idempotent-Replayed`).
//! - [`readiness`]: the `/readyz` body: the database decides, the other dependencies inform.
//! - [`redis`]: [`redis::RedisRunner`] — traced Redis commands through a bounded pool, skipped
//!   for a window after a connection failure.
//!
//! **Invariant:** nothing here knows about orders, products or charges.

pub mod app;
pub mod authorization;
pub mod client_ip;
pub mod config;
pub mod db;
pub mod drain;
pub mod edge;
pub mod idempotency;
pub mod json;
pub mod problem;
pub mod readiness;
pub mod redis;

pub use problem::Problem;
