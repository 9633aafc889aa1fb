//! `otlp-sink`: a development and test OTLP trace receiver for the WebStore workspace.
//!
//! **Not for production.** It keeps spans in memory (bounded by count, never expired by time,
//! lost on restart), has no authentication or TLS, speaks OTLP/HTTP with binary protobuf
//! (`POST /v1/traces`, uncompressed) and, when asked ([`GrpcReceiver`], `--grpc-bind`),
//! OTLP/gRPC — no OTLP/JSON, no metrics or logs. For real
//! deployments use the OpenTelemetry Collector and Tempo from `infra/`.
//!
//! What it is for:
//! - **Tests.** A test starts a sink on port 0 with [`OtlpSink::start_in_background`], points a
//!   service's `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` at [`OtlpSink::traces_endpoint`] (protocol
//!   `http/protobuf`), drives a request, then awaits the distributed trace with
//!   [`SpanStore::wait_for_trace`] and asserts on plain [`StoredSpan`]s: parent links across
//!   services, span kinds, attributes, events. The end-to-end test uses it this way to check that
//!   a checkout produces one trace holding order, catalog and payment-gateway spans.
//! - **Local development without Docker.** `cargo xtask up` runs the `otlp-sink` binary on
//!   `127.0.0.1:4318` (the standard OTLP/HTTP port) next to the three services, so traces are
//!   visible at `http://127.0.0.1:4318/` as text waterfalls, and exemplar trace ids from
//!   `/metrics` can be opened at `/api/traces/{trace_id}`.
//! - **One trace client for development and production.** The trace-by-id routes answer in the
//!   shapes Grafana Tempo 2.x gives ([`mod@tempo`]), so `storectl exemplars` and `storectl
//!   doctor` read traces from this receiver and from Tempo with the same code.
//!
//! # HTTP routes
//! | route | answer |
//! |---|---|
//! | `POST /v1/traces` | `application/x-protobuf` `ExportTraceServiceRequest` (≤ 16 MiB) → 200 with an `ExportTraceServiceResponse`; undecodable body → 400 |
//! | `GET /api/traces/{trace_id}` | Tempo's v1 shape, `{"batches":[ResourceSpans…]}` (OTLP/JSON, ids in base64 as Tempo 2.x writes them); 404 if unknown, 400 if the id is not 1–32 hex digits |
//! | `GET /api/v2/traces/{trace_id}` | Tempo's v2 shape, `{"trace":{"resourceSpans":[…]}}`; same errors |
//! | `GET /api/traces?limit=20` | `[TraceSummary…]`, most recently updated first |
//! | `GET /` | HTML page with recent traces as text waterfalls |
//! | `GET /healthz` | 200 `ok` |
//!
//! # Layout
//! - [`cli`]: [`Cli`], the binary's flags (each also a variable).
//! - [`span`]: [`StoredSpan`] / [`StoredEvent`] / [`StoredLink`], the owned decoded form (serde both ways).
//! - [`decode`]: OTLP protobuf → [`StoredSpan`]; the only module that knows the wire types.
//! - [`store`]: [`SpanStore`], the bounded, shared, queryable in-memory store.
//! - [`summary`]: [`TraceSummary`], one line per trace for listings.
//! - [`tempo`](mod@tempo): a trace as Tempo's trace-by-id APIs return it.
//! - [`tail_sampling`]: a test double of the Collector's tail-sampling policies.
//! - [`waterfall`](mod@waterfall): the indented text rendering of a trace.
//! - [`routes`]: the actix-web handlers.
//! - [`server`]: [`OtlpSink`], the server on its own thread and actix `System`.
//! - [`grpc`]: [`GrpcReceiver`], the OTLP/gRPC receiver sharing a [`SpanStore`].
//!
//! **Invariant:** this crate depends on no other workspace crate (in particular not on
//! `telemetry`), so the telemetry crate's own tests can use it without a cycle.

pub mod cli;
pub mod decode;
pub mod grpc;
pub mod ingest;
pub mod routes;
pub mod server;
pub mod span;
pub mod store;
pub mod summary;
pub mod tail_sampling;
pub mod tempo;
pub mod waterfall;

pub use cli::Cli;
pub use grpc::GrpcReceiver;
pub use server::OtlpSink;
pub use span::{StoredEvent, StoredLink, StoredSpan};
pub use store::{SpanStore, DEFAULT_MAX_SPANS};
pub use summary::TraceSummary;
pub use waterfall::waterfall;

/// The OTLP message types, re-exported so tests build requests against the same version.
pub use opentelemetry_proto;
