//! `infra/prometheus` and `dashboards/` through promtool, Prometheus's own tool: the
//! configuration and the rules are valid, the rule unit tests pass, every alert has both a case
//! where it fires and one where it does not, and Prometheus's parser accepts every query a
//! dashboard or a Grafana datasource link sends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use infra_tests::dashboards::dashboard_queries;
use infra_tests::files::{files_with_extensions, read_yaml, rel, workspace_root, yget};
use infra_tests::promql::grafana_to_promql;
use infra_tests::promtool::{self, prom_dir};
use infra_tests::rules::load_rules;

/// `promtool <args>` in `infra/prometheus`, which must succeed (the test needs promtool).
fn promtool(args: &[&str]) -> String {
    test_support::require(test_support::Dependency::Promtool);
    let (ok, text) = promtool::run(args, &prom_dir()).expect("running promtool");
    assert!(ok, "promtool {} failed:\n{text}", args.join(" "));
    text
}

fn rule_files() -> Vec<String> {
    files_with_extensions(&prom_dir().join("rules"), &["yml"])
        .unwrap()
        .iter()
        .map(|p| format!("rules/{}", p.file_name().unwrap().to_string_lossy()))
        .collect()
}

fn test_files() -> Vec<PathBuf> {
    files_with_extensions(&prom_dir().join("tests"), &["yml"]).unwrap()
}

