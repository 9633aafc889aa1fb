//! The HTTP surface: OTLP/HTTP ingest plus a small JSON and text API for looking at traces.
//!
//! Handlers are thin: ingest with [`crate::ingest`], query [`SpanStore`], render with
//! [`mod@crate::tempo`] (trace by id, in Tempo's shapes), [`mod@crate::waterfall`] /
//! [`TraceSummary`].

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use serde::Deserialize;
use serde_json::json;

use crate::ingest::receive;
use crate::span::StoredSpan;
use crate::store::SpanStore;
use crate::summary::TraceSummary;
use crate::tempo;
use crate::waterfall::waterfall;

/// Largest accepted export body. The OTel SDK batches 512 spans by default, far below this;
/// the limit only guards against a runaway client filling memory in one request.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Listing size when `?limit=` is absent.
const DEFAULT_LIMIT: usize = 20;
/// Upper bound for `?limit=`, keeping one page render cheap.
const MAX_LIMIT: usize = 1_000;
const PROTOBUF: &str = "application/x-protobuf";

/// Registers every route on an actix-web app: `App::new().configure(routes::configure(store))`.
/// Public so a test can mount the sink inside its own `actix_web::test` service.
pub fn configure(store: SpanStore) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(store.clone()))
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route("/v1/traces", web::post().to(export_traces))
            .route("/api/traces", web::get().to(list_traces))
            .route("/api/traces/{trace_id}", web::get().to(get_trace_v1))
            .route("/api/v2/traces/{trace_id}", web::get().to(get_trace_v2))
            .route("/healthz", web::get().to(healthz))
            .route("/", web::get().to(index));
    }
}

/// `POST /v1/traces`: OTLP/HTTP binary protobuf.
async fn export_traces(
    request: HttpRequest,
    body: web::Bytes,
    store: web::Data<SpanStore>,
) -> HttpResponse {
    // Say clearly what is unsupported instead of failing with a confusing protobuf error.
    if let Some(encoding) = header_str(&request, header::CONTENT_ENCODING) {
        if !encoding.eq_ignore_ascii_case("identity") {
            return plain(
                HttpResponse::UnsupportedMediaType(),
                format!("Content-Encoding {encoding:?} is not supported by otlp-sink; send uncompressed OTLP/HTTP protobuf"),
            );
        }
    }
    if let Some(content_type) = header_str(&request, header::CONTENT_TYPE) {
        if content_type
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            return plain(
                HttpResponse::UnsupportedMediaType(),
                "OTLP/JSON is not supported by otlp-sink; use OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            );
        }
    }
    let export = match ExportTraceServiceRequest::decode(&body[..]) {
        Ok(export) => export,
        Err(err) => {
            return plain(
                HttpResponse::BadRequest(),
                format!("invalid OTLP ExportTraceServiceRequest protobuf: {err}"),
            )
        }
    };
    HttpResponse::Ok()
        .content_type(PROTOBUF)
        .body(receive(&store, export).encode_to_vec())
}

#[derive(Deserialize)]
struct ListParams {
    limit: Option<usize>,
}

impl ListParams {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT)
    }
}

/// `GET /api/traces?limit=20`: most recently updated traces first.
async fn list_traces(params: web::Query<ListParams>, store: web::Data<SpanStore>) -> HttpResponse {
    let traces: Vec<TraceSummary> = store.recent_traces(params.limit());
    HttpResponse::Ok().json(traces)
}

/// `GET /api/traces/{trace_id}`: Tempo's v1 answer, `{"batches":[…]}`.
async fn get_trace_v1(path: web::Path<String>, store: web::Data<SpanStore>) -> HttpResponse {
    trace_by_id(&path, &store, tempo::trace_v1)
}

/// `GET /api/v2/traces/{trace_id}`: Tempo's v2 answer, `{"trace":{"resourceSpans":[…]}}`.
async fn get_trace_v2(path: web::Path<String>, store: web::Data<SpanStore>) -> HttpResponse {
    trace_by_id(&path, &store, tempo::trace_v2)
}

/// Every span of one trace, sorted by start time, as `render` shapes it. Like Tempo: 400 for an
/// id that is not 1–32 hex digits, 404 for a trace it does not hold.
fn trace_by_id(
    trace_id: &str,
    store: &SpanStore,
    render: fn(&[StoredSpan]) -> serde_json::Value,
) -> HttpResponse {
    let Some(trace_id) = tempo::parse_trace_id(trace_id) else {
        return HttpResponse::BadRequest().json(json!({
            "error": "a trace id is 1 to 32 hexadecimal characters",
            "trace_id": trace_id,
        }));
    };
    let spans = store.trace(&trace_id);
    if spans.is_empty() {
        return HttpResponse::NotFound().json(json!({
            "error": "trace not found (not received yet, evicted, or never sampled)",
            "trace_id": trace_id,
        }));
    }
    HttpResponse::Ok().json(render(&spans))
}

async fn healthz() -> HttpResponse {
    plain(HttpResponse::Ok(), "ok")
}

/// `GET /?limit=20`: recent traces with their waterfalls, for a browser.
async fn index(params: web::Query<ListParams>, store: web::Data<SpanStore>) -> HttpResponse {
    let mut page = String::from(concat!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>otlp-sink</title></head>\n",
        "<body><h1>otlp-sink</h1>\n",
        "<p>Development OTLP receiver: in-memory, no auth, not for production. ",
        "JSON: <a href=\"/api/traces\">/api/traces</a>, ",
        "<code>/api/traces/{trace_id}</code> and <code>/api/v2/traces/{trace_id}</code> ",
        "(Tempo's shapes). Reload to refresh.</p>\n",
    ));
    if store.is_discarding() {
        page.push_str(&format!(
            "<p>Discarding (<code>--discard</code>): {} spans received, none kept.</p>\n",
            store.received()
        ));
    } else {
        page.push_str(&format!(
            "<p>{} spans stored (max {}), {} received.</p>\n",
            store.span_count(),
            store.max_spans(),
            store.received()
        ));
    }
    let summaries = store.recent_traces(params.limit());
    if summaries.is_empty() {
        page.push_str(
            "<p>No traces received yet. Point an exporter at <code>/v1/traces</code>.</p>\n",
        );
    }
    for summary in summaries {
        let spans = store.trace(&summary.trace_id);
        page.push_str(&format!(
            "<h2><a href=\"/api/traces/{id}\">{id}</a></h2>\n<p>{root} — {count} spans, {services}, {ms:.3} ms</p>\n<pre>{tree}</pre>\n",
            id = escape_html(&summary.trace_id),
            root = escape_html(&summary.root_name),
            count = summary.span_count,
            services = escape_html(&summary.services.join(", ")),
            ms = summary.duration_ms,
            tree = escape_html(&waterfall(&spans)),
        ));
    }
    page.push_str("</body></html>\n");
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(page)
}

fn header_str(request: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

fn plain(mut builder: actix_web::HttpResponseBuilder, message: impl Into<String>) -> HttpResponse {
    builder
        .content_type(ContentType::plaintext())
        .body(message.into())
}

/// Span names and attributes come from any client; never let them become markup.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
