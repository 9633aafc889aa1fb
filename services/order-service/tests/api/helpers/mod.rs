//! The order-service test harness: [`TestApp::builder`] starts the real application on port 0,
//! configured through the same variables and validation as production, with its own database,
//! wiremock standing in for the catalog and the payment gateway, and the test binary's
//! in-process OTLP sink.

mod app;
mod assertions;
mod database;
mod neighbours;
mod traces;

pub use app::*;
pub use assertions::*;
pub use neighbours::*;
pub use test_support::TestTrace;
pub use traces::*;
