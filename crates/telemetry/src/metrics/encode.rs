//! OpenMetrics 1.0 text encoding (<https://prometheus.io/docs/specs/om/open_metrics_spec/>).
//!
//! Written for a scrape of thousands of series in well under a millisecond: label pairs are
//! rendered once per child ([`super::family`]), `le` values once per family
//! ([`super::histogram`]), integers and ids by hand into the one output buffer
//! ([`super::text`]); `fmt` runs only for floats (sums, exemplar values).
//!
//! Depends on the metric types, never the other way round: the registry decides what to encode
//! and calls in here.

use std::fmt::Write;

use super::describe::{MetricDescription, MetricKind};
use super::exemplar::Sample;
use super::family::{CounterFamily, GaugeFamily, HistogramFamily};
use super::text;

/// `# TYPE` and `# HELP` lines of a family; `kind` is `counter` or `histogram`.
pub(crate) fn header(name: &str, help: &str, kind: &str) -> String {
    let mut out = format!("# TYPE {name} {kind}\n# HELP {name} ");
    text::escape(&mut out, help, false);
    out.push('\n');
    out
}

/// Every child of a counter family: `{name}_total{labels} {count}`.
pub(crate) fn counters(out: &mut String, name: &str, family: &CounterFamily) {
    for child in family.children().iter() {
        sample(out, name, "_total", &child.labels);
        out.push(' ');
        text::uint(out, child.metric.get());
        out.push('\n');
    }
}

/// Every child of a gauge family: `name{labels} value`.
pub(crate) fn gauges(out: &mut String, name: &str, family: &GaugeFamily) {
    for child in family.children().iter() {
        sample(out, name, "", &child.labels);
        out.push(' ');
        let _ = write!(out, "{}", child.metric.get());
        out.push('\n');
    }
}

/// Every child of a histogram family: cumulative `_bucket` lines (each with its exemplar unless
/// that was taken before `not_before`, Unix nanoseconds), `_count` and `_sum`. Opens the next
/// exemplar interval of every bucket.
pub(crate) fn histograms(out: &mut String, name: &str, family: &HistogramFamily, not_before: u64) {
    for child in family.children().iter() {
        let (labels, h) = (&*child.labels, &child.metric);
        let le = h.bounds().le();
        let mut cumulative = 0u64;
        for (i, le) in le.iter().enumerate().take(h.buckets()) {
            let (count, exemplar_now) = h.scrape_bucket(i, not_before);
            cumulative += count;
            out.push_str(name);
            out.push_str("_bucket{");
            out.push_str(labels);
            if !labels.is_empty() {
                out.push(',');
            }
            out.push_str("le=\"");
            out.push_str(le);
            out.push_str("\"} ");
            text::uint(out, cumulative);
            if let Some(e) = &exemplar_now {
                exemplar(out, e);
            }
            out.push('\n');
        }
        sample(out, name, "_count", labels);
        out.push(' ');
        text::uint(out, cumulative);
        out.push('\n');
        sample(out, name, "_sum", labels);
        out.push(' ');
        text::float(out, h.sum());
        out.push('\n');
    }
}

/// The span pipeline counter's family name, help and label: process-wide, in every registry's
/// scrape.
const SPAN_PIPELINE: &str = "otel_sdk_exporter_span_exported";
const SPAN_PIPELINE_HELP: &str =
    "Spans handed to the OTLP exporter, by outcome (this process's view of its span pipeline).";
const SPAN_PIPELINE_LABELS: &[&str] = &["outcome"];

/// The process-wide span pipeline counters, by outcome (see `crate::pipeline`).
pub(crate) fn span_pipeline(out: &mut String, counts: &[(&str, u64)]) {
    const NAME: &str = SPAN_PIPELINE;
    let _ = writeln!(out, "# TYPE {NAME} counter");
    let _ = writeln!(out, "# HELP {NAME} {SPAN_PIPELINE_HELP}");
    for (outcome, n) in counts {
        let _ = writeln!(out, "{NAME}_total{{outcome=\"{outcome}\"}} {n}");
    }
}

/// What [`span_pipeline`] writes, described.
pub(crate) fn span_pipeline_description() -> MetricDescription {
    MetricDescription::new(
        SPAN_PIPELINE,
        MetricKind::Counter,
        SPAN_PIPELINE_HELP,
        SPAN_PIPELINE_LABELS,
        &[],
    )
}

/// `name` + `suffix` + `{labels}` (no braces without labels).
fn sample(out: &mut String, name: &str, suffix: &str, labels: &str) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() {
        out.push('{');
        out.push_str(labels);
        out.push('}');
    }
}

/// ` # {trace_id="…",span_id="…"} value timestamp`, the timestamp in seconds with milliseconds.
fn exemplar(out: &mut String, e: &Sample) {
    out.push_str(" # {trace_id=\"");
    text::hex(out, &e.ids.trace_id().to_bytes());
    out.push_str("\",span_id=\"");
    text::hex(out, &e.ids.span_id().to_bytes());
    out.push_str("\"} ");
    text::float(out, e.value);
    out.push(' ');
    text::uint(out, e.at_nanos / 1_000_000_000);
    out.push('.');
    text::three_digits(out, e.at_nanos / 1_000_000);
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};

    use super::super::exemplar::{Sample, SpanIds};

    #[test]
    fn exemplar_timestamp_has_milliseconds() {
        let mut out = String::new();
        super::exemplar(
            &mut out,
            &Sample {
                ids: SpanIds::from_stored(TraceId::from(1u128), SpanId::from(2u64)),
                value: 0.25,
                at_nanos: 1_700_000_000_007_000_000,
            },
        );
        assert_eq!(
            out,
            " # {trace_id=\"00000000000000000000000000000001\",span_id=\"0000000000000002\"} 0.25 1700000000.007"
        );
    }

    #[test]
    fn headers_escape_help_but_keep_its_quotes() {
        assert_eq!(
            super::header("x_seconds", "X \"help\"\nline", "histogram"),
            "# TYPE x_seconds histogram\n# HELP x_seconds X \"help\"\\nline\n"
        );
    }
}
