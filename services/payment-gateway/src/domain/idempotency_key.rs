//! The `Idempotency-Key` header (IETF httpapi-idempotency-key draft).

use service_kit::idempotency_key;

/// 1–255 visible ASCII characters (`!` to `~`): what can travel in a header unchanged and be
/// stored and compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = idempotency_key::MAX_LEN;

    pub fn parse(value: &str) -> Result<Self, String> {
        idempotency_key::validate(value)?;
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_only_and_bounded() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("naïve").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse("order:0190-abc_DEF~!").is_ok());
    }
}
