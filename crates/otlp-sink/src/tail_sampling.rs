//! A test double of the OpenTelemetry Collector's `tail_sampling` processor: the policies of a
//! Collector configuration, applied to whole traces the sink received.
//!
//! Tests deserialise the `processors.tail_sampling` section of `infra/otel-collector/config.yaml`
//! (with any serde format crate) into [`TailSampling`], so what they check is the file that
//! ships: remove a policy there and the test sees it gone. Every policy type the double does
//! not implement is refused by [`TailSampling::policies`], never silently ignored.
//!
//! Implemented, with the Collector's semantics (contrib 0.135): a trace is kept when **any**
//! policy samples it.
//! - `status_code`: some span's status is one of `status_codes` (`OK`, `ERROR`, `UNSET`);
//! - `latency`: the latest end minus the earliest start of the trace's spans is at least
//!   `threshold_ms` (and below `upper_threshold_ms` when that is set);
//! - `boolean_attribute`: some span has attribute `key` equal to `value`;
//! - `probabilistic`: FNV-1a (64 bit) of `hash_salt` followed by the 16 trace-id bytes, at most
//!   `sampling_percentage` % of `u64::MAX`.
//!
//! Not modelled: `decision_wait` and `num_traces` (a test hands over complete traces), and
//! `invert_match`, which is refused.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::span::StoredSpan;

/// The `tail_sampling` processor's configuration, as written in a Collector config file.
#[derive(Debug, Clone, Deserialize)]
pub struct TailSampling {
    /// Kept for tests that check the sizing is present; not modelled.
    pub decision_wait: Option<String>,
    pub num_traces: Option<u64>,
    pub expected_new_traces_per_sec: Option<u64>,
    policies: Vec<PolicyConfig>,
}

#[derive(Debug, Clone, Deserialize)]
struct PolicyConfig {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    status_code: Option<StatusCodeConfig>,
    latency: Option<LatencyConfig>,
    boolean_attribute: Option<BooleanAttributeConfig>,
    probabilistic: Option<ProbabilisticConfig>,
}

#[derive(Debug, Clone, Deserialize)]
struct StatusCodeConfig {
    status_codes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct LatencyConfig {
    threshold_ms: u64,
    #[serde(default)]
    upper_threshold_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct BooleanAttributeConfig {
    key: String,
    value: bool,
    #[serde(default)]
    invert_match: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct ProbabilisticConfig {
    sampling_percentage: f64,
    hash_salt: Option<String>,
}

/// One policy, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// Status names in lower case, as [`StoredSpan::status_code`] has them.
    StatusCode(Vec<String>),
    Latency {
        threshold_ms: u64,
        upper_ms: u64,
    },
    BooleanAttribute {
        key: String,
        value: bool,
    },
    Probabilistic {
        threshold: u64,
        salt: String,
    },
}

/// The Collector's salt when `hash_salt` is not set.
const DEFAULT_HASH_SALT: &str = "default-hash-seed";

impl TailSampling {
    /// The policies, by name, in file order; an error names the first policy the double
    /// cannot apply as the Collector would.
    pub fn policies(&self) -> Result<Vec<(String, Policy)>, String> {
        self.policies
            .iter()
            .map(|p| Ok((p.name.clone(), p.to_policy()?)))
            .collect()
    }

    /// Which policies keep `trace` (all its spans); empty: the trace is dropped.
    pub fn keeping(&self, trace: &[StoredSpan]) -> Result<Vec<String>, String> {
        Ok(self
            .policies()?
            .into_iter()
            .filter(|(_, p)| p.samples(trace))
            .map(|(name, _)| name)
            .collect())
    }

    /// Applies the policies to every trace: trace id → names of the policies that keep it.
    pub fn decide<'a>(
        &self,
        traces: impl IntoIterator<Item = (&'a str, &'a [StoredSpan])>,
    ) -> Result<BTreeMap<String, Vec<String>>, String> {
        let policies = self.policies()?;
        Ok(traces
            .into_iter()
            .map(|(id, spans)| {
                let keeping = policies
                    .iter()
                    .filter(|(_, p)| p.samples(spans))
                    .map(|(name, _)| name.clone())
                    .collect();
                (id.to_owned(), keeping)
            })
            .collect())
    }
}

impl PolicyConfig {
    fn to_policy(&self) -> Result<Policy, String> {
        let missing = || format!("policy {:?}: no `{}` section", self.name, self.kind);
        match self.kind.as_str() {
            "status_code" => {
                let c = self.status_code.as_ref().ok_or_else(missing)?;
                Ok(Policy::StatusCode(
                    c.status_codes.iter().map(|s| s.to_lowercase()).collect(),
                ))
            }
            "latency" => {
                let c = self.latency.as_ref().ok_or_else(missing)?;
                Ok(Policy::Latency {
                    threshold_ms: c.threshold_ms,
                    upper_ms: c.upper_threshold_ms,
                })
            }
            "boolean_attribute" => {
                let c = self.boolean_attribute.as_ref().ok_or_else(missing)?;
                if c.invert_match {
                    return Err(format!(
                        "policy {:?}: invert_match is not modelled",
                        self.name
                    ));
                }
                Ok(Policy::BooleanAttribute {
                    key: c.key.clone(),
                    value: c.value,
                })
            }
            "probabilistic" => {
                let c = self.probabilistic.as_ref().ok_or_else(missing)?;
                let ratio = (c.sampling_percentage / 100.0).clamp(0.0, 1.0);
                Ok(Policy::Probabilistic {
                    threshold: (ratio * u64::MAX as f64) as u64,
                    salt: c
                        .hash_salt
                        .clone()
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| DEFAULT_HASH_SALT.to_owned()),
                })
            }
            other => Err(format!(
                "policy {:?}: type {other:?} is not modelled by this double",
                self.name
            )),
        }
    }
}

