//! The request's root span, as the middleware opens it and the exemplar code recognises it.
//!
//! `webstore.exemplar` marks a request's local root, and only that span: the middleware's server
//! span, known by its name and target (the target `RUST_LOG` directives name).

/// The `tracing` name of every request's root span.
pub(crate) const NAME: &str = "HTTP request";

/// Its target: the middleware's module, as `RUST_LOG=telemetry::http=…` expects.
pub(crate) const TARGET: &str = "telemetry::http";

/// Whether `meta` is a request's root span.
pub(crate) fn is_request_root(meta: &tracing::Metadata<'_>) -> bool {
    meta.name() == NAME && meta.target() == TARGET
}
