//! What a registry holds, described: a metric family's exposed name, type, unit, help, label
//! names, bucket bounds, and whether its samples carry exemplars. Read-only; for generated
//! documentation and for checks that compare names against the code. Nothing on the hot path
//! reads it.

/// The OpenMetrics type of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricKind {
    Counter,
    /// A value that goes up and down, set as a whole (`set`).
    Gauge,
    Histogram,
}

impl MetricKind {
    /// As in the `# TYPE` line.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// One metric family as a scrape exposes it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDescription {
    /// The name a query uses: `…_total` for a counter; a histogram's base name, whose series are
    /// `_bucket`, `_count` and `_sum`.
    pub name: String,
    pub kind: MetricKind,
    /// The unit the name ends in (`seconds`, `usd`, …), by the Prometheus naming convention;
    /// `None` for a count of things.
    pub unit: Option<&'static str>,
    pub help: String,
    /// Label names in the order values are given; a histogram's `le` is not among them.
    pub labels: Vec<&'static str>,
    /// Upper bounds of a histogram's finite buckets, ascending (`+Inf` is implied); empty for a
    /// counter or a gauge.
    pub buckets: Vec<f64>,
    /// Whether samples may carry an exemplar (`trace_id`, `span_id` of a sampled span): every
    /// histogram bucket here can, a counter never does.
    pub exemplars: bool,
}

/// Unit suffixes the names of this workspace use, by the Prometheus convention (base units,
/// plural): the unit is the last word of the name before `_total`.
const UNITS: &[&str] = &[
    "seconds", "bytes", "usd", "ratio", "meters", "grams", "celsius", "volts", "amperes", "joules",
];

impl MetricDescription {
    pub(crate) fn new(
        family: &str,
        kind: MetricKind,
        help: &str,
        labels: &'static [&'static str],
        buckets: &[f64],
    ) -> Self {
        let unit = family
            .rsplit('_')
            .next()
            .and_then(|last| UNITS.iter().copied().find(|u| *u == last));
        Self {
            name: match kind {
                MetricKind::Counter => format!("{family}_total"),
                MetricKind::Gauge | MetricKind::Histogram => family.to_owned(),
            },
            kind,
            unit,
            help: help.to_owned(),
            labels: labels.to_vec(),
            buckets: buckets.to_vec(),
            exemplars: kind == MetricKind::Histogram,
        }
    }

    /// The series names a scrape shows for this family: `name` for a counter or a gauge; `_bucket`,
    /// `_count` and `_sum` of `name` for a histogram.
    pub fn series(&self) -> Vec<String> {
        match self.kind {
            MetricKind::Counter | MetricKind::Gauge => vec![self.name.clone()],
            MetricKind::Histogram => ["_bucket", "_count", "_sum"]
                .iter()
                .map(|suffix| format!("{}{suffix}", self.name))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_the_name_and_counters_get_total() {
        let h = MetricDescription::new(
            "webstore_payment_duration_seconds",
            MetricKind::Histogram,
            "h",
            &["outcome"],
            &[0.1, 1.0],
        );
        assert_eq!(h.unit, Some("seconds"));
        assert!(h.exemplars);
        assert_eq!(
            h.series(),
            [
                "webstore_payment_duration_seconds_bucket",
                "webstore_payment_duration_seconds_count",
                "webstore_payment_duration_seconds_sum"
            ]
        );

        let c = MetricDescription::new("webstore_orders", MetricKind::Counter, "c", &[], &[]);
        assert_eq!(c.name, "webstore_orders_total");
        assert_eq!(c.unit, None);
        assert!(!c.exemplars);
        assert_eq!(c.series(), ["webstore_orders_total"]);

        let g = MetricDescription::new(
            "webstore_orders_unsettled",
            MetricKind::Gauge,
            "g",
            &[],
            &[],
        );
        assert_eq!(g.name, "webstore_orders_unsettled");
        assert_eq!(g.series(), ["webstore_orders_unsettled"]);
        assert!(!g.exemplars);

        let amount = MetricDescription::new(
            "webstore_checkout_amount_usd",
            MetricKind::Histogram,
            "a",
            &[],
            &[],
        );
        assert_eq!(amount.unit, Some("usd"));
    }
}