/// Every alert of `infra/prometheus/rules` has, in `infra/prometheus/tests`, at least one
/// evaluation where it is expected to fire and one where it is expected not to (promtool then
/// proves both in `promtool_test_rules`). The tests load exactly the rule files that exist.
#[test]
fn every_alert_has_a_firing_and_a_not_firing_case() {
    let alerts: BTreeSet<String> = load_rules()
        .unwrap()
        .into_iter()
        .filter(|r| r.is_alert)
        .map(|r| r.name)
        .collect();
    assert!(
        alerts.len() >= 7,
        "at least the seven alerts of the issue: {alerts:?}"
    );
    let mut firing: BTreeMap<String, usize> = BTreeMap::new();
    let mut quiet: BTreeMap<String, usize> = BTreeMap::new();
    let mut loaded = BTreeSet::new();
    for file in test_files() {
        let doc = read_yaml(&file).unwrap();
        for rf in doc["rule_files"].as_sequence().into_iter().flatten() {
            let path = file.parent().unwrap().join(rf.as_str().unwrap());
            assert!(
                path.is_file(),
                "{}: rule file {rf:?} does not exist",
                rel(&file)
            );
            loaded.insert(path.canonicalize().unwrap());
        }
        for test in doc["tests"].as_sequence().into_iter().flatten() {
            for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
                let name = case["alertname"].as_str().unwrap_or_default().to_owned();
                assert!(
                    alerts.contains(&name),
                    "{}: a test for unknown alert {name}",
                    rel(&file)
                );
                let expected = case["exp_alerts"].as_sequence().map_or(0, Vec::len);
                *if expected > 0 {
                    &mut firing
                } else {
                    &mut quiet
                }
                .entry(name)
                .or_default() += 1;
            }
        }
    }
    let all_rule_files: BTreeSet<PathBuf> =
        files_with_extensions(&prom_dir().join("rules"), &["yml"])
            .unwrap()
            .into_iter()
            .map(|p| p.canonicalize().unwrap())
            .collect();
    assert_eq!(
        loaded, all_rule_files,
        "the rule tests load every rule file"
    );
    let mut missing = Vec::new();
    for alert in &alerts {
        if !firing.contains_key(alert) {
            missing.push(format!("{alert}: no case where it fires"));
        }
        if !quiet.contains_key(alert) {
            missing.push(format!("{alert}: no case where it does not fire"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    let cases: usize = firing.values().chain(quiet.values()).sum();
    eprintln!(
        "{} alerts, each with a firing and a not-firing case ({cases} alert evaluations in all)",
        alerts.len()
    );
}

#[test]
fn every_alert_is_documented_with_its_threshold() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/06_DASHBOARDS_AND_ALERTS.md"))
        .expect("docs/06_DASHBOARDS_AND_ALERTS.md");
    let rules = load_rules().unwrap();
    let missing: Vec<&str> = rules
        .iter()
        .filter(|r| r.is_alert && !doc.contains(&format!("`{}`", r.name)))
        .map(|r| r.name.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "alerts missing from the docs' alert table: {missing:?}"
    );
    for r in rules.iter().filter(|r| r.is_alert) {
        let severity = r.labels.get("severity").map(String::as_str);
        assert!(
            matches!(severity, Some("page" | "ticket")),
            "{}: severity page or ticket, got {severity:?}",
            r.name
        );
        for key in ["summary", "description"] {
            assert!(
                r.annotations.contains_key(key),
                "{}: annotation {key}",
                r.name
            );
        }
    }
}

/// The checks that run promtool.
mod needs_promtool {
    use super::*;

    #[test]
    #[ignore = "needs: promtool"]
    fn promtool_check_config() {
        let out = promtool(&["check", "config", "prometheus.yml"]);
        assert!(out.contains("SUCCESS"), "{out}");
        eprintln!("{}", out.trim());
    }

    #[test]
    #[ignore = "needs: promtool"]
    fn promtool_check_rules() {
        let files = rule_files();
        let mut args = vec!["check", "rules"];
        args.extend(files.iter().map(String::as_str));
        let out = promtool(&args);
        eprintln!("{}", out.trim());
    }

    #[test]
    #[ignore = "needs: promtool"]
    fn promtool_test_rules() {
        let files: Vec<String> = test_files()
            .iter()
            .map(|p| format!("tests/{}", p.file_name().unwrap().to_string_lossy()))
            .collect();
        assert!(!files.is_empty(), "infra/prometheus/tests has rule tests");
        let mut args = vec!["test", "rules"];
        args.extend(files.iter().map(String::as_str));
        let out = promtool(&args);
        assert!(!out.contains("FAILED"), "{out}");
        eprintln!("{}", out.trim());
    }

    /// Prometheus's own parser accepts every dashboard query (as Grafana sends it, variables at
    /// "All") and every traces-to-metrics query of the Grafana datasources: they are checked as the
    /// recording rules of one generated file with `promtool check rules`.
    #[test]
    #[ignore = "needs: promtool"]
    fn prometheus_parses_every_dashboard_and_datasource_query() {
        test_support::require(test_support::Dependency::Promtool);
        let mut exprs: Vec<(String, String)> = dashboard_queries()
            .unwrap()
            .iter()
            .map(|q| (q.place(), q.promql()))
            .collect();
        let ds_file =
            workspace_root().join("infra/grafana/provisioning/datasources/datasources.yaml");
        let ds = read_yaml(&ds_file).unwrap();
        for d in ds["datasources"].as_sequence().into_iter().flatten() {
            for q in yget(d, &["jsonData", "tracesToMetrics", "queries"])
                .and_then(|q| q.as_sequence())
                .into_iter()
                .flatten()
            {
                let query = q["query"].as_str().unwrap_or_default().replace("$$", "$");
                exprs.push((
                    format!("{} / tracesToMetrics", rel(&ds_file)),
                    grafana_to_promql(&query, "1m"),
                ));
            }
        }
        assert!(
            exprs.len() >= 20,
            "the dashboards' queries: {}",
            exprs.len()
        );
        let scratch = std::env::temp_dir().join(format!("webstore-promql-{}", std::process::id()));
        let checked = promtool::check_expressions(&exprs, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        if let Err(e) = checked {
            panic!("{e:#}");
        }
        eprintln!(
            "promtool parses all {} dashboard and datasource queries",
            exprs.len()
        );
    }

    /// The check above can fail: an expression Prometheus rejects is reported with its place.
    #[test]
    #[ignore = "needs: promtool"]
    fn a_query_prometheus_rejects_is_reported() {
        test_support::require(test_support::Dependency::Promtool);
        let scratch =
            std::env::temp_dir().join(format!("webstore-promql-bad-{}", std::process::id()));
        let exprs = [
            ("fine".to_owned(), "sum(rate(x_total[5m]))".to_owned()),
            ("broken panel".to_owned(), "rate(x_total[5m]".to_owned()),
        ];
        let result = promtool::check_expressions(&exprs, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        let message = format!("{:#}", result.expect_err("an unclosed call is rejected"));
        assert!(message.contains("broken panel"), "{message}");
    }
}
