//! The checkout's rules as types. Parsing happens once, at the boundary; past it, a `Checkout`
//! is valid by construction. No I/O here.

mod api_keys;
mod checkout;
mod idempotency;
mod money;
pub mod suspicious;

pub use api_keys::{ApiKeys, AuthFailure, CustomerId};
pub use checkout::{
    Checkout, CheckoutBody, CheckoutLine, Country, LineBody, PaymentMethod, ProductId, Quantity,
};
pub use idempotency::{fingerprint, IdempotencyKey};
pub use money::Cents;
pub use suspicious::{Burst, Flag, Rule, SuspiciousRules};
