//! The services order-service calls. Both go through `telemetry::TracedClient`, so every call is
//! a client span whose context travels as `traceparent`.

pub mod catalog;
pub mod payment;

pub use catalog::{CatalogClient, CatalogError, Product};
pub use payment::{ChargeOutcome, ChargeRequest, ChargeResult, PaymentClient};
