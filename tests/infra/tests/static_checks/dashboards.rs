//! `dashboards/`: unique ids, provisioned datasources, queries that select metrics, exemplars on
//! every histogram query, the checkout dashboard's payoff, and links from alerts and rules.

use std::collections::BTreeSet;

use infra_tests::dashboards::{dashboard_files, dashboard_queries, panels};
use infra_tests::files::{read_json, rel};
use infra_tests::promql::metric_names;
use infra_tests::rules::load_rules;
use serde_json::Value as Json;

use crate::support::{datasource_uids, root};

fn dashboard_uids() -> BTreeSet<String> {
    dashboard_files()
        .unwrap()
        .iter()
        .map(|f| {
            read_json(f).unwrap()["uid"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn dashboards_have_unique_uids_and_panel_ids() {
    let mut seen_uids = BTreeSet::new();
    let mut problems = Vec::new();
    for file in dashboard_files().unwrap() {
        let dash = read_json(&file).unwrap();
        let uid = dash["uid"].as_str().unwrap_or_default().to_owned();
        if !seen_uids.insert(uid.clone()) {
            problems.push(format!("{}: duplicate uid {uid}", rel(&file)));
        }
        let mut ids = BTreeSet::new();
        for id in panels(&dash).iter().filter_map(|p| p["id"].as_u64()) {
            if !ids.insert(id) {
                problems.push(format!("{}: duplicate panel id {id}", rel(&file)));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn dashboards_use_provisioned_datasources() {
    let uids = datasource_uids();
    let mut problems = Vec::new();
    for file in dashboard_files().unwrap() {
        let dash = read_json(&file).unwrap();
        for panel in panels(&dash) {
            let title = panel["title"].as_str().unwrap_or_default();
            let mut refs: Vec<&Json> = vec![&panel["datasource"]];
            refs.extend(
                panel["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| &t["datasource"]),
            );
            for r in refs {
                if let Some(u) = r["uid"].as_str() {
                    match uids.get(u) {
                        Some(t)
                            if Some(t.as_str()) == r["type"].as_str() || r["type"].is_null() => {}
                        _ => problems.push(format!(
                            "{}: panel {title:?} uses datasource {r}, not provisioned",
                            rel(&file)
                        )),
                    }
                }
            }
        }
        for var in dash["templating"]["list"].as_array().into_iter().flatten() {
            if let Some(u) = var["datasource"]["uid"].as_str() {
                if !uids.contains_key(u) {
                    problems.push(format!("{}: variable uses datasource {u}", rel(&file)));
                }
            }
        }
    }
    for q in dashboard_queries().unwrap() {
        if q.datasource_uid
            .as_deref()
            .is_some_and(|u| uids.get(u).map(String::as_str) != Some("prometheus"))
        {
            problems.push(format!(
                "{} / {}: PromQL sent to a non-Prometheus datasource",
                q.dashboard, q.panel
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_dashboard_query_selects_a_metric() {
    let mut problems = Vec::new();
    for q in dashboard_queries().unwrap() {
        match q.metric_names() {
            Ok(names) if names.is_empty() => {
                problems.push(format!("{}: no metric in {:?}", q.place(), q.expr));
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("{}: {e:#}", q.place())),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn histogram_queries_show_exemplars() {
    let mut problems = Vec::new();
    for q in dashboard_queries()
        .unwrap()
        .iter()
        .filter(|q| !q.is_variable)
    {
        let names = q.metric_names().unwrap_or_default();
        if names.iter().any(|n| n.ends_with("_bucket")) && !q.exemplar {
            problems.push(format!(
                "{}: a query over a histogram must have exemplars on",
                q.place()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_three_dashboards_exist() {
    for wanted in [
        "http-metrics.json",
        "service-health.json",
        "checkout-payments.json",
    ] {
        assert!(
            root().join("dashboards").join(wanted).is_file(),
            "dashboards/{wanted} is missing"
        );
    }
}

/// The checkout dashboard's payoff: payment-duration heatmap and p50/p95/p99, with exemplars.
#[test]
fn checkout_dashboard_shows_payment_heatmap_and_quantiles() {
    let checkout = read_json(&root().join("dashboards/checkout-payments.json")).unwrap();
    let pays: Vec<&Json> = panels(&checkout)
        .into_iter()
        .filter(|p| {
            p["targets"]
                .to_string()
                .contains("webstore_payment_duration_seconds_bucket")
        })
        .collect();
    assert!(
        pays.iter().any(|p| p["type"] == "heatmap"),
        "a payment-duration heatmap"
    );
    let quantiles: BTreeSet<String> = pays
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| {
            let e = t["expr"].as_str()?;
            e.strip_prefix("histogram_quantile(")
                .and_then(|r| r.split(',').next())
                .map(|q| q.trim().to_owned())
        })
        .collect();
    for q in ["0.50", "0.95", "0.99"] {
        assert!(
            quantiles.contains(q),
            "payment p{} panel: {quantiles:?}",
            &q[2..]
        );
    }
}

#[test]
fn alert_annotations_link_to_existing_dashboards() {
    let uids = dashboard_uids();
    let mut problems = Vec::new();
    for rule in load_rules().unwrap().iter().filter(|r| r.is_alert) {
        if let Some(link) = rule.annotations.get("dashboard") {
            let uid = link.trim_start_matches("/d/");
            if !uids.contains(uid) {
                problems.push(format!(
                    "alert {} links to unknown dashboard {uid}",
                    rule.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn recorded_names_used_anywhere_are_defined_by_a_rule() {
    let rules = load_rules().unwrap();
    let recorded: BTreeSet<&str> = rules
        .iter()
        .filter(|r| !r.is_alert)
        .map(|r| r.name.as_str())
        .collect();
    let mut used: Vec<(String, String)> = Vec::new();
    for r in &rules {
        let names = metric_names(&r.expr).unwrap_or_else(|e| panic!("rule {}: {e:#}", r.name));
        used.extend(names.into_iter().map(|n| (format!("rule {}", r.name), n)));
    }
    for q in dashboard_queries().unwrap() {
        for n in q.metric_names().unwrap_or_default() {
            used.push((q.place(), n));
        }
    }
    let missing: Vec<String> = used
        .iter()
        .filter(|(_, n)| n.contains(':') && !recorded.contains(n.as_str()))
        .map(|(w, n)| format!("{w}: {n}"))
        .collect();
    assert!(
        missing.is_empty(),
        "recorded names without a recording rule:\n{}",
        missing.join("\n")
    );
}
