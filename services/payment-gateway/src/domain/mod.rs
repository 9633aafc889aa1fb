//! The gateway's rules: how a charge request is fingerprinted, how long a provider takes, how
//! faults turn into outcomes, when failed authentications stop being checked. The request and
//! charge types are `contract`'s.
//!
//! **Invariant:** no I/O here — no database, no clock reads, no sleeping, no global RNG. Functions
//! that need randomness take `&mut impl Rng`, so tests drive them with a seeded generator.

pub mod charge;
pub mod faults;
pub mod latency;
pub mod throttle;

pub use charge::{draw_decline_code, fingerprint};
pub use faults::{Faults, FaultsPatch, InvalidFault, Outcome};
pub use latency::{InvalidLatencyScale, LatencyScale};
pub use throttle::FailureThrottle;
