//! Traces: ids, the backend client, the OTLP/JSON reader, the model and its analysis, and the
//! terminal waterfall.
//!
//! - [`id`]: [`TraceId`] and span ids in hex, trimmed hex and base64.
//! - [`backend`]: [`TraceBackend`], Tempo's `/api/v2/traces` then `/api/traces`.
//! - [`otlp_json`]: the answers' OTLP/JSON into a [`Trace`].
//! - [`model`]: [`Trace`], [`Span`], self time and the critical path.
//! - [`waterfall`](mod@waterfall): the text rendering.

pub mod backend;
pub mod id;
pub mod model;
pub mod otlp_json;
pub mod waterfall;

pub use backend::{Api, Lookup, TraceBackend};
pub use id::TraceId;
pub use model::{Analysis, Span, SpanKind, Status, Trace};
