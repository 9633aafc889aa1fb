//! Counting what the span pipeline does with spans: `otel_sdk_exporter_span_exported_total`.
//!
//! [`CountingExporter`] wraps the OTLP exporter and counts each exported batch as `success` or
//! `failure`. The batch span processor of opentelemetry_sdk 0.33 keeps its count of spans dropped
//! on a full queue private (it only logs it at shutdown), so `dropped` counts what this crate can
//! see: spans refused because the pipeline was already shut down. A collector outage therefore
//! shows as `failure`, and a queue overflow only as a gap between spans ended and spans counted.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

static SUCCESS: AtomicU64 = AtomicU64::new(0);
static FAILURE: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

pub(crate) fn counts() -> [(&'static str, u64); 3] {
    [
        ("dropped", DROPPED.load(Relaxed)),
        ("failure", FAILURE.load(Relaxed)),
        ("success", SUCCESS.load(Relaxed)),
    ]
}

/// Wraps a span exporter and counts the spans of every batch by outcome.
#[derive(Debug)]
pub(crate) struct CountingExporter<E> {
    inner: E,
}

impl<E> CountingExporter<E> {
    pub(crate) fn new(inner: E) -> Self {
        Self { inner }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => SUCCESS.fetch_add(n, Relaxed),
            Err(opentelemetry_sdk::error::OTelSdkError::AlreadyShutdown) => {
                DROPPED.fetch_add(n, Relaxed)
            }
            Err(_) => FAILURE.fetch_add(n, Relaxed),
        };
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
