//! A trace as the waterfall needs it, and the two questions asked of it: where was the time
//! spent (self time), and which spans did the end-to-end latency wait on (critical path).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::id::TraceId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", content = "message", rename_all = "lowercase")]
pub enum Status {
    Unset,
    Ok,
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Span {
    /// 16 lowercase hex digits.
    pub span_id: String,
    pub parent_span_id: Option<String>,
    /// `service.name` of the span's resource.
    pub service: String,
    pub name: String,
    pub kind: SpanKind,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub status: Status,
    /// Attributes flattened to plain JSON values, in the order the backend gave them.
    pub attributes: Vec<(String, Value)>,
}

impl Span {
    pub fn duration_nanos(&self) -> u64 {
        self.end_unix_nanos.saturating_sub(self.start_unix_nanos)
    }

    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// The spans of one trace, sorted by start time.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub trace_id: TraceId,
    pub spans: Vec<Span>,
}

/// What [`Trace::analyse`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// Earliest start.
    pub start_unix_nanos: u64,
    /// Latest end minus earliest start.
    pub duration_nanos: u64,
    /// Per span (same index as `Trace::spans`): its duration minus the time covered by its
    /// children, clipped to the span.
    pub self_nanos: Vec<u64>,
    /// Per span: on the critical path of the main root.
    pub critical: Vec<bool>,
    /// Per span: its depth in the tree (roots are 0), and its parent's index if received.
    pub depth: Vec<usize>,
    pub parent: Vec<Option<usize>>,
    /// Depth-first order for display: parents before children, siblings by start time.
    pub order: Vec<usize>,
    /// The span holding the most self time: where the time was actually spent. Every ancestor
    /// of a slow span lasts at least as long as it, so the longest *duration* is always the
    /// root; the longest *self time* is the span to look at.
    pub slowest: Option<usize>,
}

impl Trace {
    /// Sorts the spans by start time and builds a trace.
    pub fn new(trace_id: TraceId, mut spans: Vec<Span>) -> Trace {
        spans.sort_by_key(|s| s.start_unix_nanos);
        Trace { trace_id, spans }
    }

    pub fn analyse(&self) -> Analysis {
        let spans = &self.spans;
        let by_id: HashMap<&str, usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id.as_str(), i))
            .collect();
        let parent: Vec<Option<usize>> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parent_span_id
                    .as_deref()
                    .and_then(|p| by_id.get(p).copied())
                    .filter(|p| *p != i)
            })
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }

        let (order, depth) = display_order(spans.len(), &parent, &children);
        let self_nanos = (0..spans.len())
            .map(|i| self_time(spans, i, &children[i]))
            .collect::<Vec<_>>();

        let mut critical = vec![false; spans.len()];
        let main_root = (0..spans.len())
            .filter(|i| parent[*i].is_none())
            .max_by_key(|i| (spans[*i].duration_nanos(), std::cmp::Reverse(*i)));
        if let Some(root) = main_root {
            mark_critical(
                spans,
                &children,
                root,
                spans[root].end_unix_nanos,
                &mut critical,
            );
        }

        let start = spans
            .iter()
            .map(|s| s.start_unix_nanos)
            .min()
            .unwrap_or_default();
        let end = spans
            .iter()
            .map(|s| s.end_unix_nanos)
            .max()
            .unwrap_or_default();
        let slowest = (0..spans.len()).max_by_key(|i| (self_nanos[*i], std::cmp::Reverse(*i)));
        Analysis {
            start_unix_nanos: start,
            duration_nanos: end.saturating_sub(start),
            self_nanos,
            critical,
            depth,
            parent,
            order,
            slowest,
        }
    }
}

/// Depth-first, children in start order; spans whose parent was not received are extra roots,
/// and a span caught in a parent cycle is still shown once.
fn display_order(
    n: usize,
    parent: &[Option<usize>],
    children: &[Vec<usize>],
) -> (Vec<usize>, Vec<usize>) {
    let mut order = Vec::with_capacity(n);
    let mut depth = vec![0; n];
    let mut seen = vec![false; n];
    let roots: Vec<usize> = (0..n).filter(|i| parent[*i].is_none()).collect();
    let leftovers = 0..n;
    for start in roots.into_iter().chain(leftovers) {
        let mut stack = vec![(start, 0usize)];
        while let Some((i, d)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            order.push(i);
            depth[i] = d;
            // Spans are sorted by start, so children are too; reversed for the stack.
            stack.extend(children[i].iter().rev().map(|c| (*c, d + 1)));
        }
    }
    (order, depth)
}

