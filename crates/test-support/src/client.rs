//! [`TestClient`]: the HTTP client of one test, whose every request starts a trace the test owns.

use std::collections::HashMap;

use reqwest::{IntoUrl, Method, RequestBuilder};
use telemetry::opentelemetry::propagation::TextMapPropagator;
use telemetry::opentelemetry_sdk::propagation::TraceContextPropagator;
use telemetry::tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::capture::OwnedTraces;

/// A W3C trace context a test sends as the parent of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestTrace {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits: the remote parent of the request's server span.
    pub span_id: String,
    pub sampled: bool,
}

impl TestTrace {
    /// Fresh random ids (a v4 UUID's 122 random bits; never all zero).
    pub fn random(sampled: bool) -> Self {
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        Self {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// The `traceparent` header value.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{}",
            self.trace_id,
            self.span_id,
            if self.sampled { "01" } else { "00" }
        )
    }
}

/// A `reqwest::Client` whose every request carries a fresh, sampled `traceparent`: the test owns
/// the trace, so [`TestClient::logs`] and [`TestClient::panics`] return only what its own
/// requests caused.
///
/// To send a parent of the test's choosing use [`TestClient::request_in`], not
/// `.header("traceparent", …)` (that would send two). [`TestClient::untraced`] sends none.
#[derive(Debug, Clone)]
pub struct TestClient {
    http: reqwest::Client,
    owned: OwnedTraces,
}

impl TestClient {
    pub fn new(http: reqwest::Client) -> Self {
        crate::telemetry();
        Self {
            http,
            owned: OwnedTraces::default(),
        }
    }

    /// A request with a fresh sampled trace of this test's.
    pub fn request(&self, method: Method, url: impl IntoUrl) -> RequestBuilder {
        self.request_in(&self.new_trace(true), method, url)
    }

    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    pub fn put(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    pub fn delete(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    pub fn head(&self, url: impl IntoUrl) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request whose parent is `trace` (made by [`TestClient::new_trace`], or registered here
    /// now).
    pub fn request_in(
        &self,
        trace: &TestTrace,
        method: Method,
        url: impl IntoUrl,
    ) -> RequestBuilder {
        self.owned.insert(&trace.trace_id);
        self.http
            .request(method, url)
            .header("traceparent", trace.traceparent())
    }

    /// A fresh trace context this test owns.
    pub fn new_trace(&self, sampled: bool) -> TestTrace {
        let trace = TestTrace::random(sampled);
        self.owned.insert(&trace.trace_id);
        trace
    }

    /// A span in a fresh trace of this test's, for work the test does itself (starting an
    /// application): what is logged inside it counts as this test's.
    pub fn span(&self, name: &'static str) -> tracing::Span {
        let trace = self.new_trace(true);
        let headers = HashMap::from([("traceparent".to_owned(), trace.traceparent())]);
        let parent = TraceContextPropagator::new().extract(&headers);
        let span = tracing::info_span!("test", test.step = name);
        // Fails only without the OpenTelemetry layer, whose absence the first trace lookup of
        // the test would show.
        let _ = span.set_parent(parent);
        span
    }

    /// The plain client: requests without any `traceparent` (the server then starts the trace,
    /// which this test does not own).
    pub fn untraced(&self) -> &reqwest::Client {
        &self.http
    }

    /// The traces this test owns.
    pub fn traces(&self) -> &OwnedTraces {
        &self.owned
    }

    /// Log lines of this test's traces.
    pub fn logs(&self) -> Vec<String> {
        self.owned.logs()
    }

    /// Panics in this test's traces.
    pub fn panics(&self) -> Vec<String> {
        self.owned.panics()
    }
}
