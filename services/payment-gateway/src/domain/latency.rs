//! How long the simulated provider takes: a long-tailed distribution per payment method.
//!
//! Real payment latency is not normal. Most calls cluster around a method-specific median
//! (card networks are fast, bank transfers slow), and a small share hits a slow path — a 3-D
//! Secure step-up, an issuer retry, a cold connection — that is several times slower. The model
//! is a mixture of two log-normals:
//!
//! - the **body** (98 %): median `m`, shape σ per method;
//! - the **slow tail** (2 %): median `8·m`, σ = 0.5.
//!
//! So p50 ≈ m and p99 ≈ 8·m: card ≈ 150 ms / 1.2 s, bank_transfer ≈ 500 ms / 4 s. Every sample
//! is capped at [`CAP`]. [`LatencyScale`] (`GATEWAY_LATENCY_SCALE`) multiplies the result, so
//! tests run the same model at a thousandth of the cost, or at zero.

use std::time::Duration;

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use contract::PaymentMethod;

/// No single simulated call takes longer than this (before scaling).
pub const CAP: Duration = Duration::from_secs(30);

/// Share of calls that take the slow path.
pub const TAIL_PROBABILITY: f64 = 0.02;

/// Slow-path median as a multiple of the body median.
pub const TAIL_FACTOR: f64 = 8.0;

const TAIL_SIGMA: f64 = 0.5;

/// A log-normal given by its median (milliseconds) and shape σ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub median_ms: f64,
    pub sigma: f64,
}

/// The body of each method's distribution.
pub fn profile(method: PaymentMethod) -> Profile {
    match method {
        PaymentMethod::Card => Profile {
            median_ms: 150.0,
            sigma: 0.45,
        },
        PaymentMethod::ApplePay => Profile {
            median_ms: 100.0,
            sigma: 0.40,
        },
        PaymentMethod::Paypal => Profile {
            median_ms: 300.0,
            sigma: 0.50,
        },
        PaymentMethod::BankTransfer => Profile {
            median_ms: 500.0,
            sigma: 0.60,
        },
    }
}

/// One simulated provider latency for `method`, unscaled, at most [`CAP`].
pub fn sample(method: PaymentMethod, rng: &mut impl Rng) -> Duration {
    let body = profile(method);
    let (median_ms, sigma) = if rng.random_bool(TAIL_PROBABILITY) {
        (body.median_ms * TAIL_FACTOR, TAIL_SIGMA)
    } else {
        (body.median_ms, body.sigma)
    };
    let z: f64 = rng.sample(StandardNormal);
    // median · e^(σz) is log-normal with that median; written out instead of
    // `rand_distr::LogNormal` because its constructor is fallible and these parameters are not.
    let ms = (median_ms * (sigma * z).exp()).min(CAP.as_secs_f64() * 1000.0);
    Duration::from_secs_f64(ms / 1000.0)
}

/// A scale that is not a number in `0..=LatencyScale::MAX`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a number between 0 and {max} (such as 1.0 or 0.01), got {0:?}", max = LatencyScale::MAX)]
pub struct InvalidLatencyScale(String);

/// `GATEWAY_LATENCY_SCALE`: multiplies every simulated latency. `0` disables the sleep.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct LatencyScale(f64);

impl LatencyScale {
    /// Real time.
    pub const REAL: LatencyScale = LatencyScale(1.0);
    /// No simulated latency at all (injected `latency_ms` still applies).
    pub const ZERO: LatencyScale = LatencyScale(0.0);
    /// Upper bound, so that a typo (`1e9`) is a start-up error rather than a hung service.
    pub const MAX: f64 = 1000.0;

    pub fn new(factor: f64) -> Result<Self, InvalidLatencyScale> {
        if factor.is_finite() && (0.0..=Self::MAX).contains(&factor) {
            Ok(Self(factor))
        } else {
            Err(InvalidLatencyScale(factor.to_string()))
        }
    }

