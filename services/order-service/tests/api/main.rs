//! order-service API tests: one binary (one link, one telemetry subscriber, one OTLP sink).
//!
//! Every test spawns its own application on port 0 with its own database (a SQLite file, or a
//! fresh Postgres database in `postgres`) and its own wiremock catalog and payment gateway.

mod auth;
mod checkout;
mod drain;
mod health;
mod helpers;
mod hostile;
mod http_guards;
mod idempotency;
mod metrics;
mod orders;
mod outages;
mod payment_outcomes;
mod postgres;
mod propagation;
mod rate_limits;
mod reconcile;
mod secrets;
mod suspicious;
mod validation;
