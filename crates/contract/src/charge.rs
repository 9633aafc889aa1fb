//! The payment gateway's bodies: what `POST /v1/charges` is asked ([`ChargeRequest`]), the
//! charge it answers with ([`Charge`], also `GET /v1/charges/{id}`), and the members a decline
//! adds to its 402 problem ([`DeclineDetails`]). order-service writes the request and reads the
//! answers; the gateway does the opposite.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::country::{Country, InvalidCountry};
use crate::money::{ChargeAmount, ChargeAmountOutOfRange, Currency, UnsupportedCurrency};
use crate::payment_method::{InvalidPaymentMethod, PaymentMethod};

/// The caller's reference for a charge (order-service sends the order id): 1–128 characters,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReference {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {0}", max = Reference::MAX_CHARS)]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl Reference {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(value: &str) -> Result<Self, InvalidReference> {
        let chars = value.chars().count();
        if chars == 0 {
            return Err(InvalidReference::Empty);
        }
        if chars > Self::MAX_CHARS {
            return Err(InvalidReference::TooLong(chars));
        }
        if value.chars().any(char::is_control) {
            return Err(InvalidReference::ControlCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    /// Built by [`crate::OrderId::charge_reference`]: a UUID is always a valid reference.
    pub(crate) fn from_valid(value: String) -> Self {
        debug_assert!(Self::parse(&value).is_ok(), "{value:?}");
        Self(value)
    }
}

impl AsRef<str> for Reference {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A charge id: 1–64 characters of `[A-Za-z0-9_-]`. The gateway mints `ch_` + a UUID v4 in
/// simple form ([`ChargeId::from_uuid`]); readers only rely on the character set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChargeId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1-{max} characters of letters, digits, '-' and '_', got {0:?}", max = ChargeId::MAX_LEN)]
pub struct InvalidChargeId(String);

impl ChargeId {
    pub const PREFIX: &'static str = "ch_";
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidChargeId> {
        let ok = (1..=Self::MAX_LEN).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidChargeId(value.to_owned()))
        }
    }

    /// `ch_` + the 32 hex digits of `id`.
    pub fn from_uuid(id: Uuid) -> Self {
        Self(format!("{}{}", Self::PREFIX, id.simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ChargeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChargeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ChargeId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ChargeId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// Why the (simulated) issuer declined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineCode {
    InsufficientFunds,
    CardDeclined,
    DoNotHonor,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of insufficient_funds, card_declined, do_not_honor; got {0:?}")]
pub struct InvalidDeclineCode(String);

impl DeclineCode {
    pub const ALL: [DeclineCode; 3] = [
        Self::InsufficientFunds,
        Self::CardDeclined,
        Self::DoNotHonor,
    ];

    pub fn parse(value: &str) -> Result<Self, InvalidDeclineCode> {
        match value {
            "insufficient_funds" => Ok(Self::InsufficientFunds),
            "card_declined" => Ok(Self::CardDeclined),
            "do_not_honor" => Ok(Self::DoNotHonor),
            other => Err(InvalidDeclineCode(other.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientFunds => "insufficient_funds",
            Self::CardDeclined => "card_declined",
            Self::DoNotHonor => "do_not_honor",
        }
    }
}

impl fmt::Display for DeclineCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DeclineCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DeclineCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// What a stored charge is. Simulated gateway errors are never stored, so they have no status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeStatus {
    Succeeded,
    Declined(DeclineCode),
}

impl ChargeStatus {
    /// `succeeded` or `declined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Declined(_) => "declined",
        }
    }

    pub fn decline_code(self) -> Option<DeclineCode> {
        match self {
            Self::Succeeded => None,
            Self::Declined(code) => Some(code),
        }
    }

    /// From the `status` and `decline_code` members (or columns): a declined charge has a code,
    /// a succeeded one has none.
    pub fn parse(status: &str, decline_code: Option<&str>) -> Result<Self, InvalidStatus> {
        let invalid = || InvalidStatus {
            status: status.to_owned(),
            decline_code: decline_code.map(str::to_owned),
        };
        match (status, decline_code) {
            ("succeeded", None) => Ok(Self::Succeeded),
            ("declined", Some(code)) => DeclineCode::parse(code)
                .map(Self::Declined)
                .map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected succeeded without a decline_code or declined with a known one, got {status:?} with {decline_code:?}")]
pub struct InvalidStatus {
    status: String,
    decline_code: Option<String>,
}

/// One invalid member of a charge body, named by [`ChargeFieldError::field`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChargeFieldError {
    #[error(transparent)]
    Amount(#[from] ChargeAmountOutOfRange),
    #[error(transparent)]
    Currency(#[from] UnsupportedCurrency),
    #[error(transparent)]
    PaymentMethod(#[from] InvalidPaymentMethod),
    #[error(transparent)]
    Country(#[from] InvalidCountry),
    #[error(transparent)]
    Reference(#[from] InvalidReference),
}

impl ChargeFieldError {
    /// The JSON member this error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Amount(_) => "amount_cents",
            Self::Currency(_) => "currency",
            Self::PaymentMethod(_) => "payment_method",
            Self::Country(_) => "country",
            Self::Reference(_) => "reference",
        }
    }
}

/// Every invalid member of a `POST /v1/charges` body, in body order; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", list(.0))]
pub struct InvalidChargeRequest(pub Vec<ChargeFieldError>);

fn list(errors: &[ChargeFieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {e}", e.field()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A valid `POST /v1/charges` body. Reading one checks every member (see
/// [`ChargeRequestJson`]); the country may be sent in either case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ChargeRequestJson", try_from = "ChargeRequestJson")]
pub struct ChargeRequest {
    pub amount: ChargeAmount,
    pub currency: Currency,
    pub method: PaymentMethod,
    pub country: Country,
    pub reference: Reference,
}

/// The `POST /v1/charges` body as sent. Unknown members are refused: a caller cannot slip in
/// fees or statuses the gateway would silently ignore.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChargeBody)]
pub struct ChargeRequestJson {
    /// Integer cents, 1..=100000000.
    #[schema(example = 4999)]
    pub amount_cents: i64,
    /// Only `USD`.
    #[schema(example = "USD")]
    pub currency: String,
    /// `card`, `paypal`, `apple_pay` or `bank_transfer`.
    #[schema(example = "card")]
    pub payment_method: String,
    /// ISO 3166-1 alpha-2, either case.
    #[schema(example = "US")]
    pub country: String,
    /// The caller's reference (the order id), 1–128 characters.
    #[schema(example = "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b")]
    pub reference: String,
}

impl TryFrom<ChargeRequestJson> for ChargeRequest {
    type Error = InvalidChargeRequest;

    /// Every member is checked, and every failure listed, before anything is refused.
    fn try_from(body: ChargeRequestJson) -> Result<Self, Self::Error> {
        let amount = ChargeAmount::parse(body.amount_cents).map_err(ChargeFieldError::from);
        let currency = Currency::parse(&body.currency).map_err(ChargeFieldError::from);
        let method = PaymentMethod::parse(&body.payment_method).map_err(ChargeFieldError::from);
        let country = Country::parse_any_case(&body.country).map_err(ChargeFieldError::from);
        let reference = Reference::parse(&body.reference).map_err(ChargeFieldError::from);
        match (amount, currency, method, country, reference) {
            (Ok(amount), Ok(currency), Ok(method), Ok(country), Ok(reference)) => Ok(Self {
                amount,
                currency,
                method,
                country,
                reference,
            }),
            (amount, currency, method, country, reference) => Err(InvalidChargeRequest(
                [
                    amount.err(),
                    currency.err(),
                    method.err(),
                    country.err(),
                    reference.err(),
                ]
                .into_iter()
                .flatten()
                .collect(),
            )),
        }
    }
}

impl From<ChargeRequest> for ChargeRequestJson {
    fn from(r: ChargeRequest) -> Self {
        Self {
            amount_cents: r.amount.cents().get(),
            currency: r.currency.as_str().to_owned(),
            payment_method: r.method.as_str().to_owned(),
            country: r.country.as_str().to_owned(),
            reference: r.reference.0,
        }
    }
}

/// A charge as the gateway answers it (201 to `POST /v1/charges`, 200 to `GET
/// /v1/charges/{id}`). Its JSON is [`ChargeJson`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ChargeJson", try_from = "ChargeJson")]
pub struct Charge {
    pub id: ChargeId,
    pub status: ChargeStatus,
    pub amount: ChargeAmount,
    pub currency: Currency,
    pub method: PaymentMethod,
    pub country: Country,
    pub reference: Reference,
    /// RFC 3339, UTC, millisecond precision, as the gateway recorded it. Kept as text: a
    /// replayed answer carries exactly the string first sent.
    pub created_at: String,
}

/// A charge body that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCharge {
    #[error("id: {0}")]
    Id(#[from] InvalidChargeId),
    #[error("status: {0}")]
    Status(#[from] InvalidStatus),
    #[error("{field}: {0}", field = .0.field())]
    Field(#[from] ChargeFieldError),
}

/// The JSON form of a [`Charge`]. `amount_usd` is derived from `amount_cents` when written and
/// ignored when read.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ChargeView)]
pub struct ChargeJson {
    #[schema(example = "ch_0f8e2d9c4b7a41e3a5c6d7e8f9a0b1c2")]
    pub id: String,
    /// `succeeded` or `declined`.
    #[schema(example = "succeeded")]
    pub status: String,
    #[schema(example = 4999)]
    pub amount_cents: i64,
    /// Derived from `amount_cents`, two decimals.
    #[schema(example = 49.99)]
    pub amount_usd: f64,
    #[schema(example = "USD")]
    pub currency: String,
    #[schema(example = "card")]
    pub payment_method: String,
    #[schema(example = "US")]
    pub country: String,
    #[schema(example = "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b")]
    pub reference: String,
    /// RFC 3339, UTC.
    #[schema(example = "2025-01-01T12:00:00.000Z")]
    pub created_at: String,
    /// Only for declined charges: `insufficient_funds`, `card_declined` or `do_not_honor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

impl From<Charge> for ChargeJson {
    fn from(c: Charge) -> Self {
        let cents = c.amount.cents();
        Self {
            id: c.id.0,
            status: c.status.as_str().to_owned(),
            amount_cents: cents.get(),
            amount_usd: cents.usd(),
            currency: c.currency.as_str().to_owned(),
            payment_method: c.method.as_str().to_owned(),
            country: c.country.as_str().to_owned(),
            reference: c.reference.0,
            created_at: c.created_at,
            decline_code: c.status.decline_code().map(|d| d.as_str().to_owned()),
        }
    }
}

impl TryFrom<ChargeJson> for Charge {
    type Error = InvalidCharge;

    fn try_from(j: ChargeJson) -> Result<Self, Self::Error> {
        Ok(Self {
            id: ChargeId::parse(&j.id)?,
            status: ChargeStatus::parse(&j.status, j.decline_code.as_deref())?,
            amount: ChargeAmount::parse(j.amount_cents).map_err(ChargeFieldError::from)?,
            currency: Currency::parse(&j.currency).map_err(ChargeFieldError::from)?,
            method: PaymentMethod::parse(&j.payment_method).map_err(ChargeFieldError::from)?,
            country: Country::parse(&j.country).map_err(ChargeFieldError::from)?,
            reference: Reference::parse(&j.reference).map_err(ChargeFieldError::from)?,
            created_at: j.created_at,
        })
    }
}

/// The members a 402 `payment-declined` problem adds to RFC 9457's: which stored charge was
/// declined, and why. A reader ignores the problem's other members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclineDetails {
    /// The stored (declined) charge.
    #[schema(value_type = String, example = "ch_0f8e2d9c4b7a41e3a5c6d7e8f9a0b1c2")]
    pub charge_id: ChargeId,
    /// `insufficient_funds`, `card_declined` or `do_not_honor`.
    #[schema(value_type = String, example = "card_declined")]
    pub decline_code: DeclineCode,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body() -> serde_json::Value {
        json!({"amount_cents": 1999, "currency": "USD", "payment_method": "card", "country": "US", "reference": "ord_1"})
    }

    fn charge(status: ChargeStatus) -> Charge {
        Charge {
            id: ChargeId::parse("ch_1").unwrap(),
            status,
            amount: ChargeAmount::parse(4999).unwrap(),
            currency: Currency::Usd,
            method: PaymentMethod::Card,
            country: Country::parse("US").unwrap(),
            reference: Reference::parse("ord_1").unwrap(),
            created_at: "2025-01-01T12:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_valid_request_parses_and_folds_the_country() {
        let mut lower = body();
        lower["country"] = json!("us");
        let request: ChargeRequest = serde_json::from_value(lower).unwrap();
        assert_eq!(request.amount.cents().get(), 1999);
        assert_eq!(request.method, PaymentMethod::Card);
        assert_eq!(request.country.as_str(), "US");
        assert_eq!(serde_json::to_value(&request).unwrap(), body());
    }

    #[test]
    fn every_invalid_member_is_listed() {
        let errors = ChargeRequest::try_from(ChargeRequestJson {
            amount_cents: 0,
            currency: "EUR".into(),
            payment_method: "cash".into(),
            country: "XX".into(),
            reference: String::new(),
        })
        .unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(ChargeFieldError::field).collect();
        assert_eq!(
            fields,
            [
                "amount_cents",
                "currency",
                "payment_method",
                "country",
                "reference"
            ]
        );
        assert!(
            errors.to_string().starts_with(
                "amount_cents: must be an integer between 1 and 100000000, got 0; currency:"
            ),
            "{errors}"
        );
    }

    #[test]
    fn unknown_members_are_refused() {
        let mut json = body();
        json["fee_cents"] = json!(0);
        assert!(serde_json::from_value::<ChargeRequestJson>(json.clone()).is_err());
        assert!(serde_json::from_value::<ChargeRequest>(json).is_err());
    }

    #[test]
    fn references_are_bounded() {
        assert_eq!(Reference::parse(""), Err(InvalidReference::Empty));
        assert_eq!(
            Reference::parse(&"x".repeat(129)),
            Err(InvalidReference::TooLong(129))
        );
        assert!(Reference::parse(&"é".repeat(128)).is_ok());
        assert_eq!(
            Reference::parse("a\nb"),
            Err(InvalidReference::ControlCharacter)
        );
    }

    #[test]
    fn charge_ids_are_plain_and_minted_from_a_uuid() {
        let id = ChargeId::from_uuid(Uuid::nil());
        assert_eq!(id.as_str(), "ch_00000000000000000000000000000000");
        assert_eq!(ChargeId::parse(id.as_str()), Ok(id));
        for bad in ["", "ch 1", "ch/1", &"c".repeat(65)] {
            assert!(ChargeId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_charge_round_trips_in_a_stable_member_order() {
        let paid = charge(ChargeStatus::Succeeded);
        let text = serde_json::to_string(&paid).unwrap();
        assert_eq!(
            text,
            r#"{"id":"ch_1","status":"succeeded","amount_cents":4999,"amount_usd":49.99,"currency":"USD","payment_method":"card","country":"US","reference":"ord_1","created_at":"2025-01-01T12:00:00.000Z"}"#
        );
        assert_eq!(serde_json::from_str::<Charge>(&text).unwrap(), paid);
        let declined = charge(ChargeStatus::Declined(DeclineCode::DoNotHonor));
        let json = serde_json::to_value(&declined).unwrap();
        assert_eq!(json["status"], "declined");
        assert_eq!(json["decline_code"], "do_not_honor");
        assert_eq!(serde_json::from_value::<Charge>(json).unwrap(), declined);
    }

    #[test]
    fn a_charge_that_does_not_hold_together_is_refused() {
        let base = serde_json::to_value(charge(ChargeStatus::Succeeded)).unwrap();
        for (member, value) in [
            ("status", json!("declined")),
            ("decline_code", json!("card_declined")),
            ("amount_cents", json!(0)),
            ("country", json!("us")),
            ("id", json!("ch 1")),
        ] {
            let mut bad = base.clone();
            bad[member] = value;
            assert!(serde_json::from_value::<Charge>(bad).is_err(), "{member}");
        }
    }

    #[test]
    fn decline_details_are_read_from_a_whole_problem() {
        let problem = json!({
            "type": "https://webstore.example/problems/payment-declined", "title": "Payment declined",
            "status": 402, "charge_id": "ch_2", "decline_code": "card_declined",
        });
        let details: DeclineDetails = serde_json::from_value(problem).unwrap();
        assert_eq!(details.charge_id.as_str(), "ch_2");
        assert_eq!(details.decline_code, DeclineCode::CardDeclined);
        assert!(serde_json::from_value::<DeclineDetails>(
            json!({"charge_id": "ch_2", "decline_code": "stolen"})
        )
        .is_err());
        for code in DeclineCode::ALL {
            assert_eq!(DeclineCode::parse(code.as_str()), Ok(code));
        }
    }
}
