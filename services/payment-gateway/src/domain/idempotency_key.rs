//! The `Idempotency-Key` header (IETF httpapi-idempotency-key draft).

/// 1–255 visible ASCII characters (`!` to `~`): what can travel in a header unchanged and be
/// stored and compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if value.len() > Self::MAX_LEN {
            return Err(format!(
                "must be at most {} characters, got {}",
                Self::MAX_LEN,
                value.len()
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must contain only visible ASCII characters (no spaces)".to_owned());
        }
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
