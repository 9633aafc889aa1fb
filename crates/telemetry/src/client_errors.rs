//! Client mistakes are not server errors.
//!
//! actix's HTTP/1 dispatcher writes one ERROR line, `stream error: …`, for every connection it
//! ends over something the client did — a request it cannot parse, a head over its limit, a
//! client gone mid-request — with no peer address and no limit: 500 malformed requests in 0.09 s
//! wrote 500 ERROR lines, enough to page someone and to bury a real error. The answer the
//! client got (400, 408, 431) is actix's and reaches none of the service's code, so this is the
//! only place to act: [`QuietClientErrors`] lets at most one such line through per
//! [`WINDOW`], and the JSON log writes it at WARN with how many were held back before it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Where actix-http's HTTP/1 dispatcher logs.
const TARGET: &str = "actix_http::h1::dispatcher";
/// At most one line per window.
pub(crate) const WINDOW: Duration = Duration::from_secs(10);

/// When the last line was let through, and how many were held back since.
static LAST: Mutex<Option<Instant>> = Mutex::new(None);
static HELD_BACK: AtomicU64 = AtomicU64::new(0);

/// A layer that only ever disables events: the dispatcher's `stream error` lines past the first
/// of each [`WINDOW`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct QuietClientErrors;

impl<S: Subscriber> Layer<S> for QuietClientErrors {
    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        if !is_client_stream_error(event) {
            return true;
        }
        let now = Instant::now();
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        match *last {
            Some(at) if now < at + WINDOW => {
                HELD_BACK.fetch_add(1, Ordering::Relaxed);
                false
            }
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// The dispatcher's per-connection `stream error` line (its other ERROR lines are kept).
pub(crate) fn is_client_stream_error(event: &Event<'_>) -> bool {
    let meta = event.metadata();
    if meta.target() != TARGET || *meta.level() != Level::ERROR {
        return false;
    }
    let mut message = Message(String::new());
    event.record(&mut message);
    message.0.starts_with("stream error")
}

/// How many such lines were held back since the last one written; resets the count.
pub(crate) fn take_held_back() -> u64 {
    HELD_BACK.swap(0, Ordering::Relaxed)
}

struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
