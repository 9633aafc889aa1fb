//! The dashboards of `dashboards/`: their panels and every PromQL query they send.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value as Json;

use crate::files::{files_with_extensions, read_json, workspace_root};
use crate::promql::{grafana_to_promql, metric_names, variable_selector};

/// What Grafana sends for `$__rate_interval` in these checks: 30 s covers several scrapes at the
/// test stacks' 1 s interval, and at production's 15 s.
pub const RATE_INTERVAL: &str = "30s";

/// One PromQL query of a dashboard: a panel target or a template variable.
#[derive(Clone, Debug)]
pub struct DashboardQuery {
    /// `http-metrics.json`, …
    pub dashboard: String,
    /// Panel title, or `variable <name>`.
    pub panel: String,
    pub panel_type: String,
    pub ref_id: String,
    /// As written in the dashboard, Grafana variables included.
    pub expr: String,
    pub exemplar: bool,
    pub datasource_uid: Option<String>,
    pub is_variable: bool,
}

impl DashboardQuery {
    /// The expression as Prometheus receives it (see [`grafana_to_promql`]).
    pub fn promql(&self) -> String {
        grafana_to_promql(&self.expr, RATE_INTERVAL)
    }

    /// The metric names the query selects; a query that does not parse has none.
    pub fn metric_names(&self) -> anyhow::Result<BTreeSet<String>> {
        metric_names(&self.promql())
    }

    /// Where the query sits, for messages.
    pub fn place(&self) -> String {
        format!("{} / {} {}", self.dashboard, self.panel, self.ref_id)
            .trim_end()
            .to_owned()
    }
}

pub fn dashboard_files() -> anyhow::Result<Vec<PathBuf>> {
    files_with_extensions(&workspace_root().join("dashboards"), &["json"])
}

/// Every panel (rows' nested panels included) of a dashboard JSON.
pub fn panels(dashboard: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(p);
        for nested in p["panels"].as_array().into_iter().flatten() {
            out.push(nested);
        }
    }
    out
}

/// Every PromQL query of every dashboard.
pub fn dashboard_queries() -> anyhow::Result<Vec<DashboardQuery>> {
    let mut out = Vec::new();
    for file in dashboard_files()? {
        let dash = read_json(&file)?;
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        for panel in panels(&dash) {
            let panel_type = panel["type"].as_str().unwrap_or_default().to_owned();
            for target in panel["targets"].as_array().into_iter().flatten() {
                let Some(expr) = target["expr"].as_str() else {
                    continue;
                };
                out.push(DashboardQuery {
                    dashboard: name.clone(),
                    panel: panel["title"].as_str().unwrap_or_default().to_owned(),
                    panel_type: panel_type.clone(),
                    ref_id: target["refId"].as_str().unwrap_or_default().to_owned(),
                    expr: expr.to_owned(),
                    exemplar: target["exemplar"].as_bool().unwrap_or(false),
                    datasource_uid: target["datasource"]["uid"]
                        .as_str()
                        .or(panel["datasource"]["uid"].as_str())
                        .map(str::to_owned),
                    is_variable: false,
                });
            }
        }
        for var in dash["templating"]["list"].as_array().into_iter().flatten() {
            if var["type"] != "query" {
                continue;
            }
            let query = var["query"]["query"]
                .as_str()
                .or(var["query"].as_str())
                .unwrap_or_default();
            out.push(DashboardQuery {
                dashboard: name.clone(),
                panel: format!("variable {}", var["name"].as_str().unwrap_or_default()),
                panel_type: "variable".to_owned(),
                ref_id: String::new(),
                expr: variable_selector(query).unwrap_or(query).to_owned(),
                exemplar: false,
                datasource_uid: var["datasource"]["uid"].as_str().map(str::to_owned),
                is_variable: true,
            });
        }
    }
    Ok(out)
}
