//! The in-memory span store shared by the HTTP handlers and the code that queries it.
//!
//! Bounded by span count only (not by time): a dev stack or test run that exports forever keeps
//! the newest `max_spans` spans, evicting the oldest received first. A [`SpanStore::discarding`]
//! store keeps none and only counts them: a receiver for load tests, whose own CPU should not
//! compete with the load generator.

use std::collections::{HashMap, VecDeque};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::span::StoredSpan;
use crate::summary::TraceSummary;

/// Default bound: at roughly 1 KiB per span with typical attributes, about 200 MB of memory —
/// plenty for a day of local development.
pub const DEFAULT_MAX_SPANS: usize = 200_000;

/// Cheap to clone (an `Arc`); every clone sees the same spans.
#[derive(Clone)]
pub struct SpanStore {
    inner: Arc<Inner>,
}

struct Inner {
    // A std mutex, not a Tokio one: critical sections are short, synchronous and never held
    // across an `.await`, which is the case the Tokio docs recommend std's mutex for.
    state: Mutex<State>,
    // Wakes `wait_for_*` callers on every insert so tests do not sleep in fixed steps.
    inserted: Notify,
    max_spans: usize,
    discard: bool,
    /// Spans accepted since start, kept or not.
    received: AtomicU64,
}

#[derive(Default)]
struct State {
    /// Arrival order; the front is evicted first. `seq` increases by one per span, so the
    /// position of a sequence number is `seq - front.seq`.
    spans: VecDeque<Entry>,
    next_seq: u64,
    /// Trace id → sequence numbers of its spans, oldest first, so lookup avoids a full scan.
    by_trace: HashMap<String, TraceIndex>,
}

struct Entry {
    seq: u64,
    span: StoredSpan,
}

#[derive(Default)]
struct TraceIndex {
    seqs: VecDeque<u64>,
}

impl TraceIndex {
    fn last_seq(&self) -> u64 {
        self.seqs.back().copied().unwrap_or_default()
    }
}

impl State {
    fn get(&self, seq: u64) -> Option<&StoredSpan> {
        let front = self.spans.front()?.seq;
        let index = usize::try_from(seq.checked_sub(front)?).ok()?;
        self.spans.get(index).map(|entry| &entry.span)
    }

    fn trace(&self, trace_id: &str) -> Vec<StoredSpan> {
        let Some(index) = self.by_trace.get(trace_id) else {
            return Vec::new();
        };
        let mut spans: Vec<StoredSpan> = index
            .seqs
            .iter()
            .filter_map(|seq| self.get(*seq).cloned())
            .collect();
        // Stable sort: spans starting at the same nanosecond keep arrival order.
        spans.sort_by_key(|span| span.start_unix_nanos);
        spans
    }

    fn evict_oldest(&mut self) {
        let Some(entry) = self.spans.pop_front() else {
            return;
        };
        let trace_id = entry.span.trace_id;
        if let Some(index) = self.by_trace.get_mut(&trace_id) {
            index.seqs.pop_front();
            if index.seqs.is_empty() {
                self.by_trace.remove(&trace_id);
            }
        }
    }
}

impl Default for SpanStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SpanStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanStore")
            .field("max_spans", &self.inner.max_spans)
            .field("span_count", &self.span_count())
            .finish()
    }
}

impl SpanStore {
    /// A store keeping at most [`DEFAULT_MAX_SPANS`] spans.
    pub fn new() -> Self {
        Self::with_max_spans(DEFAULT_MAX_SPANS)
    }

    /// A store keeping at most `max_spans` spans (at least one).
    pub fn with_max_spans(max_spans: usize) -> Self {
        Self::build(max_spans.max(1), false)
    }

    /// A store that keeps no span: [`insert`](Self::insert) only counts them, so queries find
    /// nothing. For load tests, where the receiver should cost as little as possible.
    pub fn discarding() -> Self {
        Self::build(1, true)
    }