    pub fn parse(value: &str) -> Result<Self, InvalidLatencyScale> {
        let factor: f64 = value
            .trim()
            .parse()
            .map_err(|_| InvalidLatencyScale(value.to_owned()))?;
        Self::new(factor)
    }

    pub fn factor(self) -> f64 {
        self.0
    }

    pub fn apply(self, latency: Duration) -> Duration {
        if self.0 == 0.0 {
            return Duration::ZERO;
        }
        // Both factors are bounded (CAP and MAX), so the product always fits a Duration.
        Duration::try_from_secs_f64(latency.as_secs_f64() * self.0).unwrap_or(Duration::ZERO)
    }
}

impl Default for LatencyScale {
    fn default() -> Self {
        Self::REAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const N: usize = 20_000;

    fn quantiles(method: PaymentMethod, seed: u64) -> (Vec<Duration>, Duration, Duration) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut samples: Vec<Duration> = (0..N).map(|_| sample(method, &mut rng)).collect();
        samples.sort();
        let p50 = samples[N / 2];
        let p99 = samples[N * 99 / 100];
        (samples, p50, p99)
    }

    #[test]
    fn medians_are_within_15_percent_of_the_targets() {
        for (method, target_ms) in [
            (PaymentMethod::Card, 150.0),
            (PaymentMethod::ApplePay, 100.0),
            (PaymentMethod::Paypal, 300.0),
            (PaymentMethod::BankTransfer, 500.0),
        ] {
            let (_, p50, _) = quantiles(method, 42);
            let ms = p50.as_secs_f64() * 1000.0;
            assert!(
                (ms - target_ms).abs() <= target_ms * 0.15,
                "{method}: p50 {ms:.1} ms, target {target_ms}"
            );
        }
    }

    #[test]
    fn the_tail_is_long() {
        for method in PaymentMethod::ALL {
            let (_, p50, p99) = quantiles(method, 43);
            assert!(p99 > p50 * 4, "{method}: p50 {p50:?}, p99 {p99:?}");
        }
        let (_, _, card_p99) = quantiles(PaymentMethod::Card, 44);
        assert!(card_p99 > Duration::from_secs(1), "card p99 {card_p99:?}");
        let (_, _, bank_p99) = quantiles(PaymentMethod::BankTransfer, 45);
        assert!(
            bank_p99 > Duration::from_secs(3),
            "bank_transfer p99 {bank_p99:?}"
        );
    }

    #[test]
    fn no_sample_exceeds_the_cap() {
        for method in PaymentMethod::ALL {
            let (samples, _, _) = quantiles(method, 46);
            assert!(samples.iter().all(|d| *d <= CAP && *d > Duration::ZERO));
        }
    }

    #[test]
    fn same_seed_same_samples() {
        let (a, _, _) = quantiles(PaymentMethod::Paypal, 9);
        let (b, _, _) = quantiles(PaymentMethod::Paypal, 9);
        assert_eq!(a, b);
    }

    #[test]
    fn scale_multiplies_and_zero_disables() {
        let d = Duration::from_millis(400);
        assert_eq!(LatencyScale::ZERO.apply(d), Duration::ZERO);
        assert_eq!(LatencyScale::REAL.apply(d), d);
        assert_eq!(
            LatencyScale::new(0.5).unwrap().apply(d),
            Duration::from_millis(200)
        );
        assert_eq!(
            LatencyScale::new(LatencyScale::MAX).unwrap().apply(CAP),
            CAP * 1000
        );
        let mut rng = StdRng::seed_from_u64(3);
        assert!((0..1000).all(|_| LatencyScale::ZERO
            .apply(sample(PaymentMethod::BankTransfer, &mut rng))
            .is_zero()));
    }

    #[test]
    fn bad_scales_are_refused() {
        for bad in ["-1", "abc", "", "NaN", "inf", "1001"] {
            assert!(LatencyScale::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            LatencyScale::parse(" 0.01 ").map(LatencyScale::factor),
            Ok(0.01)
        );
        assert_eq!(LatencyScale::parse("0").map(LatencyScale::factor), Ok(0.0));
    }
}
