//! A few calls of the Prometheus HTTP API, for the tests that ask a running Prometheus
//! whether queries answer and alerts fire.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

/// One sample of an instant query's vector (or the scalar, with no labels).
#[derive(Clone, Debug)]
pub struct Sample {
    pub labels: serde_json::Map<String, Value>,
    pub value: f64,
}

/// `GET url` as JSON, naming the URL when it fails.
async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?
        .json()
        .await
        .with_context(|| format!("GET {url}: the answer is not JSON"))
}

/// `GET /api/v1/query?query=…` at the current time.
pub async fn query(
    client: &reqwest::Client,
    base: &str,
    expr: &str,
) -> anyhow::Result<Vec<Sample>> {
    let body = get_json(
        client,
        &format!("{base}/api/v1/query?query={}", url_encode(expr)),
    )
    .await?;
    if body["status"] != "success" {
        bail!(
            "query failed: {} {}",
            body["errorType"].as_str().unwrap_or_default(),
            body["error"].as_str().unwrap_or_default()
        );
    }
    let parse = |v: &Value| -> f64 {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let data = &body["data"];
    Ok(match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| Sample {
                labels: s["metric"].as_object().cloned().unwrap_or_default(),
                value: parse(&s["value"][1]),
            })
            .collect(),
        Some("scalar") => vec![Sample {
            labels: Default::default(),
            value: parse(&data["result"][1]),
        }],
        other => bail!("unexpected result type {other:?}"),
    })
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters kept).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Metric names of every series Prometheus holds (`/api/v1/label/__name__/values`).
pub async fn series_names(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<String>> {
    let body = get_json(client, &format!("{base}/api/v1/label/__name__/values")).await?;
    Ok(body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect())
}

/// The state (`pending`, `firing`) of each active alert instance named `alertname`.
pub async fn alert_states(
    client: &reqwest::Client,
    base: &str,
    alertname: &str,
) -> anyhow::Result<Vec<String>> {
    let body = get_json(client, &format!("{base}/api/v1/alerts")).await?;
    Ok(body["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["labels"]["alertname"] == alertname)
        .filter_map(|a| a["state"].as_str().map(str::to_owned))
        .collect())
}

/// Rule-evaluation errors Prometheus reports (`/api/v1/rules`, `lastError`), as `name: error`.
pub async fn rule_errors(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<String>> {
    let body = get_json(client, &format!("{base}/api/v1/rules")).await?;
    let mut out = Vec::new();
    for group in body["data"]["groups"].as_array().into_iter().flatten() {
        for rule in group["rules"].as_array().into_iter().flatten() {
            if let Some(err) = rule["lastError"].as_str().filter(|e| !e.is_empty()) {
                out.push(format!(
                    "{}: {err}",
                    rule["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

/// Number of rules Prometheus has loaded.
pub async fn loaded_rule_count(client: &reqwest::Client, base: &str) -> anyhow::Result<usize> {
    let body = get_json(client, &format!("{base}/api/v1/rules")).await?;
    Ok(body["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["rules"].as_array().map_or(0, Vec::len))
        .sum())
}

/// Waits until Prometheus has scraped every target again since `since` (Unix seconds): all the
/// services had counted by then is in its database. (A scrape's samples carry the time the
/// scrape started; `up` has one per target.)
pub async fn wait_for_scrape_after(
    client: &reqwest::Client,
    base: &str,
    since: f64,
    timeout: Duration,
) -> anyhow::Result<()> {
    wait_for("a scrape of every target", timeout, || async {
        let scraped = query(client, base, "timestamp(up)").await?;
        Ok((!scraped.is_empty() && scraped.iter().all(|s| s.value > since)).then_some(()))
    })
    .await
}

/// Polls `check` every 500 ms until it returns `Some`, or fails after `timeout` with `what`
/// (and the last error `check` returned, if any).
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let started = Instant::now();
    let mut last_error = None;
    while started.elapsed() < timeout {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    match last_error {
        Some(e) => bail!("timed out after {timeout:?} waiting for {what} (last error: {e:#})"),
        None => bail!("timed out after {timeout:?} waiting for {what}"),
    }
}
