//! A trace as a terminal waterfall: one line per span in tree order, with its start offset,
//! duration, self time and a bar placing it in the trace, then the span's key attributes.
//!
//! ```text
//!     offset  duration      self  timeline                          span
//! *     0 µs    6.31 s   70.0 ms  |==============================|  order-service: POST /api/v1/checkout (server)
//!                                                                      http.route=/api/v1/checkout http.response.status_code=201
//! ```
//!
//! `*` marks the critical path, `<= exemplar` the span the exemplar points at. Plain text, so the
//! same output reads in a terminal, a CI log and a document.

use std::fmt::Write as _;

use serde_json::Value;

use super::model::{Analysis, Span, SpanKind, Status, Trace};

const BAR_WIDTH: usize = 30;
/// At most this many attributes per span, each value cut at [`VALUE_WIDTH`] characters.
const MAX_ATTRIBUTES: usize = 5;
const VALUE_WIDTH: usize = 48;
/// Where the tree starts on a line: marker, three 9-wide columns, the bar between `|`s, gaps.
const TREE_COLUMN: usize = 1 + 3 * (1 + 9) + 2 + (BAR_WIDTH + 2) + 2;

/// Attributes worth a reader's eye, in the order shown; any `webstore.*` attribute follows.
const KEY_ATTRIBUTES: &[&str] = &[
    "http.route",
    "http.response.status_code",
    "server.address",
    "db.system",
    "db.system.name",
    "db.operation",
    "db.operation.name",
    "payment.method",
    "gateway.delay_ms",
    "charge.outcome",
    "error.type",
    "exception.message",
];

/// The waterfall of `trace`; `exemplar_span` is marked if it is one of its spans.
pub fn render(trace: &Trace, analysis: &Analysis, exemplar_span: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:>9} {:>9} {:>9}  {:<width$}  span",
        "offset",
        "duration",
        "self",
        "timeline",
        width = BAR_WIDTH + 2
    );
    for &i in &analysis.order {
        let span = &trace.spans[i];
        let offset = span
            .start_unix_nanos
            .saturating_sub(analysis.start_unix_nanos);
        let _ = write!(
            out,
            "{} {:>9} {:>9} {:>9}  |{}|  {}{}: {}",
            if analysis.critical[i] { '*' } else { ' ' },
            duration(offset),
            duration(span.duration_nanos()),
            duration(analysis.self_nanos[i]),
            bar(offset, span.duration_nanos(), analysis.duration_nanos),
            "  ".repeat(analysis.depth[i]),
            span.service,
            span.name,
        );
        if matches!(span.kind, SpanKind::Server | SpanKind::Client) {
            let _ = write!(out, " ({})", span.kind.as_str());
        }
        if let Status::Error(message) = &span.status {
            if message.is_empty() {
                out.push_str(" ERROR");
            } else {
                let _ = write!(out, " ERROR: {}", cut(message));
            }
        }
        if span.parent_span_id.is_some() && analysis.parent[i].is_none() {
            out.push_str(" [parent not received]");
        }
        if exemplar_span == Some(span.span_id.as_str()) {
            out.push_str("  <= exemplar");
        }
        out.push('\n');
        let attributes = key_attributes(span);
        if !attributes.is_empty() {
            let indent = TREE_COLUMN + 2 * analysis.depth[i];
            let _ = writeln!(out, "{}{}", " ".repeat(indent), attributes.join(" "));
        }
    }
    out
}

/// `key=value` for the span's key attributes, five at most.
pub fn key_attributes(span: &Span) -> Vec<String> {
    let preferred = KEY_ATTRIBUTES
        .iter()
        .filter_map(|key| span.attribute(key).map(|v| (*key, v)));
    let ours = span
        .attributes
        .iter()
        .filter(|(k, _)| k.starts_with("webstore."))
        .map(|(k, v)| (k.as_str(), v));
    preferred
        .chain(ours)
        .take(MAX_ATTRIBUTES)
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{key}={}", cut(&text))
        })
        .collect()
}

/// A duration for people: µs below a millisecond, ms below a second, s above.
pub fn duration(nanos: u64) -> String {
    let nanos = nanos as f64;
    if nanos < 1e6 {
        format!("{:.0} µs", nanos / 1e3)
    } else if nanos < 1e9 {
        format!("{:.1} ms", nanos / 1e6)
    } else {
        format!("{:.2} s", nanos / 1e9)
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(VALUE_WIDTH) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// `  ====   `: where the span sits in the trace, at least one character wide.
fn bar(offset: u64, length: u64, total: u64) -> String {
    let width = BAR_WIDTH as u128;
    let (from, to) = if total == 0 {
        (0, 1)
    } else {
        let scale = |n: u64| (u128::from(n) * width / u128::from(total)) as usize;
        let from = scale(offset).min(BAR_WIDTH - 1);
        let to = scale(offset.saturating_add(length)).clamp(from + 1, BAR_WIDTH);
        (from, to)
    };
    (0..BAR_WIDTH)
        .map(|c| if (from..to).contains(&c) { '=' } else { ' ' })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::trace::model::tests::checkout;

    #[test]
    fn the_waterfall_marks_the_critical_path_and_the_exemplar() {
        let mut trace = checkout();
        let gw = trace.spans.iter_mut().find(|s| s.span_id == "gw").unwrap();
        gw.kind = SpanKind::Server;
        gw.attributes = vec![
            ("http.route".into(), json!("/v1/charges")),
            ("http.response.status_code".into(), json!(201)),
        ];
        let analysis = trace.analyse();
        let text = render(&trace, &analysis, Some("pay"));
        println!("{text}");
        let line = |needle: &str| {
            text.lines()
                .find(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("{needle} in\n{text}"))
        };
        assert!(line("op-root").starts_with('*'));
        assert!(line("op-root").contains(&format!("|{}|", "=".repeat(BAR_WIDTH))));
        assert!(line("op-pay").ends_with("<= exemplar"));
        assert!(line("op-gw").contains("      payment-gateway: op-gw (server)"));
        assert!(line("op-charge").contains("  6.13 s  "), "self time shown");
        assert!(line("http.route=/v1/charges").contains("http.response.status_code=201"));
        assert_eq!(text.lines().count(), 1 + trace.spans.len() + 1);
    }

    #[test]
    fn durations_read_in_the_right_unit() {
        assert_eq!(duration(420), "0 µs");
        assert_eq!(duration(420_000), "420 µs");
        assert_eq!(duration(12_340_000), "12.3 ms");
        assert_eq!(duration(6_306_000_000), "6.31 s");
    }
}
