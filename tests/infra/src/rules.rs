//! The recording and alerting rules of `infra/prometheus/rules`, and transformed copies of them
//! for the live tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_yaml::Value as Yaml;

use crate::files::{files_with_extensions, read_yaml, rel, workspace_root, yaml_str};
use crate::promql::shorten_ranges;

/// One recording or alerting rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub file: PathBuf,
    pub group: String,
    /// The `record:` or `alert:` name.
    pub name: String,
    pub is_alert: bool,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

pub fn rules_dir() -> PathBuf {
    workspace_root().join("infra/prometheus/rules")
}

/// Every rule of every `infra/prometheus/rules/*.yml`, in file order.
pub fn load_rules() -> anyhow::Result<Vec<Rule>> {
    let mut out = Vec::new();
    for file in files_with_extensions(&rules_dir(), &["yml", "yaml"])? {
        let doc = read_yaml(&file)?;
        let groups = doc
            .get("groups")
            .and_then(Yaml::as_sequence)
            .with_context(|| format!("{}: no `groups` list", rel(&file)))?;
        for group in groups {
            let group_name = group
                .get("name")
                .and_then(Yaml::as_str)
                .unwrap_or_default()
                .to_owned();
            for rule in group
                .get("rules")
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
            {
                out.push(read_rule(&file, &group_name, rule)?);
            }
        }
    }
    Ok(out)
}

fn read_rule(file: &Path, group: &str, rule: &Yaml) -> anyhow::Result<Rule> {
    let (name, is_alert) = match (rule.get("record"), rule.get("alert")) {
        (Some(r), None) => (yaml_str(r).unwrap_or_default(), false),
        (None, Some(a)) => (yaml_str(a).unwrap_or_default(), true),
        _ => bail!("{}: a rule needs exactly one of record/alert", rel(file)),
    };
    let map = |key: &str| -> BTreeMap<String, String> {
        rule.get(key)
            .and_then(Yaml::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((yaml_str(k)?, yaml_str(v)?)))
            .collect()
    };
    Ok(Rule {
        file: file.to_path_buf(),
        group: group.to_owned(),
        name,
        is_alert,
        expr: rule
            .get("expr")
            .and_then(yaml_str)
            .with_context(|| format!("{}: rule without expr", rel(file)))?,
        for_: rule.get("for").and_then(yaml_str),
        labels: map("labels"),
        annotations: map("annotations"),
    })
}

/// How [`write_live_rules`] changes the rules, so an alert can fire and resolve within a test.
#[derive(Clone, Debug, Default)]
pub struct RuleTransform {
    /// Replaces every range-selector window (`[5m]`, `[15m]`); subqueries are left alone.
    pub window: Option<Duration>,
    /// Replaces every alert's `for:`.
    pub for_: Option<String>,
}

/// Writes transformed copies of `infra/prometheus/rules/*.yml` into `dir/rules/` and returns
/// the glob to put in `rule_files`. Nothing else in an expression changes.
pub fn write_live_rules(dir: &Path, transform: &RuleTransform) -> anyhow::Result<String> {
    let out_dir = dir.join("rules");
    std::fs::create_dir_all(&out_dir)?;
    for file in files_with_extensions(&rules_dir(), &["yml", "yaml"])? {
        let mut doc = read_yaml(&file)?;
        let groups = doc.get_mut("groups").and_then(Yaml::as_sequence_mut);
        for group in groups.into_iter().flatten() {
            let rules = group.get_mut("rules").and_then(Yaml::as_sequence_mut);
            for map in rules.into_iter().flatten().filter_map(Yaml::as_mapping_mut) {
                if let (Some(window), Some(expr)) = (transform.window, map.get_mut("expr")) {
                    if let Some(text) = expr.as_str() {
                        *expr = Yaml::String(shorten_ranges(text, window)?);
                    }
                }
                if let Some(for_) = &transform.for_ {
                    if map.contains_key("for") {
                        map.insert(Yaml::from("for"), Yaml::String(for_.clone()));
                    }
                }
            }
        }
        let name = file.file_name().context("rule file name")?;
        std::fs::write(out_dir.join(name), serde_yaml::to_string(&doc)?)?;
    }
    Ok(format!("{}/*.yml", out_dir.display()))
}
