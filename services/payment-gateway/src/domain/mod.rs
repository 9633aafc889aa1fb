//! The gateway's rules: what a valid charge request is, how long a provider takes, how faults
//! turn into outcomes.
//!
//! **Invariant:** no I/O here — no database, no clock reads, no sleeping, no global RNG. Functions
//! that need randomness take `&mut impl Rng`, so tests drive them with a seeded generator.

pub mod charge;
pub mod country;
pub mod faults;
pub mod idempotency_key;
pub mod latency;
pub mod money;
pub mod payment_method;
pub mod reference;

pub use charge::{ChargeId, ChargeRequest, ChargeStatus, DeclineCode};
pub use country::Country;
pub use faults::{Faults, FaultsPatch, Outcome};
pub use idempotency_key::IdempotencyKey;
pub use latency::LatencyScale;
pub use money::{AmountCents, Currency};
pub use payment_method::PaymentMethod;
pub use reference::Reference;
