//! Metric names: the ones an exposition holds, the pinned upstream lists
//! (`infra/metric-names/*.txt`) and the pending list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::files::{files_with_extensions, rel, workspace_root};

/// Metric names in an exposition (OpenMetrics or Prometheus text): every sample's name, and for
/// each `# TYPE` family the names its type implies (so a counter family with no series yet is
/// known by its `_total` name).
pub fn exposed_metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split_whitespace();
            let (Some(family), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            names.insert(family.to_owned());
            let suffixes: &[&str] = match kind {
                "counter" => &["_total", "_created"],
                "histogram" | "gaugehistogram" => &["_bucket", "_count", "_sum", "_created"],
                "summary" => &["_count", "_sum", "_created"],
                "info" => &["_info"],
                _ => &[],
            };
            for suffix in suffixes {
                if !family.ends_with(suffix) {
                    names.insert(format!("{family}{suffix}"));
                }
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_owned());
        }
    }
    names
}

/// Families declared `histogram` in an exposition.
pub fn histogram_families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let family = words.next()?;
            (words.next()? == "histogram").then(|| family.to_owned())
        })
        .collect()
}

/// A pinned list of upstream metric names (`infra/metric-names/*.txt` except `pending.txt`):
/// one name a line, `#` comments. The header must cite the upstream source and version.
#[derive(Clone, Debug)]
pub struct PinnedList {
    pub file: PathBuf,
    pub header: String,
    pub names: BTreeSet<String>,
}

pub fn metric_names_dir() -> PathBuf {
    workspace_root().join("infra/metric-names")
}

pub fn pinned_lists() -> anyhow::Result<Vec<PinnedList>> {
    let mut out = Vec::new();
    for file in files_with_extensions(&metric_names_dir(), &["txt"])? {
        if file.file_name().is_some_and(|n| n == "pending.txt") {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let header = text
            .lines()
            .take_while(|l| l.starts_with('#') || l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let names = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        out.push(PinnedList {
            file,
            header,
            names,
        });
    }
    Ok(out)
}

/// `infra/metric-names/pending.txt`: name → the issue whose code will emit it.
pub fn pending_metric_names() -> anyhow::Result<BTreeMap<String, String>> {
    let file = metric_names_dir().join("pending.txt");
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", rel(&file)))?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, issue) = line
            .split_once(char::is_whitespace)
            .with_context(|| format!("{}: `{line}` needs `<name> <issue>`", rel(&file)))?;
        let issue = issue.trim();
        if !issue.starts_with("issue ") {
            bail!(
                "{}: `{line}`: the second column must be `issue <number>`",
                rel(&file)
            );
        }
        out.insert(name.to_owned(), issue.to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_include_type_implied_ones() {
        let text = "# TYPE a counter\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\n# TYPE g gauge\ng 1\n# EOF\n";
        let n = exposed_metric_names(text);
        for want in ["a_total", "h_bucket", "h_count", "h_sum", "g"] {
            assert!(n.contains(want), "{want} in {n:?}");
        }
        assert_eq!(histogram_families(text), BTreeSet::from(["h".to_owned()]));
    }
}
