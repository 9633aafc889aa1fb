//! The bench's table and its final `bench:` line (parsed by tools: keep its form).

use std::fmt::Write as _;
use std::time::Duration;

use super::copies::{key, Endpoint, Telemetry};
use super::http::Http;
use super::micro::Micro;
use super::wrk::WrkResult;
use super::{Plan, RSS_TARGET_MIB, SOAK};

/// Median and (min, max) of `v`.
fn stats(v: &[f64]) -> (f64, f64, f64) {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    s.sort_by(f64::total_cmp);
    let mid = s.len() / 2;
    let median = if s.len().is_multiple_of(2) {
        (s[mid - 1] + s[mid]) / 2.0
    } else {
        s[mid]
    };
    (median, s[0], s[s.len() - 1])
}

/// Per round: `f` of `copy` against `f` of the telemetry-off copy, combined by `op`.
fn per_round(
    http: &Http,
    e: Endpoint,
    copy: Telemetry,
    f: impl Fn(&WrkResult) -> f64,
    op: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let with = http.runs.get(&key(e, copy));
    let off = http.runs.get(&key(e, Telemetry::Off));
    match (with, off) {
        (Some(with), Some(off)) => with.iter().zip(off).map(|(a, b)| op(f(a), f(b))).collect(),
        _ => Vec::new(),
    }
}

/// Per round: `f` of `copy` divided by `f` of the telemetry-off copy.
fn ratios(http: &Http, e: Endpoint, copy: Telemetry, f: impl Fn(&WrkResult) -> f64) -> Vec<f64> {
    per_round(http, e, copy, f, |a, b| a / b)
}

/// Per round: CPU µs per request of `copy` minus the telemetry-off copy's: what telemetry
/// costs per request.
fn cpu_cost(http: &Http, e: Endpoint, copy: Telemetry) -> Vec<f64> {
    per_round(http, e, copy, |r| r.cpu_us_per_request, |a, b| a - b)
}

fn max_rss(http: Option<&Http>) -> f64 {
    http.map_or(f64::NAN, |h| {
        h.peak_rss.iter().map(|(_, m)| *m).fold(0.0, f64::max)
    })
}

