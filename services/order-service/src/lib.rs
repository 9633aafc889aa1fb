//! order-service: checkout orchestration.
//!
//! A checkout authenticates the customer, validates the basket, prices it from the catalog
//! (never from the client), writes the order, charges the payment gateway and answers with one
//! of the outcomes of the design's table — recording the payment duration with the payment
//! client span as exemplar, so a slow payment in Grafana opens this very trace.
//!
//! # Layout
//! - `config`: flags and variables → `Settings`.
//! - `startup`: `Application` (bind, migrate, build the `App`, run).
//! - `routes/`: HTTP only — extract, call the flow, map errors to problem+json.
//! - `checkout`: the checkout flow, the one place that talks to catalog, store and gateway.
//! - `domain/`: validated types (`Country`, `PaymentMethod`, `Quantity`, `Cents`, `Checkout`),
//!   the API keys; no I/O.
//! - `clients/`: the catalog and payment-gateway HTTP clients.
//! - `store/`: orders and idempotency keys in SQLite or Postgres (sea-orm).
//! - `ratelimit/`: the two rate-limit tiers (GCRA in Redis, or in process) and their middleware.
//! - `metrics`: the business instruments.

pub mod checkout;
pub mod clients;
pub mod config;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod ratelimit;
pub mod routes;
pub mod startup;
pub mod store;
