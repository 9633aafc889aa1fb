//! The registry: metric families by name, encoded together for one scrape.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::describe::{MetricDescription, MetricKind};
use super::encode;
use super::exemplar::unix_nanos;
use super::family::{Counter, CounterFamily, Family, Gauge, GaugeFamily, HistogramFamily};
use super::histogram::{Bounds, Histogram};

/// The content type Prometheus asks for when it wants exemplars.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

enum Metric {
    Counter(Arc<CounterFamily>),
    Gauge(Arc<GaugeFamily>),
    Histogram(Arc<HistogramFamily>),
}

struct Descriptor {
    name: String,
    /// `# TYPE …` and `# HELP …` lines, rendered at registration.
    header: String,
    metric: Metric,
    /// What [`Registry::describe`] reports; kept apart from the encoding path.
    description: MetricDescription,
}

/// A set of metric families, cheap to clone (shared), encoded by [`Registry::encode`].
///
/// Each `Telemetry` handle owns one; the middleware, the traced client and the service's own
/// instruments register in it. The span pipeline counters (`otel_sdk_exporter_span_exported_total`)
/// are process-wide, because the tracer provider is, and every registry includes them.
#[derive(Clone)]
pub(crate) struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    families: RwLock<Vec<Descriptor>>,
    exemplar_max_age: Duration,
    /// Length of the previous scrape's text: the next one allocates its buffer once.
    last_len: AtomicUsize,
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
    pub(crate) fn new(exemplar_max_age: Duration) -> Self {
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
    /// one registry share their counts).
    ///
    /// # Panics
    /// If `name` is already registered as a histogram: a programming error, found by the first
    /// test that builds the application.
    pub(crate) fn counter(
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
        families.push(Descriptor {
            name: name.to_owned(),
            header: encode::header(name, help, "counter"),
            metric: Metric::Counter(Arc::clone(&family)),
            description: MetricDescription::new(name, MetricKind::Counter, help, labels, &[]),
        });
        family
    }

    /// Registers a gauge family. Same rules as [`Registry::counter`].
    pub(crate) fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &'static [&'static str],
    ) -> Arc<GaugeFamily> {
        let mut families = self.write();
        if let Some(d) = families.iter().find(|d| d.name == name) {
            if let Metric::Gauge(g) = &d.metric {
                return Arc::clone(g);
            }
            panic!("metric {name} is already registered with another type");
        }
        let family = Arc::new(Family::new(labels, Gauge::default));
        families.push(Descriptor {
            name: name.to_owned(),
            header: encode::header(name, help, "gauge"),
            metric: Metric::Gauge(Arc::clone(&family)),
            description: MetricDescription::new(name, MetricKind::Gauge, help, labels, &[]),
        });
        family
    }

    /// Registers a histogram family with exemplars; see [`Histogram`]. Same rules as
    /// [`Registry::counter`].
    pub(crate) fn histogram(
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
        let description =
            MetricDescription::new(name, MetricKind::Histogram, help, labels, bounds.values());
        let family = Arc::new(Family::new(labels, move || {
            Histogram::with_bounds(Arc::clone(&bounds))
        }));
        families.push(Descriptor {
            name: name.to_owned(),
            header: encode::header(name, help, "histogram"),
            metric: Metric::Histogram(Arc::clone(&family)),
            description,
        });
        family
    }

    /// Every family a scrape of this registry exposes, in the order it exposes them: those
    /// registered, then the process-wide span pipeline counter.
    pub(crate) fn describe(&self) -> Vec<MetricDescription> {
        let families = self
            .inner
            .families
            .read()
            .unwrap_or_else(|p| p.into_inner());
        families
            .iter()
            .map(|d| d.description.clone())
            .chain(std::iter::once(encode::span_pipeline_description()))
            .collect()
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
    pub(crate) fn encode(&self) -> String {
        let families = self
            .inner
            .families
            .read()
            .unwrap_or_else(|p| p.into_inner());
        // Room for the previous scrape plus growth, so the text is written without reallocating.
        let last = self.inner.last_len.load(Relaxed);
        let mut out = String::with_capacity((last + last / 8).max(4096));
        let max_age = u64::try_from(self.inner.exemplar_max_age.as_nanos()).unwrap_or(u64::MAX);
        let not_before = unix_nanos(SystemTime::now()).saturating_sub(max_age);
        for d in families.iter() {
            out.push_str(&d.header);
            match &d.metric {
                Metric::Counter(family) => encode::counters(&mut out, &d.name, family),
                Metric::Gauge(family) => encode::gauges(&mut out, &d.name, family),
                Metric::Histogram(family) => {
                    encode::histograms(&mut out, &d.name, family, not_before)
                }
            }
        }
        drop(families);
        encode::span_pipeline(&mut out, &crate::pipeline::counts());
        out.push_str("# EOF\n");
        self.inner.last_len.store(out.len(), Relaxed);
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    use super::super::exemplar::{Exemplar, SpanIds};
    use super::Registry;

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
            .observe(0.5, SpanIds::from_context(&cx).into());
        h.get(&["/a\"b"]).observe(0.05, Exemplar::None);
        let c = r.counter("y_total", "Y", &[]);
        c.get(&[]).inc_by(3);
        let g = r.gauge("w_things", "W", &["age"]);
        g.get(&["old"]).set(4);
        g.get(&["old"]).set(2);
        let text = r.encode();
        assert!(
            text.contains("# TYPE w_things gauge\n# HELP w_things W\nw_things{age=\"old\"} 2\n"),
            "{text}"
        );
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
        assert!(text.contains("otel_sdk_exporter_span_exported_total{outcome=\"failure\"} "));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn describes_what_a_scrape_exposes() {
        let r = Registry::new(Duration::from_secs(60));
        r.histogram(
            "x_seconds",
            "X.",
            &["route"],
            &[1.0, 0.1, 1.0, f64::INFINITY],
        );
        r.counter("y_total", "Y.", &["kind"]);
        let described = r.describe();
        let names: Vec<&str> = described.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "x_seconds",
                "y_total",
                "otel_sdk_exporter_span_exported_total"
            ]
        );
        assert_eq!(described[0].buckets, [0.1, 1.0], "as the encoder uses them");
        assert_eq!(described[0].labels, ["route"]);
        assert!(described[0].exemplars && !described[1].exemplars);
        assert_eq!(described[2].labels, ["outcome"]);

        // Every described series is in the scrape, with the described help and type.
        let text = r.encode();
        for d in &described {
            let family = d.name.strip_suffix("_total").unwrap_or(&d.name);
            assert!(
                text.contains(&format!("# TYPE {family} {}\n", d.kind.as_str())),
                "{text}"
            );
            assert!(
                text.contains(&format!("# HELP {family} {}\n", d.help)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_name_registered_twice_is_one_family() {
        let r = Registry::new(Duration::from_secs(60));
        let a = r.counter("z_total", "Z", &["k"]);
        let b = r.counter("z", "Z", &["k"]);
        a.get(&["v"]).inc();
        b.get(&["v"]).inc();
        assert!(r.encode().contains("z_total{k=\"v\"} 2\n"));
    }
}
