//! OpenMetrics 1.0 text encoding (<https://prometheus.io/docs/specs/om/open_metrics_spec/>).
//!
//! Written for a scrape of thousands of series in well under a millisecond: label pairs are
//! rendered once per child ([`super::family`]), `le` values once per family, integers and
//! ids by hand into the one output buffer; `fmt` runs only for floats (sums, exemplar values).

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use super::histogram::{unix_nanos, Exemplar};
use super::registry::{Descriptor, Metric};

/// `# TYPE` and `# HELP` lines of a family.
pub(crate) fn header(name: &str, help: &str, metric: &Metric) -> String {
    let kind = match metric {
        Metric::Counter(_) => "counter",
        Metric::Histogram(_) => "histogram",
    };
    let mut out = format!("# TYPE {name} {kind}\n# HELP {name} ");
    escape(&mut out, help, false);
    out.push('\n');
    out
}

pub(crate) fn family(out: &mut String, d: &Descriptor, now: SystemTime, max_age: Duration) {
    out.push_str(&d.header);
    let name = d.name.as_str();
    match &d.metric {
        Metric::Counter(family) => {
            for child in family.children().iter() {
                sample(out, name, "_total", &child.labels);
                out.push(' ');
                uint(out, child.metric.get());
                out.push('\n');
            }
        }
        Metric::Histogram(family) => {
            let max_age = u64::try_from(max_age.as_nanos()).unwrap_or(u64::MAX);
            let not_before = unix_nanos(now).saturating_sub(max_age);
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
                    uint(out, cumulative);
                    if let Some(e) = &exemplar_now {
                        exemplar(out, e);
                    }
                    out.push('\n');
                }
                sample(out, name, "_count", labels);
                out.push(' ');
                uint(out, cumulative);
                out.push('\n');
                sample(out, name, "_sum", labels);
                out.push(' ');
                float_into(out, h.sum());
                out.push('\n');
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

fn exemplar(out: &mut String, e: &Exemplar) {
    out.push_str(" # {trace_id=\"");
    hex(out, &e.ids.trace_id.to_bytes());
    out.push_str("\",span_id=\"");
    hex(out, &e.ids.span_id.to_bytes());
    out.push_str("\"} ");
    float_into(out, e.value);
    out.push(' ');
    uint(out, e.at_nanos / 1_000_000_000);
    out.push('.');
    let ms = e.at_nanos / 1_000_000 % 1_000;
    push_ascii(
        out,
        &[
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ],
    );
}

/// Appends bytes that this module generated from digit tables.
#[inline]
fn push_ascii(out: &mut String, bytes: &[u8]) {
    assert!(bytes.is_ascii());
    // SAFETY: ASCII is valid UTF-8, so `out` stays valid UTF-8 (checked just above; the check
    // costs far less than `str::from_utf8`'s general validation on these short runs).
    unsafe { out.as_mut_vec() }.extend_from_slice(bytes);
}

/// Decimal digits of `v`, without `fmt`: two digits per division.
fn uint(out: &mut String, mut v: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    push_ascii(out, &buf[i..]);
}

/// Lower-case hex of `bytes`, without `fmt`.
fn hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    let n = bytes.len().min(16);
    for (pair, b) in buf.chunks_exact_mut(2).zip(&bytes[..n]) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    push_ascii(out, &buf[..2 * n]);
}

/// Floats as OpenMetrics wants them: `1.0` not `1`, `+Inf`, `NaN`.
pub(crate) fn float(v: f64) -> String {
    let mut s = String::new();
    float_into(&mut s, v);
    s
}

fn float_into(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v:?}");
    }
}

pub(crate) fn escape(out: &mut String, s: &str, quote: bool) {
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

    #[test]
    fn integers_and_hex_without_fmt() {
        for v in [0, 7, 10, 99, 100, 101, 12_345, 1_000_000, u64::MAX] {
            let mut out = String::from("x");
            super::uint(&mut out, v);
            assert_eq!(out, format!("x{v}"));
        }
        let mut out = String::new();
        super::hex(&mut out, &[0x0a, 0xf7, 0x00, 0xff]);
        assert_eq!(out, "0af700ff");
        assert_eq!(super::float(1.0), "1.0");
        assert_eq!(super::float(f64::INFINITY), "+Inf");
        assert_eq!(super::float(0.005), "0.005");
    }

    #[test]
    fn exemplar_timestamp_has_milliseconds() {
        let mut out = String::new();
        super::exemplar(
            &mut out,
            &super::Exemplar {
                ids: SpanIds {
                    trace_id: opentelemetry::trace::TraceId::from(1u128),
                    span_id: opentelemetry::trace::SpanId::from(2u64),
                },
                value: 0.25,
                at_nanos: 1_700_000_000_007_000_000,
            },
        );
        assert_eq!(
            out,
            " # {trace_id=\"00000000000000000000000000000001\",span_id=\"0000000000000002\"} 0.25 1700000000.007"
        );
    }
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
