//! One OTLP export, from either transport: the HTTP route and the gRPC service both end here,
//! so they store, count and answer alike.

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use crate::decode::decode_request;
use crate::store::SpanStore;

/// One OTLP export, over HTTP or gRPC: decoded into `store` (or only counted, when the store
/// is [`SpanStore::discarding`]), answered as the OTLP spec asks — an empty response when
/// everything was accepted, `partial_success` naming the rejected spans otherwise.
pub fn receive(
    store: &SpanStore,
    request: ExportTraceServiceRequest,
) -> ExportTraceServiceResponse {
    if store.is_discarding() {
        // Skip building `StoredSpan`s nobody will read: the point of discarding is a cheap
        // receiver.
        let spans = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len() as u64)
            .sum();
        store.count_received(spans);
        return ExportTraceServiceResponse::default();
    }
    let decoded = decode_request(request);
    store.insert(decoded.spans);
    ExportTraceServiceResponse {
        partial_success: (decoded.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(decoded.rejected).unwrap_or(i64::MAX),
            error_message: decoded.first_error.unwrap_or_default(),
        }),
    }
}
