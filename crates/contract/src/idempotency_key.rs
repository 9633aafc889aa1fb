//! The `Idempotency-Key` header value (IETF httpapi-idempotency-key draft).
//!
//! The draft defines the header as a structured-field String (`Idempotency-Key: "8e03…"`); most
//! clients send the bare token (`Idempotency-Key: 8e03…`), as Stripe documents. Which forms an
//! API accepts is its own choice ([`IdempotencyKey::parse`] or
//! [`IdempotencyKey::parse_header`]); what a key *is* is shared, so the services agree.

use std::fmt;

/// 1–[`IdempotencyKey::MAX_LEN`] visible ASCII characters (`!` to `~`): what travels in a
/// header unchanged and can be stored and compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a header value is not a key. The message completes a sentence whose subject is the
/// header ("Idempotency-Key must not be empty").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdempotencyKey {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters, got {0}", max = IdempotencyKey::MAX_LEN)]
    TooLong(usize),
    #[error("must contain only visible ASCII characters (no spaces)")]
    NotVisibleAscii,
    #[error("is not a valid quoted string")]
    BadQuotedString,
}

impl IdempotencyKey {
    /// The longest key accepted, in bytes (and characters, as only ASCII passes).
    pub const MAX_LEN: usize = 255;

    /// The bare form only: the value is the key, quotes included.
    pub fn parse(value: &str) -> Result<Self, InvalidIdempotencyKey> {
        if value.is_empty() {
            return Err(InvalidIdempotencyKey::Empty);
        }
        if value.len() > Self::MAX_LEN {
            return Err(InvalidIdempotencyKey::TooLong(value.len()));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidIdempotencyKey::NotVisibleAscii);
        }
        Ok(Self(value.to_owned()))
    }

    /// The bare form or the structured-field String form; `"k-1"` and `k-1` are the same key.
    /// A quoted string must end with its quote and hold no escapes.
    pub fn parse_header(value: &str) -> Result<Self, InvalidIdempotencyKey> {
        match value.strip_prefix('"') {
            Some(rest) => rest
                .strip_suffix('"')
                .filter(|inner| !inner.contains(['"', '\\']))
                .ok_or(InvalidIdempotencyKey::BadQuotedString)
                .and_then(Self::parse),
            None => Self::parse(value),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Built by [`crate::OrderId::charge_key`], whose format always makes a valid key.
    pub(crate) fn from_valid(key: String) -> Self {
        debug_assert!(Self::parse(&key).is_ok(), "{key:?}");
        Self(key)
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_only_and_bounded() {
        assert_eq!(IdempotencyKey::parse(""), Err(InvalidIdempotencyKey::Empty));
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(256))
                .unwrap_err()
                .to_string(),
            "must be at most 255 characters, got 256"
        );
        assert_eq!(
            IdempotencyKey::parse("has space"),
            Err(InvalidIdempotencyKey::NotVisibleAscii)
        );
        assert!(IdempotencyKey::parse("naïve").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("order:0190-abc_DEF~!").is_ok());
    }

    #[test]
    fn the_bare_form_keeps_quotes_as_part_of_the_key() {
        assert_eq!(
            IdempotencyKey::parse("\"quoted\"").unwrap().as_str(),
            "\"quoted\""
        );
    }

    #[test]
    fn the_header_form_takes_bare_or_quoted_keys() {
        assert_eq!(
            IdempotencyKey::parse_header("abc-123").unwrap().as_str(),
            "abc-123"
        );
        assert_eq!(
            IdempotencyKey::parse_header("\"abc-123\"")
                .unwrap()
                .as_str(),
            "abc-123"
        );
        assert_eq!(
            IdempotencyKey::parse_header("\"\""),
            Err(InvalidIdempotencyKey::Empty)
        );
        for bad in ["\"abc", "\"a\"b\"", "\"a\\b\""] {
            assert_eq!(
                IdempotencyKey::parse_header(bad),
                Err(InvalidIdempotencyKey::BadQuotedString),
                "{bad}"
            );
        }
        assert!(IdempotencyKey::parse_header("").is_err());
        assert!(IdempotencyKey::parse_header("has space").is_err());
        assert!(IdempotencyKey::parse_header(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse_header(&"k".repeat(255)).is_ok());
    }
}
