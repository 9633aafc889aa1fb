//! JSON log lines that say which trace they belong to.
//!
//! `tracing-subscriber`'s own JSON format knows nothing of OpenTelemetry ids, so a log line could
//! not be joined to its trace. [`JsonWithTraceIds`] writes one object per event:
//! `{"timestamp","level","target","message",…fields,"span","trace_id","span_id"}`; the ids are
//! those of the innermost span, present only when the OpenTelemetry layer is installed. Inside a
//! request that was not sampled (no OpenTelemetry span exists) they are the request's trace id
//! and the span id it propagates to the services it calls.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct JsonWithTraceIds;

/// Span fields formatter for [`JsonWithTraceIds`], which does not print span fields: the `fmt`
/// layer would otherwise format every field of every span into a string nobody reads (with
/// ANSI styling; about 7 % of a catalog request's CPU in the profile in docs/BENCHMARKS.md).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NoSpanFields;

impl<'writer> FormatFields<'writer> for NoSpanFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        _writer: Writer<'writer>,
        _fields: R,
    ) -> fmt::Result {
        Ok(())
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // Keep the whole cause chain: the first line alone rarely says why.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        self.0.insert(field.name().to_owned(), Value::from(text));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

impl<S, N> FormatEvent<S, N> for JsonWithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut obj = Map::new();
        obj.insert("timestamp".into(), Value::from(timestamp()));
        // actix's line for a connection a client broke is no server error (`client_errors`).
        let client_error = crate::client_errors::is_client_stream_error(event);
        let level = if client_error {
            "WARN"
        } else {
            meta.level().as_str()
        };
        obj.insert("level".into(), Value::from(level));
        obj.insert("target".into(), Value::from(meta.target()));
        event.record(&mut JsonVisitor(&mut obj));
        if client_error {
            obj.insert("client_error".into(), Value::from(true));
            obj.insert(
                "held_back".into(),
                Value::from(crate::client_errors::take_held_back()),
            );
        }
        if let Some(span) = ctx.lookup_current() {
            obj.insert("span".into(), Value::from(span.name()));
            // A span of an unsampled request has no OpenTelemetry data; its mark holds the ids
            // the request propagates.
            let unrecorded = crate::sampling::not_recorded_ids(&span.extensions());
            let sc = unrecorded.or_else(|| {
                tracing::dispatcher::get_default(|dispatch| {
                    tracing_opentelemetry::get_otel_context(&span.id(), dispatch)
                })
                .map(|cx| cx.span().span_context().clone())
            });
            if let Some(sc) = sc.filter(|sc| sc.is_valid()) {
                obj.insert("trace_id".into(), Value::from(sc.trace_id().to_string()));
                obj.insert("span_id".into(), Value::from(sc.span_id().to_string()));
            }
        }
        let line = serde_json::to_string(&obj).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// RFC 3339 UTC with milliseconds, without a date-time dependency.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_is_rfc3339_utc() {
        let t = super::timestamp();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.starts_with("20"), "{t}");
    }
}
