//! Just enough of the OpenMetrics / Prometheus text format to read a service's own `/metrics`:
//! sample lines (`name{labels} value [timestamp] [# {exemplar labels} value [timestamp]]`),
//! whether each carries an exemplar, and counter deltas between two scrapes.
//!
//! Not a validating parser: comments and malformed lines are skipped. Prometheus itself is what
//! parses the format for real; this reads the numbers the `traffic` summary and `doctor` show.

use std::collections::BTreeMap;

/// The content type Prometheus asks for (2.x, exemplar storage or not): OpenMetrics first.
pub const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// The exemplar's labels, when the line carries one.
    pub exemplar: Option<BTreeMap<String, String>>,
}

/// Every sample of an exposition.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if rest.starts_with('{') {
        let (parsed, after) = parse_labels(rest)?;
        labels = parsed;
        rest = after;
    }
    let (sample, exemplar) = match rest.split_once(" # ") {
        Some((sample, exemplar)) => (sample, Some(exemplar.trim())),
        None => (rest, None),
    };
    let value = sample.split_whitespace().next()?.parse().ok()?;
    let exemplar = exemplar
        .filter(|e| e.starts_with('{'))
        .and_then(|e| parse_labels(e).map(|(labels, _)| labels));
    Some(Sample {
        name,
        labels,
        value,
        exemplar,
    })
}

/// `{a="b",c="d\"e"}` at the start of `text`; returns the labels and what follows.
fn parse_labels(text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    let mut rest = text.strip_prefix('{')?;
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                other => value.push(other),
            }
        };
        labels.insert(key, value);
        rest = &rest[end + 1..];
    }
}

/// The value of every series of counter `name` (its `_total` sample), keyed by the value of
/// label `by`.
pub fn counter_by(samples: &[Sample], name: &str, by: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for sample in samples.iter().filter(|s| s.name == name) {
        let key = sample.labels.get(by).cloned().unwrap_or_default();
        *out.entry(key).or_insert(0.0) += sample.value;
    }
    out
}

/// `after - before` per key, leaving out keys that did not grow. A counter that went down was
/// reset (the service restarted): its whole `after` value is the delta.
pub fn delta(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .filter_map(|(key, now)| {
            let then = before.get(key).copied().unwrap_or(0.0);
            let grown = if *now >= then { now - then } else { *now };
            (grown > 0.0).then(|| (key.clone(), grown))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = r#"# TYPE webstore_orders counter
webstore_orders_total{status="paid"} 12
webstore_orders_total{status="declined"} 1
# TYPE webstore_payment_duration_seconds histogram
webstore_payment_duration_seconds_bucket{country="US",payment_method="card",outcome="paid",le="0.25"} 3 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 0.17 1750000000.123
webstore_payment_duration_seconds_bucket{country="US",payment_method="card",outcome="paid",le="+Inf"} 4
odd_label{path="a \"quoted\" \\ path"} 1.5e3
# EOF
"#;

    #[test]
    fn samples_labels_and_exemplars() {
        let samples = parse(EXPOSITION);
        assert_eq!(samples.len(), 5);
        let bucket = &samples[2];
        assert_eq!(bucket.name, "webstore_payment_duration_seconds_bucket");
        assert_eq!(bucket.labels["le"], "0.25");
        assert_eq!(bucket.value, 3.0);
        let exemplar = bucket.exemplar.as_ref().expect("exemplar");
        assert_eq!(exemplar["trace_id"], "0af7651916cd43dd8448eb211c80319c");
        assert!(samples[3].exemplar.is_none());
        assert_eq!(samples[4].labels["path"], r#"a "quoted" \ path"#);
        assert_eq!(samples[4].value, 1500.0);
    }

    #[test]
    fn counter_deltas_survive_a_restart() {
        let before = counter_by(&parse(EXPOSITION), "webstore_orders_total", "status");
        assert_eq!(before["paid"], 12.0);
        let after: BTreeMap<String, f64> = [("paid".into(), 20.0), ("declined".into(), 1.0)]
            .into_iter()
            .collect();
        assert_eq!(delta(&before, &after), [("paid".to_owned(), 8.0)].into());
        let restarted: BTreeMap<String, f64> = [("paid".into(), 2.0)].into_iter().collect();
        assert_eq!(
            delta(&before, &restarted),
            [("paid".to_owned(), 2.0)].into()
        );
    }
}
