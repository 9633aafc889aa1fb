//! The services order-service calls. Both go through `telemetry::TracedClient`, so every call is
//! a client span whose context travels as `traceparent`; both parse answers into `contract`
//! types here, once.

pub mod catalog;
pub mod payment;

pub use catalog::{CatalogClient, CatalogError};
pub use payment::{ChargeOutcome, ChargeResult, Lookup, PaymentClient, Unknown};
