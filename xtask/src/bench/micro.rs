//! The micro benches: criterion's `--quick` runs of the telemetry crate's `histogram` and
//! `encode` benches in alternating rounds, read back from criterion's `estimates.json`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use xshell::{cmd, Shell};

use super::pin::Pinning;

// Micro benches

pub(super) struct Micro {
    /// Per round: (plain ns, exemplar ns).
    pub(super) observe: Vec<(f64, f64)>,
    /// Per round: µs per 2k-series scrape.
    pub(super) encode_us: Vec<f64>,
    /// Every other figure of the first round, by criterion id.
    pub(super) table: BTreeMap<String, f64>,
}

const PLAIN: &str = "observe/plain";
const EXEMPLAR: &str = "observe/exemplar_sampled_span";
const ENCODE_2K: &str = "encode/2k_series";

pub(super) fn run_micro(sh: &Shell, pin: &Pinning, home: &Path, rounds: usize) -> Result<Micro> {
    println!("\nMicro benches: {rounds} alternating rounds (criterion --quick), pinned to core 1");
    let _ = fs::remove_dir_all(home);
    let mut micro = Micro {
        observe: Vec::new(),
        encode_us: Vec::new(),
        table: BTreeMap::new(),
    };
    for round in 0..rounds {
        // The first round runs every bench, for the table; later ones only what the ratios need.
        let (histogram_filter, encode_filter) = if round == 0 {
            ("", "")
        } else {
            (
                "^observe/(plain|exemplar_sampled_span)$",
                "^encode/2k_series$",
            )
        };
        criterion(sh, pin, home, "histogram", histogram_filter)?;
        criterion(sh, pin, home, "encode", encode_filter)?;
        let plain = estimate_ns(home, PLAIN)?;
        let exemplar = estimate_ns(home, EXEMPLAR)?;
        let encode = estimate_ns(home, ENCODE_2K)? / 1_000.0;
        println!(
            "  round {}: plain {plain:.1} ns, exemplar {exemplar:.1} ns (×{:.2}), encode 2k series {encode:.0} µs",
            round + 1,
            exemplar / plain
        );
        micro.observe.push((plain, exemplar));
        micro.encode_us.push(encode);
        if round == 0 {
            micro.table = all_estimates(home)?;
        }
    }
    Ok(micro)
}

fn criterion(sh: &Shell, pin: &Pinning, home: &Path, bench: &str, filter: &str) -> Result<()> {
    let mut args = pin.prefix(1);
    args.extend(
        [
            "cargo",
            "bench",
            "-q",
            "-p",
            "telemetry",
            "--bench",
            bench,
            "--",
            "--quick",
            "--noplot",
        ]
        .map(String::from),
    );
    if !filter.is_empty() {
        args.push(filter.to_owned());
    }
    let (program, rest) = args.split_first().context("an empty bench command")?;
    cmd!(sh, "{program} {rest...}")
        .env("CRITERION_HOME", home)
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .with_context(|| format!("cargo bench --bench {bench} failed (run it by hand to see why)"))
}

/// Criterion's median estimate for `id` (`group/function`), in ns.
fn estimate_ns(home: &Path, id: &str) -> Result<f64> {
    let path = home.join(id).join("new").join("estimates.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    median_from_estimates(&text).ok_or_else(|| anyhow!("no median in {}", path.display()))
}

fn median_from_estimates(json: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Every `group/function` under `home` with its median, ns.
fn all_estimates(home: &Path) -> Result<BTreeMap<String, f64>> {
    let mut found = BTreeMap::new();
    for group in fs::read_dir(home).with_context(|| format!("reading {}", home.display()))? {
        let group = group?.path();
        let Ok(functions) = fs::read_dir(&group) else {
            continue;
        };
        for function in functions {
            let function = function?.path();
            let (Some(g), Some(f)) = (
                group.file_name().and_then(|s| s.to_str()),
                function.file_name().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            let id = format!("{g}/{f}");
            if let Ok(ns) = estimate_ns(home, &id) {
                found.insert(id, ns);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_estimates() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.1,"upper_bound":10.5},"point_estimate":10.3,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.9,"upper_bound":10.2},"point_estimate":10.0,"standard_error":0.1}}"#;
        assert_eq!(median_from_estimates(json), Some(10.0));
        assert_eq!(median_from_estimates("{}"), None);
    }
}
