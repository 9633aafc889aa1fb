//! `payment-gateway`: a mock of an external payment provider (think Stripe) for WebStore.
//!
//! It behaves like a real provider where it matters to the system around it: charges are
//! idempotent per `Idempotency-Key` (the order service's retries never charge twice), latency is
//! long-tailed per payment method (so dashboards and exemplars have something to show), and
//! declines, errors, timeouts and extra latency can be switched on at run time through
//! `PUT /admin/faults`.
//!
//! # Layout
//! - [`config`]: the CLI (every flag also an environment variable) and validated [`config::Settings`].
//! - [`startup`]: [`startup::Application`] — connect, migrate, bind, build the one `App` factory.
//! - [`routes`]: HTTP only — extract, call the gateway, shape the answer; the OpenAPI document.
//! - [`gateway`]: the charge pipeline (dedupe → simulate → decide → store) and the live faults.
//! - [`domain`]: rules without I/O — the request fingerprint, the latency model, fault outcomes.
//!   The request and charge bodies themselves are `contract`'s, shared with order-service.
//! - [`store`]: the `charges` table (sea-orm), migrations, [`store::ChargeStore`].
//! - [`schema`]: documentation-only schemas of the problems it answers with.
//! - [`metrics`]: the gateway's own counters and histogram.
//! - [`error`]: [`error::ApiError`], the one error type, mapped to problem+json.
//!
//! **Architecture invariants:** `domain` does no I/O; the database's unique index on
//! `idempotency_key`, not a check in code, is what makes a key charge at most once; the faults
//! and the random generator exist once per process, shared by every HTTP worker.

pub mod config;
pub mod domain;
pub mod error;
pub mod gateway;
pub mod metrics;
pub mod routes;
pub mod schema;
pub mod startup;
pub mod store;
