//! The one-OpenTelemetry-version check: `cargo tree` must find each crate of the family in one
//! version.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

/// The OpenTelemetry family that must be in the dependency graph exactly once each.
///
/// A bridge crate built on another `opentelemetry` minor (tracing-opentelemetry, or formerly
/// tracing-actix-web's `opentelemetry_0_*` features) still compiles, but links two
/// `opentelemetry` copies, and incoming `traceparent` headers are then silently ignored. Only
/// this check catches it.
const OTEL_FAMILY: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry-otlp",
    "opentelemetry-proto",
    "opentelemetry-http",
    "tracing-opentelemetry",
];

pub(super) fn check_one_otel_version(sh: &Shell) -> Result<()> {
    // The full graph with every edge kind (normal, build, dev): a second copy pulled in only by
    // a dev-dependency breaks propagation in the tests just the same. Every feature too: a
    // feature-gated dependency would bring its own copy the day the feature is turned on.
    let tree = cmd!(sh, "cargo tree --workspace --all-features --prefix none")
        .read()
        .context("`cargo tree` failed; the one-OpenTelemetry-version check needs it")?;
    let versions = crate_versions(&tree, OTEL_FAMILY);

    if versions.is_empty() {
        println!("no OpenTelemetry crates in the dependency graph yet");
        return Ok(());
    }
    for (name, found) in &versions {
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        println!("  {name:<22} {}", found.join(", "));
    }

    let duplicated = duplicates(&versions);
    if duplicated.is_empty() {
        println!("one version each");
        return Ok(());
    }
    let mut hints = String::new();
    for (name, found) in &duplicated {
        for version in *found {
            hints.push_str(&format!("\n  cargo tree --workspace -i {name}@{version}"));
        }
    }
    bail!(
        "the OpenTelemetry family must be in one version each, found several: {}.\n\
         Two copies compile, but context from one is invisible to the other (incoming traceparent is \
         silently ignored). Keep every OpenTelemetry crate on one release line in the root Cargo.toml. \
         Who pulls in each copy:{hints}",
        duplicated
            .iter()
            .map(|(name, found)| format!("{name} {}", found.iter().cloned().collect::<Vec<_>>().join(" + ")))
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// Versions of the `wanted` crates in `cargo tree --prefix none` output (with or without `-d`).
///
/// Every line of that output names one package of the graph (`name vX.Y.Z`, maybe followed by
/// `(path)`, `(proc-macro)` or `(*)`), so scanning all lines finds every version present.
fn crate_versions(tree: &str, wanted: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(version) = version.strip_prefix('v') else {
            continue;
        };
        if wanted.contains(&name) {
            versions
                .entry(name.to_owned())
                .or_default()
                .insert(version.to_owned());
        }
    }
    versions
}

fn duplicates(versions: &BTreeMap<String, BTreeSet<String>>) -> Vec<(&String, &BTreeSet<String>)> {
    versions
        .iter()
        .filter(|(_, found)| found.len() > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed `cargo tree --workspace --prefix none` output with two opentelemetry copies.
    const TREE_WITH_TWO_COPIES: &str = "\
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)
opentelemetry v0.32.0
opentelemetry_sdk v0.32.0
opentelemetry v0.32.0 (*)
tracing-actix-web v0.7.25
opentelemetry v0.33.0
tracing-opentelemetry v0.33.1
opentelemetry v0.32.0 (*)
opentelemetry_sdk v0.32.0 (*)
opentelemetry-otlp v0.32.0
opentelemetry-http v0.32.0
opentelemetry-proto v0.32.0
otlp-sink v0.1.0 (/home/dev/webstore/crates/otlp-sink)
opentelemetry-proto v0.32.0 (*)
prost-derive v0.14.1 (proc-macro)
";

    /// Trimmed `cargo tree --workspace -d --prefix none`: groups separated by blank lines.
    const DUPLICATES_OUTPUT: &str = "\
hashbrown v0.14.5
dashmap v5.5.3

hashbrown v0.16.0
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)

opentelemetry v0.32.0
opentelemetry_sdk v0.32.0
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)

opentelemetry v0.33.0
tracing-actix-web v0.7.25
telemetry v0.1.0 (/home/dev/webstore/crates/telemetry)
";

    #[test]
    fn finds_every_version_of_the_family() {
        let versions = crate_versions(TREE_WITH_TWO_COPIES, OTEL_FAMILY);
        let opentelemetry: Vec<_> = versions["opentelemetry"].iter().cloned().collect();
        assert_eq!(opentelemetry, ["0.32.0", "0.33.0"]);
        assert_eq!(versions["tracing-opentelemetry"].len(), 1);
        assert_eq!(
            versions["opentelemetry-proto"].len(),
            1,
            "(*) repeats are the same version"
        );
        assert!(
            !versions.contains_key("telemetry"),
            "only the family is collected"
        );

        let duplicated = duplicates(&versions);
        assert_eq!(duplicated.len(), 1);
        assert_eq!(duplicated[0].0, "opentelemetry");
    }

    #[test]
    fn reads_duplicates_output_too() {
        let versions = crate_versions(DUPLICATES_OUTPUT, OTEL_FAMILY);
        assert_eq!(versions["opentelemetry"].len(), 2);
        assert!(
            !versions.contains_key("hashbrown"),
            "other duplicates are not this check's business"
        );
        assert_eq!(duplicates(&versions).len(), 1);
    }

    #[test]
    fn one_version_each_passes() {
        let tree =
            "opentelemetry v0.32.0\nopentelemetry v0.32.0 (*)\ntracing-opentelemetry v0.33.0\n\n";
        assert!(duplicates(&crate_versions(tree, OTEL_FAMILY)).is_empty());
        assert!(crate_versions("", OTEL_FAMILY).is_empty());
    }
}