/// The span's duration minus the union of its children's intervals, each clipped to the span.
fn self_time(spans: &[Span], i: usize, children: &[usize]) -> u64 {
    let span = &spans[i];
    let (from, to) = (span.start_unix_nanos, span.end_unix_nanos);
    let mut intervals: Vec<(u64, u64)> = children
        .iter()
        .map(|c| {
            let child = &spans[*c];
            (
                child.start_unix_nanos.clamp(from, to),
                child.end_unix_nanos.clamp(from, to),
            )
        })
        .filter(|(a, b)| b > a)
        .collect();
    intervals.sort_unstable();
    let mut covered = 0;
    let mut current: Option<(u64, u64)> = None;
    for (a, b) in intervals {
        current = match current {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                covered += cb - ca;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some((ca, cb)) = current {
        covered += cb - ca;
    }
    span.duration_nanos().saturating_sub(covered)
}

/// The critical path as Jaeger defines it: walking back from the span's end, the child that
/// finished last before the cursor is what the span waited on; its own critical path is
/// followed, and the cursor moves to that child's start. Children overlapping the chosen one
/// ran in parallel with it and did not delay the parent.
fn mark_critical(
    spans: &[Span],
    children: &[Vec<usize>],
    i: usize,
    cursor_end: u64,
    critical: &mut [bool],
) {
    if std::mem::replace(&mut critical[i], true) {
        return;
    }
    let span = &spans[i];
    let mut cursor = span.end_unix_nanos.min(cursor_end);
    let mut by_end: Vec<usize> = children[i].clone();
    by_end.sort_by_key(|c| std::cmp::Reverse(spans[*c].end_unix_nanos));
    for c in by_end {
        if cursor <= span.start_unix_nanos {
            break;
        }
        let child = &spans[c];
        let end = child.end_unix_nanos.min(span.end_unix_nanos);
        if end <= cursor && child.start_unix_nanos < cursor {
            mark_critical(spans, children, c, cursor, critical);
            cursor = child.start_unix_nanos;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn span(
        id: &str,
        parent: Option<&str>,
        service: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> Span {
        Span {
            span_id: id.into(),
            parent_span_id: parent.map(Into::into),
            service: service.into(),
            name: format!("op-{id}"),
            kind: SpanKind::Internal,
            start_unix_nanos: start_ms * 1_000_000,
            end_unix_nanos: end_ms * 1_000_000,
            status: Status::Unset,
            attributes: Vec::new(),
        }
    }

    fn trace(spans: Vec<Span>) -> Trace {
        Trace::new(TraceId::parse_hex("ab").unwrap(), spans)
    }

    fn index(t: &Trace, id: &str) -> usize {
        t.spans.iter().position(|s| s.span_id == id).unwrap()
    }

    /// A checkout: the order server span calls the catalog, then the gateway, whose
    /// `charge.process` span holds the time.
    pub(crate) fn checkout() -> Trace {
        trace(vec![
            span("root", None, "order-service", 0, 6_300),
            span("cat", Some("root"), "order-service", 5, 40),
            span("cat-srv", Some("cat"), "catalog-service", 10, 35),
            span("db", Some("root"), "order-service", 45, 50),
            span("pay", Some("root"), "order-service", 60, 6_250),
            span("gw", Some("pay"), "payment-gateway", 65, 6_245),
            span("charge", Some("gw"), "payment-gateway", 70, 6_200),
            span("gw-db", Some("gw"), "payment-gateway", 6_200, 6_240),
        ])
    }

    #[test]
    fn the_slowest_span_is_the_one_holding_self_time_not_the_root() {
        let t = checkout();
        let a = t.analyse();
        assert_eq!(a.duration_nanos, 6_300_000_000);
        let slowest = a.slowest.unwrap();
        assert_eq!(t.spans[slowest].span_id, "charge");
        assert_eq!(a.self_nanos[slowest], 6_130_000_000);
        // The root waited on its children for all but the gaps: 5 + 5 + 10 + 50 ms.
        assert_eq!(a.self_nanos[index(&t, "root")], 70_000_000);
        assert_eq!(a.self_nanos[index(&t, "gw")], 10_000_000);
    }

    #[test]
    fn the_critical_path_follows_what_each_parent_waited_on() {
        let t = checkout();
        let a = t.analyse();
        let on_path: Vec<&str> = a
            .order
            .iter()
            .filter(|i| a.critical[**i])
            .map(|i| t.spans[*i].span_id.as_str())
            .collect();
        assert_eq!(
            on_path,
            ["root", "cat", "cat-srv", "db", "pay", "gw", "charge", "gw-db"]
        );

        // Two children in parallel: only the one that finished last delayed the parent.
        let t = trace(vec![
            span("p", None, "s", 0, 100),
            span("fast", Some("p"), "s", 10, 40),
            span("slow", Some("p"), "s", 10, 90),
        ]);
        let a = t.analyse();
        assert!(a.critical[index(&t, "slow")]);
        assert!(!a.critical[index(&t, "fast")]);
        assert_eq!(a.self_nanos[index(&t, "p")], 20_000_000);
    }

    #[test]
    fn display_order_is_depth_first_and_keeps_orphans_and_cycles() {
        let t = checkout();
        let a = t.analyse();
        let shown: Vec<(&str, usize)> = a
            .order
            .iter()
            .map(|i| (t.spans[*i].span_id.as_str(), a.depth[*i]))
            .collect();
        assert_eq!(
            shown,
            [
                ("root", 0),
                ("cat", 1),
                ("cat-srv", 2),
                ("db", 1),
                ("pay", 1),
                ("gw", 2),
                ("charge", 3),
                ("gw-db", 3)
            ]
        );

        let t = trace(vec![
            span("a", Some("b"), "x", 0, 1),
            span("b", Some("a"), "x", 0, 1),
            span("o", Some("missing"), "y", 0, 5),
        ]);
        let a = t.analyse();
        assert_eq!(a.order.len(), 3);
        assert_eq!(a.slowest, Some(index(&t, "o")));
        assert!(a.critical[index(&t, "o")], "the longest root's path");
    }
}