impl Policy {
    /// Whether this policy alone samples `trace`.
    pub fn samples(&self, trace: &[StoredSpan]) -> bool {
        match self {
            Policy::StatusCode(codes) => trace.iter().any(|s| codes.contains(&s.status_code)),
            Policy::Latency {
                threshold_ms,
                upper_ms,
            } => {
                let start = trace.iter().map(|s| s.start_unix_nanos).min();
                let end = trace.iter().map(|s| s.end_unix_nanos).max();
                let Some((start, end)) = start.zip(end) else {
                    return false;
                };
                let ms = end.saturating_sub(start) / 1_000_000;
                ms >= *threshold_ms && (*upper_ms == 0 || ms < *upper_ms)
            }
            Policy::BooleanAttribute { key, value } => trace
                .iter()
                .any(|s| s.attribute(key).and_then(serde_json::Value::as_bool) == Some(*value)),
            Policy::Probabilistic { threshold, salt } => trace
                .first()
                .and_then(|s| trace_id_bytes(&s.trace_id))
                .is_some_and(|id| fnv1a64(salt.as_bytes(), &id) <= *threshold),
        }
    }
}

fn trace_id_bytes(hex_id: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex_id, &mut out).ok()?;
    Some(out)
}

fn fnv1a64(salt: &[u8], bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in salt.iter().chain(bytes) {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;

    fn span(trace: u8, start_ms: u64, end_ms: u64, status: &str, attrs: Value) -> StoredSpan {
        StoredSpan {
            trace_id: format!("{trace:032x}"),
            span_id: "1".repeat(16),
            parent_span_id: None,
            name: "x".into(),
            kind: "server".into(),
            service_name: "svc".into(),
            start_unix_nanos: start_ms * 1_000_000,
            end_unix_nanos: end_ms * 1_000_000,
            attributes: attrs.as_object().cloned().unwrap_or_else(Map::new),
            status_code: status.into(),
            status_message: String::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    fn config(policies: Value) -> TailSampling {
        serde_json::from_value(json!({ "decision_wait": "20s", "policies": policies })).unwrap()
    }

    #[test]
    fn each_policy_samples_what_the_collector_would() {
        let c = config(json!([
            {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
            {"name": "slow", "type": "latency", "latency": {"threshold_ms": 2000}},
            {"name": "marked", "type": "boolean_attribute",
             "boolean_attribute": {"key": "webstore.exemplar", "value": true}},
        ]));
        let ok = [span(1, 0, 10, "unset", json!({}))];
        assert!(c.keeping(&ok).unwrap().is_empty());
        let failed = [
            span(2, 0, 10, "unset", json!({})),
            span(2, 1, 5, "error", json!({})),
        ];
        assert_eq!(c.keeping(&failed).unwrap(), ["errors"]);
        // The trace's extent counts, not one span's duration.
        let slow = [
            span(3, 0, 1500, "unset", json!({})),
            span(3, 1400, 2000, "unset", json!({})),
        ];
        assert_eq!(c.keeping(&slow).unwrap(), ["slow"]);
        let marked = [span(4, 0, 10, "unset", json!({"webstore.exemplar": true}))];
        assert_eq!(c.keeping(&marked).unwrap(), ["marked"]);
        let string_true = [span(
            5,
            0,
            10,
            "unset",
            json!({"webstore.exemplar": "true"}),
        )];
        assert!(
            c.keeping(&string_true).unwrap().is_empty(),
            "a bool, not a string"
        );
    }

    #[test]
    fn the_probabilistic_policy_keeps_its_share_by_trace_id() {
        let c = config(json!([
            {"name": "baseline", "type": "probabilistic", "probabilistic": {"sampling_percentage": 10}}
        ]));
        let kept = (0..10_000u32)
            .filter(|i| {
                let mut s = span(0, 0, 1, "unset", json!({}));
                s.trace_id = format!(
                    "{:032x}",
                    u128::from(*i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
                );
                !c.keeping(&[s.clone(), s]).unwrap().is_empty()
            })
            .count();
        assert!((800..1200).contains(&kept), "{kept} of 10 000 at 10 %");
        assert_eq!(
            fnv1a64(b"", b"a"),
            0xaf63_dc4c_8601_ec8c,
            "FNV-1a test vector"
        );
    }

    #[test]
    fn unknown_policy_types_are_refused_not_ignored() {
        let c = config(json!([{"name": "x", "type": "ottl_condition"}]));
        let err = c.policies().unwrap_err();
        assert!(err.contains("ottl_condition"), "{err}");
        let c = config(json!([{"name": "y", "type": "latency"}]));
        assert!(c.policies().unwrap_err().contains("no `latency` section"));
    }
}
