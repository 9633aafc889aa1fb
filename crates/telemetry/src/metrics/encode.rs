//! OpenMetrics 1.0 text encoding (<https://prometheus.io/docs/specs/om/open_metrics_spec/>).

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::histogram::Exemplar;
use super::registry::{Descriptor, Metric};

pub(crate) fn family(out: &mut String, d: &Descriptor, now: SystemTime, max_age: Duration) {
    let kind = match d.metric {
        Metric::Counter(_) => "counter",
        Metric::Histogram(_) => "histogram",
    };
    let _ = writeln!(out, "# TYPE {} {kind}", d.name);
    out.push_str("# HELP ");
    out.push_str(&d.name);
    out.push(' ');
    escape(out, &d.help, false);
    out.push('\n');
    match &d.metric {
        Metric::Counter(family) => {
            for (values, counter) in family.children() {
                sample(out, &d.name, "_total", family.label_names(), &values, None);
                let _ = writeln!(out, " {}", counter.get());
            }
        }
        Metric::Histogram(family) => {
            for (values, h) in family.children() {
                let snap = h.snapshot(now, max_age);
                let mut cumulative = 0u64;
                let bounds = h.bounds();
                for (i, count) in snap.counts.iter().enumerate() {
                    cumulative += count;
                    let le = match bounds.get(i) {
                        Some(b) => float(*b),
                        None => "+Inf".to_owned(),
                    };
                    sample(
                        out,
                        &d.name,
                        "_bucket",
                        family.label_names(),
                        &values,
                        Some(&le),
                    );
                    let _ = write!(out, " {cumulative}");
                    if let Some(e) = &snap.exemplars[i] {
                        exemplar(out, e);
                    }
                    out.push('\n');
                }
                sample(out, &d.name, "_count", family.label_names(), &values, None);
                let _ = writeln!(out, " {cumulative}");
                sample(out, &d.name, "_sum", family.label_names(), &values, None);
                let _ = writeln!(out, " {}", float(snap.sum));
            }
        }
    }
}

/// The process-wide span pipeline counters (see [`crate::pipeline`]).
pub(crate) fn span_pipeline(out: &mut String) {
    const NAME: &str = "otel_sdk_exporter_span_exported";
    let _ = writeln!(out, "# TYPE {NAME} counter");
    let _ = writeln!(out, "# HELP {NAME} Spans handed to the OTLP exporter, by outcome (this process's view of its span pipeline).");
    for (outcome, n) in crate::pipeline::counts() {
        let _ = writeln!(out, "{NAME}_total{{outcome=\"{outcome}\"}} {n}");
    }
}

fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    names: &[&str],
    values: &[Box<str>],
    le: Option<&str>,
) {
    out.push_str(name);
    out.push_str(suffix);
    if names.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    let mut first = true;
    for (n, v) in names.iter().zip(values) {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(n);
        out.push_str("=\"");
        escape(out, v, true);
        out.push('"');
    }
    if let Some(le) = le {
        if !first {
            out.push(',');
        }
        out.push_str("le=\"");
        out.push_str(le);
        out.push('"');
    }
    out.push('}');
}

fn exemplar(out: &mut String, e: &Exemplar) {
    let ts = e.at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let _ = write!(
        out,
        " # {{trace_id=\"{}\",span_id=\"{}\"}} {} {}.{:03}",
        e.ids.trace_id,
        e.ids.span_id,
        float(e.value),
        ts.as_secs(),
        ts.subsec_millis()
    );
}

/// Floats as OpenMetrics wants them: `1.0` not `1`, `+Inf`, `NaN`.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v:?}")
    }
}

fn escape(out: &mut String, s: &str, quote: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::{Registry, SpanIds};
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    use std::time::Duration;

    #[test]
    fn histogram_text_has_cumulative_buckets_exemplars_and_eof() {
        let r = Registry::new(Duration::from_secs(60));
        let h = r.histogram("x_seconds", "X \"help\"\nline", &["route"], &[0.1, 1.0]);
        let cx = SpanContext::new(
            TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
            SpanId::from_hex("b7ad6b7169203331").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        h.get(&["/a\"b"])
            .observe_with_ids(0.5, SpanIds::from_context(&cx));
        h.get(&["/a\"b"]).observe_with_ids(0.05, None);
        let c = r.counter("y_total", "Y", &[]);
        c.get(&[]).inc_by(3);
        let text = r.encode();
        assert!(
            text.contains("# TYPE x_seconds histogram\n# HELP x_seconds X \"help\"\\nline\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_bucket{route=\"/a\\\"b\",le=\"0.1\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("x_seconds_bucket{route=\"/a\\\"b\",le=\"1.0\"} 2 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} 0.5 "), "{text}");
        assert!(
            text.contains("x_seconds_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "x_seconds_count{route=\"/a\\\"b\"} 2\nx_seconds_sum{route=\"/a\\\"b\"} 0.55"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE y counter\n# HELP y Y\ny_total 3\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
