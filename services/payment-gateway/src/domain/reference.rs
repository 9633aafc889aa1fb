//! The caller's reference for a charge (the order id).

/// 1–128 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(String);

impl Reference {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(value: &str) -> Result<Self, String> {
        let chars = value.chars().count();
        if chars == 0 {
            return Err("must not be empty".to_owned());
        }
        if chars > Self::MAX_CHARS {
            return Err(format!(
                "must be at most {} characters, got {chars}",
                Self::MAX_CHARS
            ));
        }
        if value.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for Reference {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_bounded() {
        assert!(Reference::parse("").is_err());
        assert!(Reference::parse(&"x".repeat(129)).is_err());
        assert!(Reference::parse(&"é".repeat(128)).is_ok());
        assert!(Reference::parse("a\nb").is_err());
        assert_eq!(
            Reference::parse("ord_1").map(|r| r.as_ref().to_owned()),
            Ok("ord_1".to_owned())
        );
    }
}
