//! Reading the test's traces back from the in-process sink.

use std::time::Duration;

use test_support::StoredSpan;
use wiremock::Request;

/// `(trace_id, parent_id, flags)` of a `traceparent` a mock received.
pub fn parse_traceparent(request: &Request) -> (String, String, String) {
    let value = request
        .headers
        .get("traceparent")
        .unwrap_or_else(|| panic!("no traceparent on {} {}", request.method, request.url))
        .to_str()
        .expect("ASCII traceparent");
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "malformed traceparent {value:?}");
    assert_eq!(parts[0], "00", "version of {value:?}");
    assert_eq!(parts[1].len(), 32, "trace id of {value:?}");
    assert_eq!(parts[2].len(), 16, "parent id of {value:?}");
    (
        parts[1].to_owned(),
        parts[2].to_owned(),
        parts[3].to_owned(),
    )
}

/// Waits (up to 5 s) until the trace holds every span id in `span_ids` and every ancestor of
/// them up to a span whose parent is `remote_parent` (the span id the test sent).
pub async fn wait_for_spans(
    trace_id: &str,
    span_ids: &[String],
    remote_parent: &str,
) -> Vec<StoredSpan> {
    let wanted: Vec<String> = span_ids.to_vec();
    let remote = remote_parent.to_owned();
    test_support::telemetry()
        .store
        .wait_for_trace(
            trace_id,
            move |spans| {
                wanted
                    .iter()
                    .all(|id| chain_to_remote(spans, id, &remote).is_some())
            },
            Duration::from_secs(5),
        )
        .await
}

/// The spans from `span_id` up through its parents to the one whose parent is `remote_parent`,
/// or `None` if a link is missing.
pub fn chain_to_remote<'a>(
    spans: &'a [StoredSpan],
    span_id: &str,
    remote_parent: &str,
) -> Option<Vec<&'a StoredSpan>> {
    let mut chain = Vec::new();
    let mut current = spans.iter().find(|s| s.span_id == span_id)?;
    loop {
        chain.push(current);
        let parent = current.parent_span_id.as_deref()?;
        if parent == remote_parent {
            return Some(chain);
        }
        if chain.len() > spans.len() {
            return None;
        }
        current = spans.iter().find(|s| s.span_id == parent)?;
    }
}

pub fn describe(spans: &[StoredSpan]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} {} [{}] parent={:?} ({})",
                s.span_id, s.name, s.kind, s.parent_span_id, s.service_name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
