//! One `wrk` run and what it reports; the Lua script that makes it post checkouts.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use super::pin::Pinning;
use super::CONNECTIONS;

/// One `wrk` run.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct WrkResult {
    pub(super) rps: f64,
    pub(super) p99_ms: f64,
    pub(super) requests: u64,
    pub(super) non_2xx: u64,
    pub(super) socket_errors: u64,
    /// CPU time (user + system) the copy's three services spent per request during the run:
    /// unlike requests/s, it hardly moves when other work shares the machine.
    pub(super) cpu_us_per_request: f64,
}

pub(super) fn checkout_lua(product: &str, api_key: &str) -> String {
    let body = serde_json::json!({
        "country": "US",
        "payment_method": "card",
        "items": [{"product_id": product, "quantity": 1}],
    })
    .to_string();
    format!(
        "-- Written by `cargo xtask bench`.\n\
         wrk.method = \"POST\"\n\
         wrk.body = {}\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {api_key}\"\n",
        lua_string(&body)
    )
}

fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn wrk(
    pin: &Pinning,
    url: &str,
    script: Option<&Path>,
    duration: Duration,
) -> Result<WrkResult> {
    let mut command = pin.command(1, Path::new("wrk"));
    command.args([
        "-t1".to_owned(),
        format!("-c{CONNECTIONS}"),
        format!("-d{}s", duration.as_secs().max(1)),
        "--latency".to_owned(),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let out = command
        .stdin(Stdio::null())
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_wrk(&text).ok_or_else(|| anyhow!("could not read wrk's output:\n{text}"))
}

/// Requests/sec, the 99th percentile, and the error counts of `wrk --latency` output.
fn parse_wrk(text: &str) -> Option<WrkResult> {
    let mut r = WrkResult::default();
    let mut rps = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("99%") {
            r.p99_ms = duration_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // connect 0, read 0, write 0, timeout 0
            r.socket_errors = v
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        } else if line.contains(" requests in ") {
            r.requests = line.split_whitespace().next()?.parse().ok()?;
        }
    }
    r.rps = rps?;
    Some(r)
}

/// `1.23ms`, `456.00us`, `1.02s`, `2.00m` → milliseconds.
fn duration_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1_000.0,
        "ms" => n,
        "s" => n * 1_000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}

/// Spans exported by the telemetry-on services (their own counter) and requests they served
/// (their server histograms), summed over the three: a check that 100 % sampling held.
#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 4s test @ http://127.0.0.1:18081/api/v1/products/p1
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  300.00us   9.87ms   90.00%
    Req/Sec    29.10k     1.20k   31.00k    80.00%
  Latency Distribution
     50%    1.02ms
     75%    1.20ms
     90%    1.40ms
     99%  812.00us
  116400 requests in 4.00s, 50.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  29100.50
Transfer/sec:     12.53MB
";

    #[test]
    fn reads_wrk_output() {
        let r = parse_wrk(WRK).unwrap();
        assert_eq!(r.rps, 29100.5);
        assert!((r.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(r.requests, 116_400);
        assert_eq!(r.non_2xx, 7);
        assert_eq!(r.socket_errors, 3);
        assert!(parse_wrk("garbage").is_none());
        assert_eq!(duration_ms("1.50s"), Some(1500.0));
        assert_eq!(duration_ms("2.00m"), Some(120_000.0));
    }

    #[test]
    fn checkout_script_is_valid_lua_with_the_body() {
        let lua = checkout_lua("p-\"1", "demo-key");
        assert!(lua.contains("wrk.method = \"POST\""), "{lua}");
        assert!(
            lua.contains(r#"wrk.body = "{\"country\":\"US\",\"items\":[{\"product_id\":\"p-\\\"1\",\"quantity\":1}],\"payment_method\":\"card\"}""#),
            "{lua}"
        );
        assert!(lua.contains("wrk.headers[\"Authorization\"] = \"Bearer demo-key\""));
    }
}
