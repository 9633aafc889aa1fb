//! order-service: checkout orchestration.
//!
//! A checkout authenticates the customer, validates the basket, prices it from the catalog
//! (never from the client), writes the order, charges the payment gateway and answers with one
//! of the outcomes of the design's table — recording the payment duration with the payment
//! client span as exemplar, so a slow payment in Grafana opens this very trace.
//!
//! # Layout (top-down)
//! - `main.rs`: settings, telemetry, `Application`, run.
//! - [`config`]: flags and variables → [`config::Settings`]; errors name the variable.
//! - [`startup`]: [`startup::Application`] (migrate, bind, build the `App`, run).
//! - [`state`]: [`state::AppState`], what the routes share — a leaf nothing imports back.
//! - [`routes`]: HTTP only — extract, call the checkout or the store, map the result.
//! - [`schema`]: the API's JSON bodies and views (what the OpenAPI document describes).
//! - [`error`]: the one place choosing statuses and problem types, for errors and outcomes.
//! - [`checkout`]: the checkout flow — the one place that calls the catalog and the gateway
//!   and writes orders — and its idempotency policy; [`checkout::Outcome`] is a value, an
//!   error means no order was settled.
//! - [`domain`]: the validated checkout request, the order, the API keys, the suspicious-
//!   activity rules; no I/O. Shared values (`Country`, `Cents`, …) are `contract`'s.
//! - [`clients`]: the catalog and payment-gateway HTTP clients, parsing answers once.
//! - [`store`]: orders and idempotency keys in SQLite or Postgres (sea-orm).
//! - [`ratelimit`]: the two rate-limit tiers (GCRA in Redis, or in process).
//! - [`reconcile`]: the background reconciler settling `payment_unknown` and stale `pending`
//!   orders by asking the gateway (rules in `domain::reconcile`).
//! - [`metrics`]: the business instruments.

pub mod checkout;
pub mod clients;
pub mod config;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod ratelimit;
pub mod reconcile;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod state;
pub mod store;
