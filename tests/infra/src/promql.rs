//! PromQL through a real parser: `promql-parser`, a Rust port of Prometheus's own grammar, gives
//! the syntax tree the checks walk (metric names, range windows), and `promtool` (see
//! [`crate::promtool`]) confirms that Prometheus itself accepts every expression.
//!
//! Why not Prometheus alone: the Prometheus on this project's machines (2.42, Debian 12) cannot
//! list an expression's selectors — `/api/v1/parse_query` and `promtool promql` came in later
//! releases, and a query's answer does not say which series names it read.
//!
//! Grafana's template variables are not PromQL: [`grafana_to_promql`] substitutes them the way
//! Grafana does before its query reaches Prometheus. That text substitution is the one piece
//! written by hand here, because no tool on this machine expands Grafana variables.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::anyhow;
use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};
use promql_parser::util::visitor::{walk_expr_mut, ExprVisitorMut};
use promql_parser::util::{walk_expr, ExprVisitor};

/// The syntax tree of `expr`, or the parser's message.
pub fn parse(expr: &str) -> anyhow::Result<Expr> {
    parser::parse(expr).map_err(|e| anyhow!("{e}: {expr}"))
}

/// The metric names an expression selects: every vector selector's name, including a
/// `{__name__="…"}` equality matcher. Functions, label names, strings and numbers are not names.
pub fn metric_names(expr: &str) -> anyhow::Result<BTreeSet<String>> {
    struct Names(BTreeSet<String>);
    impl ExprVisitor for Names {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, expr: &Expr) -> Result<bool, Self::Error> {
            let selector = match expr {
                Expr::VectorSelector(vs) => vs,
                Expr::MatrixSelector(ms) => &ms.vs,
                _ => return Ok(true),
            };
            if let Some(name) = &selector.name {
                self.0.insert(name.clone());
            }
            for m in &selector.matchers.matchers {
                if m.name == "__name__" && matches!(m.op, MatchOp::Equal) {
                    self.0.insert(m.value.clone());
                }
            }
            Ok(true)
        }
    }
    let tree = parse(expr)?;
    let mut names = Names(BTreeSet::new());
    let Ok(_) = walk_expr(&mut names, &tree);
    Ok(names.0)
}

/// `expr` with every range-selector window (`[5m]`, `[1h30m]`) replaced by `window`, printed back
/// by the parser. Subquery windows (`[5m:1m]`), strings and matchers are left alone.
pub fn shorten_ranges(expr: &str, window: Duration) -> anyhow::Result<String> {
    struct Shorten(Duration);
    impl ExprVisitorMut for Shorten {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, expr: &mut Expr) -> Result<bool, Self::Error> {
            if let Expr::MatrixSelector(ms) = expr {
                ms.range = self.0;
            }
            Ok(true)
        }
    }
    let mut tree = parse(expr)?;
    let Ok(_) = walk_expr_mut(&mut Shorten(window), &mut tree);
    Ok(tree.to_string())
}

/// A Prometheus duration (`168h`, `1h30m`, `7d`) in seconds, by the parser's own rules.
pub fn parse_duration_secs(s: &str) -> Option<f64> {
    promql_parser::util::parse_duration(s)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// A dashboard expression as Prometheus receives it from Grafana: `$__rate_interval` (and
/// `$__interval`, `$__range`) become `rate_interval`; `$__tags` (tracesToMetrics queries) becomes
/// the matcher Grafana builds from a span's `service.name` tag, here for any job; every other
/// `$name` is a multi-value variable at its "All" value `.*` (inside the quotes of a matcher).
pub fn grafana_to_promql(expr: &str, rate_interval: &str) -> String {
    let mut out = expr
        .replace("$__rate_interval", rate_interval)
        .replace("$__interval", rate_interval)
        .replace("$__range", rate_interval)
        .replace("$__tags", r#"job=~".+""#);
    while let Some(start) = out.find('$') {
        let end = out[start + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(out.len(), |e| start + 1 + e);
        out.replace_range(start..end, ".*");
    }
    out
}

/// The series selector of a Grafana `label_values(<selector>, <label>)` variable query (a
/// Grafana function, not PromQL).
pub fn variable_selector(query: &str) -> Option<&str> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (selector, _label) = inner.rsplit_once(',')?;
    Some(selector.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        metric_names(expr).unwrap().into_iter().collect()
    }

    #[test]
    fn metric_names_skip_functions_labels_strings_and_durations() {
        assert_eq!(
            names(
                r#"histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{job=~".*", http_route="/a[b]"}[30s])))"#
            ),
            ["http_server_request_duration_seconds_bucket"]
        );
        assert_eq!(
            names("(a:b:rate5m or c_total * 0) / on (job) group_left (x) d offset 5m > bool 1e3"),
            ["a:b:rate5m", "c_total", "d"]
        );
        assert_eq!(
            names("sum(rate(x_total[5m])) by (job) and time() - y > 0.5"),
            ["x_total", "y"]
        );
        assert_eq!(names("up == 0"), ["up"]);
        assert_eq!(names(r#"{__name__="z", job="a"}"#), ["z"]);
        assert!(metric_names("sum(rate(x[5m]").is_err(), "unbalanced");
    }

    #[test]
    fn ranges_are_shortened_but_not_strings_or_subqueries() {
        let out = shorten_ranges(
            r#"rate(x{a="[5m]"}[5m]) + increase(y[1h30m]) + max_over_time(rate(z[5m])[10m:1m])"#,
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(
            out,
            r#"rate(x{a="[5m]"}[20s]) + increase(y[20s]) + max_over_time(rate(z[20s])[10m:1m])"#
        );
        assert_eq!(metric_names(&out).unwrap().len(), 3, "still parses");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_secs("168h"), Some(604800.0));
        assert_eq!(parse_duration_secs("7d"), Some(604800.0));
        assert_eq!(parse_duration_secs("1h30m"), Some(5400.0));
        assert_eq!(parse_duration_secs("5x"), None);
        assert_eq!(parse_duration_secs(""), None);
    }

    #[test]
    fn grafana_variables_become_all() {
        assert_eq!(
            grafana_to_promql(r#"rate(x{job=~"$service"}[$__rate_interval])"#, "30s"),
            r#"rate(x{job=~".*"}[30s])"#
        );
        let tags = grafana_to_promql("rate(x{$__tags}[1m])", "30s");
        assert_eq!(names(&tags), ["x"]);
    }

    #[test]
    fn variable_selectors() {
        assert_eq!(
            variable_selector(r#"label_values(x{job=~"$s"}, http_route)"#),
            Some(r#"x{job=~"$s"}"#)
        );
        assert_eq!(variable_selector("up"), None);
    }
}
