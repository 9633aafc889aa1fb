//! What the applications of a test binary log, and where they panic, kept per trace so that a
//! test reads only its own.
//!
//! Every application under test shares the binary's one `tracing` subscriber, so its log lines
//! (JSON with `trace_id`) and its panics land in one place for the whole binary. A test owns the
//! traces its [`crate::TestClient`] starts (each request carries a fresh `traceparent`), and
//! reads back only the lines and panics of those traces: another test's output can neither make
//! it pass nor fail.
//!
//! Limit: a panic outside any request's span (in a task that runs detached from the request) has
//! no trace id and is attributed to no test; the runner still shows its message.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError};

use telemetry::opentelemetry::trace::TraceContextExt;

/// One panic, with the trace it happened in.
#[derive(Debug, Clone)]
struct Panic {
    trace_id: Option<String>,
    message: String,
}

fn log_lines() -> &'static Mutex<Vec<String>> {
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LINES.get_or_init(|| Mutex::new(Vec::new()))
}

fn panics() -> &'static Mutex<Vec<Panic>> {
    static PANICS: OnceLock<Mutex<Vec<Panic>>> = OnceLock::new();
    PANICS.get_or_init(|| Mutex::new(Vec::new()))
}

/// The writer the test subscriber logs through: every line is kept (and shown live with
/// `TEST_LOG=1`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            eprint!("{text}");
        }
        log_lines()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(text.lines().map(str::to_owned));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records every panic of the binary with the trace id of the span it happened in, then hands
/// it to the previous hook (which prints it as usual). Installed once.
pub(crate) fn record_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let trace_id = telemetry::opentelemetry::Context::map_current(|cx| {
                let span = cx.span();
                let context = span.span_context();
                context.is_valid().then(|| context.trace_id().to_string())
            });
            panics()
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Panic {
                    trace_id,
                    message: info.to_string(),
                });
            previous(info);
        }));
    });
}

/// The trace ids one test owns. Cheap to clone; clones share the set.
#[derive(Clone, Debug, Default)]
pub struct OwnedTraces(Arc<Mutex<HashSet<String>>>);

impl OwnedTraces {
    pub(crate) fn insert(&self, trace_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(trace_id.to_owned());
    }

    /// Whether `trace_id` (32 lowercase hex digits) is one of this test's.
    pub fn contains(&self, trace_id: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(trace_id)
    }

    /// The log lines written so far in these traces (JSON objects, one per line).
    pub fn logs(&self) -> Vec<String> {
        let lines = log_lines().lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .filter(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v["trace_id"].as_str().map(|id| self.contains(id)))
                    .unwrap_or(false)
            })
            .cloned()
            .collect()
    }

    /// The panics so far in these traces, as the panic hook describes them.
    pub fn panics(&self) -> Vec<String> {
        panics()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|p| p.trace_id.as_deref().is_some_and(|id| self.contains(id)))
            .map(|p| p.message.clone())
            .collect()
    }
}
