//! A plain-text trace waterfall: one line per span, children indented under their parent, with
//! the offset from the trace start, the duration and a proportional timeline bar.
//!
//! Plain text on purpose: the same output serves the `/` page, test failure messages and a
//! terminal CLI, and needs no front-end to read a trace without Tempo.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::span::{nanos_to_ms, StoredSpan};

/// Width of the timeline bar in characters.
const BAR_WIDTH: u64 = 30;
/// Indentation added per tree level.
const INDENT: &str = "  ";

/// Renders `spans` (normally one trace, in any order) as an indented tree.
///
/// Spans whose parent was not received (yet) are shown as extra roots and marked, so a missing
/// service export is visible rather than hidden. Each span appears exactly once, even if the
/// parent links of malformed input form a cycle.
pub fn waterfall(spans: &[StoredSpan]) -> String {
    let mut out = String::new();
    let Some(trace_start) = spans.iter().map(|s| s.start_unix_nanos).min() else {
        out.push_str("(no spans)\n");
        return out;
    };
    let trace_end = spans
        .iter()
        .map(|s| s.end_unix_nanos)
        .max()
        .unwrap_or(trace_start);
    let total = trace_end.saturating_sub(trace_start);

    // Children in start order; ties keep input order (stable sort).
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i].start_unix_nanos);
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for &i in &order {
        by_id.entry(spans[i].span_id.as_str()).or_insert(i);
    }
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for &i in &order {
        match spans[i]
            .parent_span_id
            .as_deref()
            .and_then(|p| by_id.get(p))
        {
            Some(&parent) if parent != i => children.entry(parent).or_default().push(i),
            _ => roots.push(i),
        }
    }

    let _ = writeln!(
        out,
        "{:>12} {:>12}  {:<width$}  service: span",
        "offset",
        "duration",
        "timeline",
        width = BAR_WIDTH as usize + 2
    );
    let mut visited = vec![false; spans.len()];
    // Iterative depth-first walk: deep traces cannot overflow the stack.
    let render = |start: usize, out: &mut String, visited: &mut Vec<bool>| {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            if std::mem::replace(&mut visited[i], true) {
                continue;
            }
            render_line(
                out,
                &spans[i],
                depth,
                trace_start,
                total,
                by_id.contains_key(spans[i].parent_span_id.as_deref().unwrap_or_default()),
            );
            if let Some(kids) = children.get(&i) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
    };
    for &root in &roots {
        render(root, &mut out, &mut visited);
    }
    // Only reachable when parent links form a cycle: show those spans rather than drop them.
    for &i in &order {
        if !visited[i] {
            render(i, &mut out, &mut visited);
        }
    }
    out
}

fn render_line(
    out: &mut String,
    span: &StoredSpan,
    depth: usize,
    trace_start: u64,
    total: u64,
    parent_present: bool,
) {
    let offset = span.start_unix_nanos.saturating_sub(trace_start);
    let _ = write!(
        out,
        "{:>9.3} ms {:>9.3} ms  |{}|  {}{}: {}",
        nanos_to_ms(offset),
        span.duration_ms(),
        bar(offset, span.duration_nanos(), total),
        INDENT.repeat(depth),
        span.service_name,
        span.name,
    );
    if span.kind != "internal" && span.kind != "unspecified" {
        let _ = write!(out, " ({})", span.kind);
    }
    if span.status_code == "error" {
        if span.status_message.is_empty() {
            out.push_str(" [error]");
        } else {
            let _ = write!(out, " [error: {}]", span.status_message);
        }
    }
    if let (Some(parent), false) = (&span.parent_span_id, parent_present) {
        let _ = write!(out, " [parent {parent} not received]");
    }
    out.push('\n');
}

/// `|  ====      |`: where the span sits within the trace, at least one character wide.
fn bar(offset: u64, duration: u64, total: u64) -> String {
    let (from, to) = if total == 0 {
        (0, 1)
    } else {
        // u128 so `nanos * width` cannot overflow for any u64 timestamps.
        let scale = |n: u64| (u128::from(n) * u128::from(BAR_WIDTH) / u128::from(total)) as u64;
        let from = scale(offset).min(BAR_WIDTH - 1);
        let to = scale(offset.saturating_add(duration)).clamp(from + 1, BAR_WIDTH);
        (from, to)
    };
    (0..BAR_WIDTH)
        .map(|c| if (from..to).contains(&c) { '=' } else { ' ' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn span(
        id: &str,
        parent: Option<&str>,
        service: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> StoredSpan {
        StoredSpan {
            trace_id: "t".into(),
            span_id: id.into(),
            parent_span_id: parent.map(Into::into),
            name: format!("op-{id}"),
            kind: "internal".into(),
            service_name: service.into(),
            start_unix_nanos: start_ms * 1_000_000,
            end_unix_nanos: end_ms * 1_000_000,
            attributes: Map::new(),
            status_code: "unset".into(),
            status_message: String::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    fn line_of<'a>(text: &'a str, name: &str) -> &'a str {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name} in\n{text}"))
    }

    #[test]
    fn children_are_indented_under_parents_in_start_order() {
        let spans = [
            span("c2", Some("root"), "order", 50, 90),
            span("gc", Some("c1"), "payment", 20, 30),
            span("root", None, "order", 0, 100),
            span("c1", Some("root"), "order", 10, 40),
        ];
        let text = waterfall(&spans);
        let names: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.rsplit(' ').next().unwrap_or_default())
            .collect();
        assert_eq!(names, ["op-root", "op-c1", "op-gc", "op-c2"], "\n{text}");
        assert!(line_of(&text, "op-root").contains("|  order: op-root"));
        assert!(line_of(&text, "op-c1").contains("|    order: op-c1"));
        assert!(line_of(&text, "op-gc").contains("|      payment: op-gc"));
        assert!(line_of(&text, "op-gc").contains("20.000 ms"));
        assert!(line_of(&text, "op-gc").contains("10.000 ms"));
        assert!(line_of(&text, "op-root").contains(&format!("|{}|", "=".repeat(30))));
    }

    #[test]
    fn orphans_and_cycles_are_shown_not_dropped() {
        let spans = [
            span("a", Some("b"), "x", 0, 1),
            span("b", Some("a"), "x", 0, 1),
            span("o", Some("missing"), "y", 0, 1),
        ];
        let text = waterfall(&spans);
        assert_eq!(text.lines().count(), 4, "\n{text}");
        assert!(line_of(&text, "op-o").contains("[parent missing not received]"));
        assert_eq!(waterfall(&[]), "(no spans)\n");
    }

    #[test]
    fn zero_length_trace_still_draws_a_bar() {
        assert_eq!(bar(0, 0, 0).trim_end(), "=");
        assert_eq!(bar(100, 0, 100).len(), 30);
        assert!(bar(100, 0, 100).ends_with('='));
    }
}
