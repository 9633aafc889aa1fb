//! The registry: metric families by name, encoded together for one scrape.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::encode;
use super::family::{Counter, CounterFamily, Family, HistogramFamily};
use super::histogram::Bounds;
use super::Histogram;

/// The content type Prometheus asks for when it wants exemplars.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(crate) enum Metric {
    Counter(Arc<CounterFamily>),
    Histogram(Arc<HistogramFamily>),
}

pub(crate) struct Descriptor {
    pub name: String,
    /// `# TYPE …` and `# HELP …` lines, rendered at registration.
    pub header: String,
    pub metric: Metric,
}

impl Descriptor {
    fn new(name: &str, help: &str, metric: Metric) -> Self {
        let header = encode::header(name, help, &metric);
        Self {
            name: name.to_owned(),
            header,
            metric,
        }
    }
}

/// A set of metric families, cheap to clone (shared), encoded by [`Registry::encode`].
///
/// Each service builds one at start-up and hands it to the middleware, its clients and its own
/// instruments. The span pipeline counters (`otel_sdk_exporter_span_exported_total`) are
/// process-wide, because the tracer provider is, and every registry includes them.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    families: RwLock<Vec<Descriptor>>,
    exemplar_max_age: Duration,
    /// Length of the previous scrape's text: the next one allocates its buffer once.
    last_len: AtomicUsize,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(Duration::from_secs(600))
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("exemplar_max_age", &self.inner.exemplar_max_age)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// `exemplar_max_age`: exemplars older than this are left out of scrapes (`EXEMPLAR_MAX_AGE`).
    pub fn new(exemplar_max_age: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                families: RwLock::new(Vec::new()),
                exemplar_max_age,
                last_len: AtomicUsize::new(0),
            }),
        }
    }

    /// Registers a counter family. `name` is without `_total`; the encoder adds it.
    /// Registering the same name twice returns the first family (so two middlewares built from
    /// one registry share their counts) — but the kinds must agree.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &'static [&'static str],
    ) -> Arc<CounterFamily> {
        let name = name.strip_suffix("_total").unwrap_or(name);
        let mut families = self.write();
        if let Some(d) = families.iter().find(|d| d.name == name) {
            if let Metric::Counter(c) = &d.metric {
                return Arc::clone(c);
            }
            panic!("metric {name} is already registered with another type");
        }
        let family = Arc::new(Family::new(labels, Counter::default));
        families.push(Descriptor::new(
            name,
            help,
            Metric::Counter(Arc::clone(&family)),
        ));
        family
    }

    /// Registers a histogram family with exemplars; see [`Histogram`].
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &'static [&'static str],
        buckets: &[f64],
    ) -> Arc<HistogramFamily> {
        let mut families = self.write();
        if let Some(d) = families.iter().find(|d| d.name == name) {
            if let Metric::Histogram(h) = &d.metric {
                return Arc::clone(h);
            }
            panic!("metric {name} is already registered with another type");
        }
        // Bounds and their `le` strings are shared by every child of the family.
        let bounds = Arc::new(Bounds::new(buckets));
        let family = Arc::new(Family::new(labels, move || {
            Histogram::with_bounds(Arc::clone(&bounds))
        }));
        families.push(Descriptor::new(
            name,
            help,
            Metric::Histogram(Arc::clone(&family)),
        ));
        family
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Descriptor>> {
        self.inner
            .families
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The whole registry as OpenMetrics text, ending in `# EOF`.
    ///
    /// Each scrape also opens the next exemplar interval of every histogram bucket (see
    /// [`Histogram`]).
    pub fn encode(&self) -> String {
        let families = self
            .inner
            .families
            .read()
            .unwrap_or_else(|p| p.into_inner());
        // Room for the previous scrape plus growth, so the text is written without reallocating.
        let last = self.inner.last_len.load(Relaxed);
        let mut out = String::with_capacity((last + last / 8).max(4096));
        let now = SystemTime::now();
        for d in families.iter() {
            encode::family(&mut out, d, now, self.inner.exemplar_max_age);
        }
        drop(families);
        encode::span_pipeline(&mut out);
        out.push_str("# EOF\n");
        self.inner.last_len.store(out.len(), Relaxed);
        out
    }
}