pub(super) fn report(micro: &Micro, http: Option<&Http>, plan: Plan, elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n== cargo xtask bench{} — {} rounds, measured part took {:.0} s ==",
        if plan.soak { "" } else { " --quick" },
        plan.rounds,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "\nfigure                                   median      spread (min–max)   target"
    );
    let row = |out: &mut String, name: &str, v: &[f64], unit: &str, digits: usize, target: &str| {
        let (m, lo, hi) = stats(v);
        let _ = writeln!(
            out,
            "{name:<40} {:>8} {unit:<3} {:>8} – {:<8} {target}",
            format!("{m:.digits$}"),
            format!("{lo:.digits$}"),
            format!("{hi:.digits$}")
        );
    };
    let plain: Vec<f64> = micro.observe.iter().map(|o| o.0).collect();
    let exemplar: Vec<f64> = micro.observe.iter().map(|o| o.1).collect();
    let ratio: Vec<f64> = micro.observe.iter().map(|o| o.1 / o.0).collect();
    row(&mut out, "observe, plain (ns)", &plain, "ns", 1, "");
    row(
        &mut out,
        "observe, exemplar in sampled span (ns)",
        &exemplar,
        "ns",
        1,
        "",
    );
    row(&mut out, "exemplar_ratio", &ratio, "×", 2, "≤ 1.5");
    row(
        &mut out,
        "metrics_encode_us (2 315 series)",
        &micro.encode_us,
        "µs",
        0,
        "< 1000",
    );
    if let Some(h) = http {
        for e in [Endpoint::Catalog, Endpoint::Checkout] {
            let (target, target_sampled, short) = match e {
                Endpoint::Catalog => ("≥ 0.90", "≥ 0.95", "catalog"),
                Endpoint::Checkout => ("≥ 0.95", "≥ 0.97", "checkout"),
            };
            for s in Telemetry::ALL {
                let rps: Vec<f64> = h
                    .runs
                    .get(&key(e, s))
                    .map(|v| v.iter().map(|r| r.rps).collect())
                    .unwrap_or_default();
                row(
                    &mut out,
                    &format!("{short} rps, telemetry {}", s.name()),
                    &rps,
                    "rps",
                    0,
                    "",
                );
            }
            row(
                &mut out,
                &format!("{short}_rps_ratio"),
                &ratios(h, e, Telemetry::On, |r| r.rps),
                "×",
                2,
                target,
            );
            row(
                &mut out,
                &format!("{short}_rps_ratio_sampled"),
                &ratios(h, e, Telemetry::Sampled, |r| r.rps),
                "×",
                2,
                target_sampled,
            );
            for s in Telemetry::ALL {
                let cpu: Vec<f64> = h
                    .runs
                    .get(&key(e, s))
                    .map(|v| v.iter().map(|r| r.cpu_us_per_request).collect())
                    .unwrap_or_default();
                row(
                    &mut out,
                    &format!("{short} CPU µs/request, telemetry {}", s.name()),
                    &cpu,
                    "µs",
                    1,
                    "",
                );
            }
            row(
                &mut out,
                &format!("{short} telemetry CPU µs/request, on − off"),
                &cpu_cost(h, e, Telemetry::On),
                "µs",
                1,
                if e == Endpoint::Catalog { "≤ 8" } else { "" },
            );
            row(
                &mut out,
                &format!("{short} telemetry CPU µs/request, sampled − off"),
                &cpu_cost(h, e, Telemetry::Sampled),
                "µs",
                1,
                "",
            );
            // Off/on CPU per request: the throughput ratio a CPU-bound service would reach,
            // and much steadier than requests/s on a shared machine.
            for s in [Telemetry::On, Telemetry::Sampled] {
                row(
                    &mut out,
                    &format!("{short} CPU/request off/{}", s.name()),
                    &ratios(h, e, s, |r| {
                        1.0 / r.cpu_us_per_request.max(f64::MIN_POSITIVE)
                    }),
                    "×",
                    2,
                    "",
                );
            }
            for s in [Telemetry::On, Telemetry::Sampled] {
                row(
                    &mut out,
                    &format!("{short} p99 {}/off", s.name()),
                    &ratios(h, e, s, |r| r.p99_ms),
                    "×",
                    2,
                    if s == Telemetry::On { "≤ 1.10" } else { "" },
                );
            }
        }
        let _ = writeln!(
            out,
            "\nendpoints: {} and {}",
            Endpoint::Catalog.name(),
            Endpoint::Checkout.name()
        );
        for e in [Endpoint::Catalog, Endpoint::Checkout] {
            for s in Telemetry::ALL {
                if let Some(runs) = h.runs.get(&key(e, s)) {
                    let requests: u64 = runs.iter().map(|r| r.requests).sum();
                    let bad: u64 = runs.iter().map(|r| r.non_2xx + r.socket_errors).sum();
                    let p99: Vec<f64> = runs.iter().map(|r| r.p99_ms).collect();
                    let _ = writeln!(
                        out,
                        "  {:<8} telemetry {:<17}: {requests} requests, {bad} non-2xx or socket errors, p99 median {:.2} ms",
                        if e == Endpoint::Catalog { "catalog" } else { "checkout" },
                        s.name(),
                        stats(&p99).0
                    );
                }
            }
        }
        if let Some((spans, requests)) = h.spans {
            let _ = writeln!(
                out,
                "  telemetry on: {spans} spans exported for {requests} server requests (all three services)"
            );
        }
        if let Some((spans, requests)) = h.sampled_spans {
            let _ = writeln!(
                out,
                "  telemetry sampled: {spans} spans exported for {requests} server requests (all three services)"
            );
        }
        let _ = writeln!(
            out,
            "\npeak RSS (VmHWM), MiB, target < {RSS_TARGET_MIB:.0} per service:"
        );
        for (label, mib) in &h.peak_rss {
            let _ = writeln!(out, "  {label:<24} {mib:>6.1}");
        }
        if let Some(soak) = &h.soak {
            let _ = writeln!(
                out,
                "\nmemory soak, {} s (RSS after the first minute → at the end):",
                SOAK.as_secs()
            );
            for (name, start, end) in soak.growth() {
                let flat = end - start <= (start * 0.05).max(2.0);
                let _ = writeln!(
                    out,
                    "  {name:<24} {start:>6.1} → {end:>6.1} MiB  {}",
                    if flat { "flat" } else { "GROWING" }
                );
            }
        }
    }
    if !micro.table.is_empty() {
        let _ = writeln!(out, "\ncriterion medians, first round:");
        for (id, ns) in &micro.table {
            let shown = if *ns >= 10_000.0 {
                format!("{:.1} µs", ns / 1_000.0)
            } else {
                format!("{ns:.1} ns")
            };
            let _ = writeln!(out, "  {id:<44} {shown:>12}");
        }
    }
    out.push('\n');
    out
}

