//! Injected faults: the knobs `PUT /admin/faults` turns, and how they decide a charge's fate.

use contract::DeclineCode;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use super::charge::draw_decline_code;

/// The current fault settings. Rates are probabilities in `[0, 1]`, drawn independently per
/// charge in the order error → timeout → decline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Faults {
    /// Extra latency added to every charge, in milliseconds (not scaled).
    #[schema(example = 0)]
    pub latency_ms: u64,
    /// Probability of a 503 `gateway-error` (nothing stored; a retry may succeed).
    #[schema(example = 0.0)]
    pub error_rate: f64,
    /// Probability that the charge succeeds and is stored but the answer hangs for 120 s.
    #[schema(example = 0.0)]
    pub timeout_rate: f64,
    /// Probability of a 402 `payment-declined` (stored as declined).
    #[schema(example = 0.02)]
    pub decline_rate: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            error_rate: 0.0,
            timeout_rate: 0.0,
            decline_rate: 0.02,
        }
    }
}

/// A partial update: given fields replace the current values, absent ones stay.
/// Only a JSON object is read (serde would also take the fields as a positional array).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct FaultsPatch {
    /// `0..=600000`.
    pub latency_ms: Option<u64>,
    /// `[0, 1]`.
    pub error_rate: Option<f64>,
    /// `[0, 1]`.
    pub timeout_rate: Option<f64>,
    /// `[0, 1]`.
    pub decline_rate: Option<f64>,
}

service_kit::deserialize_object_only!(
    FaultsPatch,
    "a faults object {latency_ms, error_rate, timeout_rate, decline_rate}"
);

/// The longest injectable latency: ten minutes, well past any caller's timeout.
pub const MAX_LATENCY_MS: u64 = 600_000;

/// One invalid field of a [`FaultsPatch`], named by [`InvalidFault::field`].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum InvalidFault {
    #[error("must be between 0 and {MAX_LATENCY_MS}, got {0}")]
    LatencyMs(u64),
    #[error("must be a probability between 0.0 and 1.0, got {rate}")]
    Rate { field: &'static str, rate: f64 },
}

impl InvalidFault {
    pub fn field(&self) -> &'static str {
        match self {
            Self::LatencyMs(_) => "latency_ms",
            Self::Rate { field, .. } => field,
        }
    }
}

/// What happens to one charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 503 `gateway-error`; nothing is stored.
    GatewayError,
    /// Stored as succeeded, then the answer hangs (the caller times out).
    Timeout,
    /// Stored as declined; 402 `payment-declined`.
    Declined(DeclineCode),
    /// Stored as succeeded; 201.
    Succeeded,
}

impl Outcome {
    /// The `outcome` label and log value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GatewayError => "error",
            Self::Timeout => "timeout",
            Self::Declined(_) => "declined",
            Self::Succeeded => "succeeded",
        }
    }
}

impl Faults {
    /// Applies `patch` to a copy; every invalid field is reported, and then nothing changes.
    pub fn patched(&self, patch: &FaultsPatch) -> Result<Faults, Vec<InvalidFault>> {
        let mut errors = Vec::new();
        if let Some(ms) = patch.latency_ms {
            if ms > MAX_LATENCY_MS {
                errors.push(InvalidFault::LatencyMs(ms));
            }
        }
        for (field, value) in [
            ("error_rate", patch.error_rate),
            ("timeout_rate", patch.timeout_rate),
            ("decline_rate", patch.decline_rate),
        ] {
            if let Some(rate) = value {
                if !(0.0..=1.0).contains(&rate) {
                    errors.push(InvalidFault::Rate { field, rate });
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Faults {
            latency_ms: patch.latency_ms.unwrap_or(self.latency_ms),
            error_rate: patch.error_rate.unwrap_or(self.error_rate),
            timeout_rate: patch.timeout_rate.unwrap_or(self.timeout_rate),
            decline_rate: patch.decline_rate.unwrap_or(self.decline_rate),
        })
    }

    /// Draws one charge's outcome. Rates are validated on the way in, so `random_bool` never
    /// sees a value outside `[0, 1]`; clamping keeps even a hand-built `Faults` from panicking.
    pub fn decide(&self, rng: &mut impl Rng) -> Outcome {
        let p = |rate: f64| {
            if rate.is_nan() {
                0.0
            } else {
                rate.clamp(0.0, 1.0)
            }
        };
        if rng.random_bool(p(self.error_rate)) {
            Outcome::GatewayError
        } else if rng.random_bool(p(self.timeout_rate)) {
            Outcome::Timeout
        } else if rng.random_bool(p(self.decline_rate)) {
            Outcome::Declined(draw_decline_code(rng))
        } else {
            Outcome::Succeeded
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn defaults_match_the_design() {
        let f = Faults::default();
        assert_eq!(
            (f.latency_ms, f.error_rate, f.timeout_rate, f.decline_rate),
            (0, 0.0, 0.0, 0.02)
        );
    }

    #[test]
    fn patch_replaces_only_given_fields() {
        let f = Faults::default()
            .patched(&FaultsPatch {
                error_rate: Some(0.5),
                ..FaultsPatch::default()
            })
            .unwrap();
        assert_eq!(f.error_rate, 0.5);
        assert_eq!(f.decline_rate, 0.02);
    }

    #[test]
    fn invalid_values_are_all_reported_and_nothing_changes() {
        let errors = Faults::default()
            .patched(&FaultsPatch {
                latency_ms: Some(600_001),
                error_rate: Some(1.5),
                timeout_rate: Some(-0.1),
                decline_rate: Some(0.5),
            })
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(InvalidFault::field).collect();
        assert_eq!(fields, ["latency_ms", "error_rate", "timeout_rate"]);
    }

    #[test]
    fn certain_rates_decide_certainly() {
        let mut rng = StdRng::seed_from_u64(1);
        let all = |f: Faults, rng: &mut StdRng| (0..200).map(|_| f.decide(rng)).collect::<Vec<_>>();
        let errors = Faults {
            error_rate: 1.0,
            timeout_rate: 1.0,
            ..Faults::default()
        };
        assert!(all(errors, &mut rng)
            .iter()
            .all(|o| *o == Outcome::GatewayError));
        let timeouts = Faults {
            timeout_rate: 1.0,
            decline_rate: 1.0,
            ..Faults::default()
        };
        assert!(all(timeouts, &mut rng)
            .iter()
            .all(|o| *o == Outcome::Timeout));
        let declines = Faults {
            decline_rate: 1.0,
            ..Faults::default()
        };
        assert!(all(declines, &mut rng)
            .iter()
            .all(|o| matches!(o, Outcome::Declined(_))));
        let clean = Faults {
            decline_rate: 0.0,
            ..Faults::default()
        };
        assert!(all(clean, &mut rng)
            .iter()
            .all(|o| *o == Outcome::Succeeded));
    }

    #[test]
    fn default_decline_rate_is_about_two_percent() {
        let mut rng = StdRng::seed_from_u64(2);
        let declined = (0..20_000)
            .filter(|_| matches!(Faults::default().decide(&mut rng), Outcome::Declined(_)))
            .count();
        assert!((300..500).contains(&declined), "{declined}");
    }
}
