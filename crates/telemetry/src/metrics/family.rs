//! Labelled metrics: one child per distinct tuple of label values.

use std::hash::{Hash, Hasher};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex, RwLock};

use hashbrown::{Equivalent, HashMap};

use super::histogram::Histogram;
use super::text;

/// A monotonically increasing count: one child of a [`CounterFamily`].
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A value set as a whole (a count of things as of the last refresh): one child of a
/// [`GaugeFamily`].
#[derive(Debug, Default)]
pub struct Gauge(std::sync::atomic::AtomicI64);

impl Gauge {
    pub fn set(&self, value: i64) {
        self.0.store(value, Relaxed);
    }

    pub(crate) fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

/// Owned label values, hashed exactly like the borrowed [`LabelRef`] used for lookups, so that a
/// lookup of an existing child allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LabelValues(Box<[Box<str>]>);

struct LabelRef<'a>(&'a [&'a str]);

fn hash_values<'a, H: Hasher>(values: impl Iterator<Item = &'a str>, state: &mut H) {
    for v in values {
        state.write(v.as_bytes());
        state.write_u8(0xff); // not valid UTF-8: keeps ("ab","c") apart from ("a","bc")
    }
}

impl Hash for LabelValues {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_values(self.0.iter().map(|s| &**s), state);
    }
}

impl Hash for LabelRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_values(self.0.iter().copied(), state);
    }
}

impl Equivalent<LabelValues> for LabelRef<'_> {
    fn equivalent(&self, key: &LabelValues) -> bool {
        self.0.len() == key.0.len() && self.0.iter().zip(key.0.iter()).all(|(a, b)| *a == &**b)
    }
}

/// Children of one metric family, one per distinct tuple of label values, created on first use.
/// Registered through `Telemetry::histogram` / `Telemetry::counter`.
pub struct Family<M> {
    label_names: &'static [&'static str],
    children: RwLock<HashMap<LabelValues, Child<M>>>,
    make: Box<dyn Fn() -> M + Send + Sync>,
    /// Bumped (under the write lock) whenever a child is added: tells [`Family::children`] that
    /// its sorted list is out of date.
    generation: AtomicU64,
    /// The children sorted by label values, as of `.0` (a generation), for the encoder.
    sorted: Mutex<(u64, Arc<[Child<M>]>)>,
}

/// Counters by label values: `family.get(&["hit"]).inc()`.
pub type CounterFamily = Family<Counter>;
/// Gauges by label values: `family.get(&["lt_1m"]).set(3)`.
pub type GaugeFamily = Family<Gauge>;
/// Histograms by label values: `family.get(&["US", "card"]).observe(v, Exemplar::CurrentSpan)`.
pub type HistogramFamily = Family<Histogram>;

/// One child of a family, for encoding: its label pairs rendered once, when the child was created
/// (`a="x",b="y"`, escaped; empty without labels), and the metric.
pub(crate) struct Child<M> {
    pub labels: Arc<str>,
    pub metric: Arc<M>,
}

impl<M> Clone for Child<M> {
    fn clone(&self) -> Self {
        Self {
            labels: Arc::clone(&self.labels),
            metric: Arc::clone(&self.metric),
        }
    }
}

impl<M> std::fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("label_names", &self.label_names)
            .finish_non_exhaustive()
    }
}

impl<M> Family<M> {
    pub(crate) fn new(
        label_names: &'static [&'static str],
        make: impl Fn() -> M + Send + Sync + 'static,
    ) -> Self {
        Self {
            label_names,
            children: RwLock::new(HashMap::new()),
            make: Box::new(make),
            generation: AtomicU64::new(1),
            sorted: Mutex::new((0, Arc::from(Vec::new()))),
        }
    }

    /// The child for these label values (in the order of the family's label names).
    ///
    /// An existing child costs a read lock and a hash lookup with the borrowed values: no
    /// allocation (`tests/zero_alloc.rs` checks it).
    ///
    /// # Panics
    /// If the number of values differs from the number of label names: that is a programming
    /// error in the caller, found by the first test that touches the metric.
    pub fn get(&self, values: &[&str]) -> Arc<M> {
        assert_eq!(
            values.len(),
            self.label_names.len(),
            "label values for {:?}",
            self.label_names
        );
        let key = LabelRef(values);
        if let Some(child) = self.read().get(&key) {
            return Arc::clone(&child.metric);
        }
        let mut children = self.children.write().unwrap_or_else(|p| p.into_inner());
        if let Some(child) = children.get(&key) {
            return Arc::clone(&child.metric);
        }
        let owned = LabelValues(values.iter().map(|v| Box::<str>::from(*v)).collect());
        let child = Child {
            labels: render_labels(self.label_names, values).into(),
            metric: Arc::new((self.make)()),
        };
        let metric = Arc::clone(&child.metric);
        children.insert(owned, child);
        self.generation.fetch_add(1, Release);
        metric
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<LabelValues, Child<M>>> {
        self.children.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Children sorted by label values, so that scrapes are stable and diffable. Sorted once
    /// per change of the set of children, not once per scrape.
    pub(crate) fn children(&self) -> Arc<[Child<M>]> {
        let mut sorted = self.sorted.lock().unwrap_or_else(|p| p.into_inner());
        let generation = self.generation.load(Acquire);
        if sorted.0 != generation {
            let map = self.read();
            let mut v: Vec<(&LabelValues, &Child<M>)> = map.iter().collect();
            v.sort_by(|a, b| a.0 .0.cmp(&b.0 .0));
            let list: Arc<[Child<M>]> = v.into_iter().map(|(_, c)| c.clone()).collect();
            *sorted = (generation, list);
        }
        Arc::clone(&sorted.1)
    }
}

/// `a="x",b="y"` with OpenMetrics escaping of the values.
fn render_labels(names: &[&str], values: &[&str]) -> String {
    let mut out = String::new();
    for (i, (n, v)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(n);
        out.push_str("=\"");
        text::escape(&mut out, v, true);
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_same_child_and_boundaries_matter() {
        let f: CounterFamily = Family::new(&["a", "b"], Counter::default);
        f.get(&["x", "yz"]).inc();
        f.get(&["x", "yz"]).inc();
        f.get(&["xy", "z"]).inc();
        let children = f.children();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].metric.get(), 2);
        assert_eq!(&*children[0].labels, "a=\"x\",b=\"yz\"");
        assert_eq!(children[1].metric.get(), 1);
    }

    #[test]
    fn the_sorted_list_follows_new_children() {
        let f: CounterFamily = Family::new(&["a"], Counter::default);
        f.get(&["b"]).inc();
        assert_eq!(f.children().len(), 1);
        let again = f.children();
        assert!(
            Arc::ptr_eq(&again, &f.children()),
            "cached while nothing changes"
        );
        f.get(&["a\"\n\\"]).inc();
        let children = f.children();
        assert_eq!(children.len(), 2);
        assert_eq!(&*children[0].labels, r#"a="a\"\n\\""#);
    }
}