pub(super) fn final_line(micro: &Micro, http: Option<&Http>) -> String {
    let ratio: Vec<f64> = micro.observe.iter().map(|o| o.1 / o.0).collect();
    let median = |v: Vec<f64>| stats(&v).0;
    let (catalog, checkout, us_per_req, catalog_sampled, checkout_sampled) =
        http.map_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN), |h| {
            (
                median(ratios(h, Endpoint::Catalog, Telemetry::On, |r| r.rps)),
                median(ratios(h, Endpoint::Checkout, Telemetry::On, |r| r.rps)),
                median(cpu_cost(h, Endpoint::Catalog, Telemetry::On)),
                median(ratios(h, Endpoint::Catalog, Telemetry::Sampled, |r| r.rps)),
                median(ratios(h, Endpoint::Checkout, Telemetry::Sampled, |r| r.rps)),
            )
        });
    format!(
        "bench: exemplar_ratio={:.2} metrics_encode_us={:.0} catalog_rps_ratio={catalog:.2} checkout_rps_ratio={checkout:.2} max_rss_mib={:.0} catalog_us_per_req={us_per_req:.1} catalog_rps_ratio_sampled={catalog_sampled:.2} checkout_rps_ratio_sampled={checkout_sampled:.2}",
        stats(&ratio).0,
        stats(&micro.encode_us).0,
        max_rss(http)
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn medians_and_spread() {
        assert_eq!(stats(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
        assert!(stats(&[]).0.is_nan());
    }

    #[test]
    fn final_line_format() {
        let micro = Micro {
            observe: vec![(10.0, 11.0), (10.0, 12.0), (10.0, 11.5)],
            encode_us: vec![40.2, 41.0, 39.0],
            table: BTreeMap::new(),
        };
        let mut runs = BTreeMap::new();
        let r = |rps: f64, cpu_us_per_request: f64| WrkResult {
            rps,
            cpu_us_per_request,
            ..WrkResult::default()
        };
        // Two rounds; the catalog's on − off CPU is 7.5 and 8.5 µs → median 8.0.
        runs.insert(
            key(Endpoint::Catalog, Telemetry::On),
            vec![r(80.0, 32.5), r(82.0, 33.5)],
        );
        runs.insert(
            key(Endpoint::Catalog, Telemetry::Off),
            vec![r(100.0, 25.0), r(100.0, 25.0)],
        );
        runs.insert(
            key(Endpoint::Catalog, Telemetry::Sampled),
            vec![r(96.0, 26.0), r(96.0, 26.0)],
        );
        runs.insert(key(Endpoint::Checkout, Telemetry::On), vec![r(96.0, 0.0)]);
        runs.insert(key(Endpoint::Checkout, Telemetry::Off), vec![r(100.0, 0.0)]);
        runs.insert(
            key(Endpoint::Checkout, Telemetry::Sampled),
            vec![r(99.0, 0.0)],
        );
        let http = Http {
            runs,
            peak_rss: vec![("on-order-service".to_owned(), 30.4)],
            spans: None,
            sampled_spans: None,
            soak: None,
        };
        assert_eq!(
            final_line(&micro, Some(&http)),
            "bench: exemplar_ratio=1.15 metrics_encode_us=40 catalog_rps_ratio=0.81 checkout_rps_ratio=0.96 max_rss_mib=30 catalog_us_per_req=8.0 catalog_rps_ratio_sampled=0.96 checkout_rps_ratio_sampled=0.99"
        );
        // Without the HTTP part the figures it owns are NaN, in the same places.
        let line = final_line(&micro, None);
        let keys: Vec<&str> = line
            .trim_start_matches("bench: ")
            .split(' ')
            .map(|kv| kv.split('=').next().unwrap_or_default())
            .collect();
        assert_eq!(
            keys,
            [
                "exemplar_ratio",
                "metrics_encode_us",
                "catalog_rps_ratio",
                "checkout_rps_ratio",
                "max_rss_mib",
                "catalog_us_per_req",
                "catalog_rps_ratio_sampled",
                "checkout_rps_ratio_sampled"
            ]
        );
    }
}
