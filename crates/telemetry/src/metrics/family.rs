//! Labelled metrics: one child per distinct tuple of label values.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use hashbrown::{Equivalent, HashMap};

use super::Histogram;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }
    pub fn inc_by(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
    pub fn get(&self) -> u64 {
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

/// Children of one metric family, created on first use.
pub struct Family<M> {
    label_names: &'static [&'static str],
    children: RwLock<HashMap<LabelValues, Arc<M>>>,
    make: Box<dyn Fn() -> M + Send + Sync>,
}

pub type CounterFamily = Family<Counter>;
/// One child of a family, for encoding: its label values and the metric.
pub(crate) type Child<M> = (Box<[Box<str>]>, Arc<M>);
pub type HistogramFamily = Family<Histogram>;

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
        }
    }

    pub fn label_names(&self) -> &'static [&'static str] {
        self.label_names
    }

    /// The child for these label values (in the order of the family's label names).
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
            return Arc::clone(child);
        }
        let mut children = self.children.write().unwrap_or_else(|p| p.into_inner());
        let owned = LabelValues(values.iter().map(|v| Box::<str>::from(*v)).collect());
        Arc::clone(
            children
                .entry(owned)
                .or_insert_with(|| Arc::new((self.make)())),
        )
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<LabelValues, Arc<M>>> {
        self.children.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Children sorted by label values, so that scrapes are stable and diffable.
    pub(crate) fn children(&self) -> Vec<Child<M>> {
        let mut v: Vec<_> = self
            .read()
            .iter()
            .map(|(k, m)| (k.0.clone(), Arc::clone(m)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
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
        assert_eq!(children[0].1.get(), 2);
        assert_eq!(children[1].1.get(), 1);
    }
}
