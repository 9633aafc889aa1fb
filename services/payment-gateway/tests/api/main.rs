//! The payment gateway's HTTP API, end to end: a real server on port 0 per test, its own
//! database (SQLite file, and Postgres when reachable), every span exported to an in-process
//! OTLP sink.

mod helpers;

mod admin;
mod charges;
mod hostile;
mod idempotency;
mod operations;
mod validation;
