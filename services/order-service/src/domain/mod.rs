//! The checkout's rules as types. Parsing happens once, at the boundary; past it, a
//! `CheckoutRequest` is valid by construction. Errors are this module's own (no HTTP types):
//! the route maps them to problem+json. The values both sides of a call share (`Country`,
//! `PaymentMethod`, `Cents`, `ProductId`, `OrderId`…) come from `contract`.
//!
//! **Invariant:** no I/O here.

mod api_keys;
mod checkout;
mod fingerprint;
mod order;
pub mod reconcile;
pub mod suspicious;

pub use api_keys::{ApiKeys, AuthFailure, CustomerId};
pub use checkout::{
    CheckoutLine, CheckoutRequest, InvalidCheckout, InvalidField, InvalidQuantity, Quantity,
    MAX_LINES,
};
pub use fingerprint::fingerprint;
pub use order::{total, Order, OrderLine, OrderStatus, UnknownStatus};
pub use reconcile::{GatewayRecord, ReconcilePolicy, UnsettledAge, Verdict};
pub use suspicious::{Burst, Flag, Rule, SuspiciousRules};
