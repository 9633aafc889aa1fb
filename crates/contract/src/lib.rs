//! The types both sides of a WebStore call share, so that a value is parsed once — where it
//! enters a process — and every later reader can trust it.
//!
//! A wire type here deserializes straight into its validated form (`#[serde(try_from = …)]`):
//! a bad value is rejected by parsing and never checked again later. Where an API must list
//! *every* bad field of a body at once, the raw body (`…Json`) is public too, and its
//! `TryFrom` collects all the field errors in one typed error.
//!
//! # Layout
//! - [`country`]: [`Country`], an assigned ISO 3166-1 alpha-2 code (strict and case-folding
//!   parsers: order-service's API refuses `us`, the gateway accepts it).
//! - [`payment_method`]: [`PaymentMethod`], the four ways to pay.
//! - [`money`]: [`Cents`] (non-negative integer cents, checked arithmetic, exact dollar
//!   parsing), [`ChargeAmount`] with [`MAX_CHARGEABLE`], [`Currency`].
//! - [`product`]: [`ProductId`], the catalog's [`Product`] and [`ProductPage`] bodies.
//! - [`idempotency_key`]: [`IdempotencyKey`], the value of the `Idempotency-Key` header.
//! - [`order_id`]: [`OrderId`], and how it becomes a charge's reference and gateway key.
//! - [`charge`]: the `POST /v1/charges` body ([`ChargeRequest`]), the charge as answered
//!   ([`Charge`]), and the members a decline adds to its problem ([`DeclineDetails`]).
//!
//! **Invariants:** no I/O, no HTTP, no database types; every error is a typed `thiserror` value
//! whose message completes a sentence about the field ("must be …, got …"), so an HTTP edge can
//! list it under the field's name.

pub mod charge;
pub mod country;
pub mod idempotency_key;
pub mod money;
pub mod order_id;
pub mod payment_method;
pub mod product;

pub use charge::{
    Charge, ChargeFieldError, ChargeId, ChargeJson, ChargeRequest, ChargeRequestJson, ChargeStatus,
    DeclineCode, DeclineDetails, InvalidCharge, InvalidChargeId, InvalidChargeRequest,
    InvalidDeclineCode, InvalidReference, InvalidStatus, Reference,
};
pub use country::{Country, InvalidCountry};
pub use idempotency_key::{IdempotencyKey, InvalidIdempotencyKey};
pub use money::{
    Cents, ChargeAmount, ChargeAmountOutOfRange, Currency, InvalidUsd, NegativeCents,
    UnsupportedCurrency, MAX_CHARGEABLE,
};
pub use order_id::OrderId;
pub use payment_method::{InvalidPaymentMethod, PaymentMethod};
pub use product::{InvalidProduct, InvalidProductId, Product, ProductId, ProductJson, ProductPage};