    fn build(max_spans: usize, discard: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                inserted: Notify::new(),
                max_spans,
                discard,
                received: AtomicU64::new(0),
            }),
        }
    }

    /// Whether this store drops every span (see [`SpanStore::discarding`]).
    pub fn is_discarding(&self) -> bool {
        self.inner.discard
    }

    /// Spans accepted since start, including evicted and discarded ones.
    pub fn received(&self) -> u64 {
        self.inner.received.load(Relaxed)
    }

    /// Counts `n` spans as received (a discarding store's fast path calls it without decoding).
    pub fn count_received(&self, n: u64) {
        self.inner.received.fetch_add(n, Relaxed);
    }

    pub fn max_spans(&self) -> usize {
        self.inner.max_spans
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-updated in a way that matters
        // for a dev tool; keep serving rather than poisoning every later request.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores spans, evicting the oldest received once the bound is reached.
    pub fn insert(&self, spans: impl IntoIterator<Item = StoredSpan>) {
        if self.inner.discard {
            self.count_received(spans.into_iter().count() as u64);
            return;
        }
        {
            let mut state = self.state();
            let first_seq = state.next_seq;
            for span in spans {
                if state.spans.len() >= self.inner.max_spans {
                    state.evict_oldest();
                }
                let seq = state.next_seq;
                state.next_seq += 1;
                state
                    .by_trace
                    .entry(span.trace_id.clone())
                    .or_default()
                    .seqs
                    .push_back(seq);
                state.spans.push_back(Entry { seq, span });
            }
            self.count_received(state.next_seq - first_seq);
        }
        self.inner.inserted.notify_waiters();
    }

    /// The spans of one trace sorted by start time; empty if unknown. The id is matched
    /// case-insensitively (ids are stored lowercase) and surrounding whitespace is ignored.
    pub fn trace(&self, trace_id: &str) -> Vec<StoredSpan> {
        let wanted = normalize_id(trace_id);
        self.state().trace(&wanted)
    }

    /// Number of spans currently held.
    pub fn span_count(&self) -> usize {
        self.state().spans.len()
    }

    /// Every stored span in arrival order (a copy; fine for tests, costly on a full store).
    pub fn all_spans(&self) -> Vec<StoredSpan> {
        self.state().spans.iter().map(|e| e.span.clone()).collect()
    }

    /// Trace ids, most recently updated (latest span received) first.
    pub fn trace_ids(&self) -> Vec<String> {
        let state = self.state();
        let mut ids: Vec<(u64, &String)> = state
            .by_trace
            .iter()
            .map(|(id, index)| (index.last_seq(), id))
            .collect();
        ids.sort_unstable_by_key(|(last_seq, _)| std::cmp::Reverse(*last_seq));
        ids.into_iter().map(|(_, id)| id.clone()).collect()
    }

    /// Summaries of the `limit` most recently updated traces, most recent first.
    pub fn recent_traces(&self, limit: usize) -> Vec<TraceSummary> {
        self.trace_ids()
            .into_iter()
            .take(limit)
            .filter_map(|id| {
                let spans = self.trace(&id);
                TraceSummary::from_spans(&id, &spans)
            })
            .collect()
    }

    /// Drops every span (for tests that reuse one sink).
    pub fn clear(&self) {
        let mut state = self.state();
        state.spans.clear();
        state.by_trace.clear();
    }

    /// Waits until `predicate` holds for the trace's spans (sorted by start time) or `timeout`
    /// passes, then returns the spans either way: on timeout the caller's assertion shows what did
    /// arrive, which is a better failure message than "timed out".
    ///
    /// Needs a Tokio time driver (`#[tokio::test]`, `#[actix_web::test]`, actix-web handlers).
    pub async fn wait_for_trace(
        &self,
        trace_id: &str,
        predicate: impl Fn(&[StoredSpan]) -> bool,
        timeout: Duration,
    ) -> Vec<StoredSpan> {
        let wanted = normalize_id(trace_id);
        self.wait_until(|| self.state().trace(&wanted), predicate, timeout)
            .await
    }

    /// Like [`wait_for_trace`](Self::wait_for_trace) over every stored span (arrival order), for
    /// tests that do not know the trace id in advance ("at least N spans").
    pub async fn wait_for_spans(
        &self,
        predicate: impl Fn(&[StoredSpan]) -> bool,
        timeout: Duration,
    ) -> Vec<StoredSpan> {
        self.wait_until(|| self.all_spans(), predicate, timeout)
            .await
    }

    async fn wait_until(
        &self,
        snapshot: impl Fn() -> Vec<StoredSpan>,
        predicate: impl Fn(&[StoredSpan]) -> bool,
        timeout: Duration,
    ) -> Vec<StoredSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before looking, so an insert between the look and the wait
            // still wakes us.
            let mut notified = pin!(self.inner.inserted.notified());
            notified.as_mut().enable();
            let spans = snapshot();
            if predicate(&spans) {
                return spans;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return snapshot();
            }
        }
    }
}

/// Ids are stored as lowercase hex; accept what a human pastes from a log or Grafana.
pub(crate) fn normalize_id(id: &str) -> String {
    id.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn span(trace: &str, id: &str, start: u64) -> StoredSpan {
        StoredSpan {
            trace_id: trace.into(),
            span_id: id.into(),
            parent_span_id: None,
            name: format!("span {id}"),
            kind: "internal".into(),
            service_name: "svc".into(),
            start_unix_nanos: start,
            end_unix_nanos: start + 10,
            attributes: Map::new(),
            status_code: "unset".into(),
            status_message: String::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn trace_lookup_is_sorted_by_start_and_case_insensitive() {
        let store = SpanStore::new();
        store.insert([span("ab", "2", 20), span("ab", "1", 10), span("cd", "3", 5)]);
        let ids: Vec<_> = store.trace(" AB ").into_iter().map(|s| s.span_id).collect();
        assert_eq!(ids, ["1", "2"]);
        assert!(store.trace("ef").is_empty());
    }

    #[test]
    fn oldest_spans_are_evicted_and_index_follows() {
        let store = SpanStore::with_max_spans(3);
        store.insert([span("a", "1", 1), span("b", "2", 2), span("a", "3", 3)]);
        store.insert([span("c", "4", 4), span("c", "5", 5)]);
        assert_eq!(store.span_count(), 3);
        // "a"/1 and "b"/2 were the oldest two.
        assert_eq!(store.trace("a").len(), 1);
        assert!(store.trace("b").is_empty());
        assert_eq!(store.trace_ids(), ["c", "a"]);
        assert_eq!(store.trace("c").len(), 2);
    }

    #[test]
    fn trace_ids_are_most_recently_updated_first() {
        let store = SpanStore::new();
        store.insert([span("a", "1", 1), span("b", "2", 2)]);
        store.insert([span("a", "3", 3)]);
        assert_eq!(store.trace_ids(), ["a", "b"]);
        store.clear();
        assert!(store.trace_ids().is_empty());
        assert_eq!(store.span_count(), 0);
    }

    #[tokio::test]
    async fn wait_for_trace_wakes_on_insert_and_returns_partial_on_timeout() {
        let store = SpanStore::new();
        let writer = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.insert([span("ab", "1", 1)]);
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.insert([span("ab", "2", 2)]);
        });
        let got = store
            .wait_for_trace("AB", |s| s.len() == 2, Duration::from_secs(5))
            .await;
        assert_eq!(got.len(), 2);

        let partial = store
            .wait_for_trace("ab", |s| s.len() == 3, Duration::from_millis(30))
            .await;
        assert_eq!(partial.len(), 2);
    }
}
