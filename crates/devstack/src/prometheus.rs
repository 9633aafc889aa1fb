//! A local Prometheus with exemplar storage, and the scrape configuration it reads.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Launch;

/// The binary, looked up on `PATH`.
pub const PROGRAM: &str = "prometheus";
/// Answers 200 once the TSDB and the rules are loaded.
pub const READY_PATH: &str = "/-/ready";

/// `prometheus --version` runs.
pub fn installed() -> bool {
    Command::new(PROGRAM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Prometheus reading `config`, keeping its TSDB in `data`, listening on `listen` (`host:port`),
/// with exemplar storage on (it then asks targets for OpenMetrics, which carries exemplars).
pub fn launch(config: &Path, data: &Path, listen: &str, log: &Path) -> Launch {
    Launch::new(PROGRAM, PROGRAM, log).args([
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", data.display()),
        format!("--web.listen-address={listen}"),
        "--enable-feature=exemplar-storage".to_owned(),
    ])
}

/// A scrape configuration: every `interval_secs`, each job's static targets.
///
/// No `scrape_protocols`: Prometheus 2.42 (Debian 12) rejects that key.
#[derive(Clone, Debug)]
pub struct ScrapeConfig {
    pub interval_secs: u32,
    /// `storage.exemplars.max_exemplars`; Prometheus's default (100 000) when `None`.
    pub max_exemplars: Option<u64>,
    /// Job name → `host:port` targets.
    pub jobs: Vec<(String, Vec<String>)>,
}

impl ScrapeConfig {
    pub fn render(&self) -> String {
        let interval = self.interval_secs.max(1);
        // A scrape may take at most the interval; leave a second of slack where there is one.
        let timeout = if interval > 1 { interval - 1 } else { 1 };
        let mut yml = format!(
            "global:\n  scrape_interval: {interval}s\n  scrape_timeout: {timeout}s\n  evaluation_interval: {interval}s\n"
        );
        if let Some(max) = self.max_exemplars {
            let _ = write!(yml, "storage:\n  exemplars:\n    max_exemplars: {max}\n");
        }
        yml.push_str("scrape_configs:\n");
        for (job, targets) in &self.jobs {
            let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
            let _ = write!(
                yml,
                "  - job_name: {job}\n    metrics_path: /metrics\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            );
        }
        yml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_config() {
        let config = ScrapeConfig {
            interval_secs: 5,
            max_exemplars: None,
            jobs: vec![(
                "order-service".to_owned(),
                vec!["127.0.0.1:8080".to_owned()],
            )],
        };
        assert_eq!(
            config.render(),
            "global:\n  scrape_interval: 5s\n  scrape_timeout: 4s\n  evaluation_interval: 5s\n\
             scrape_configs:\n  - job_name: order-service\n    metrics_path: /metrics\n    static_configs:\n      \
             - targets: ['127.0.0.1:8080']\n"
        );
        let fast = ScrapeConfig {
            interval_secs: 1,
            max_exemplars: Some(100_000),
            jobs: vec![(
                "webstore".to_owned(),
                vec!["a:1".to_owned(), "b:2".to_owned()],
            )],
        }
        .render();
        assert!(fast.contains("scrape_timeout: 1s"), "{fast}");
        assert!(fast.contains("max_exemplars: 100000"), "{fast}");
        assert!(fast.contains("targets: ['a:1', 'b:2']"), "{fast}");
    }
}
