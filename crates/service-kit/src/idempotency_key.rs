//! The value rules of the `Idempotency-Key` header (IETF httpapi-idempotency-key draft). What a
//! key is used for, and whether the structured-field quoted form is accepted, is each service's
//! choice; the character and length rules are shared so the services agree on what a key is.

/// The longest key accepted, in bytes (and characters, as only ASCII passes).
pub const MAX_LEN: usize = 255;

/// Checks a bare key: 1–[`MAX_LEN`] visible ASCII characters (`!` to `~`), which travel in a
/// header unchanged and can be stored and compared byte for byte. The message completes a
/// sentence whose subject is the header, so services can put it in a problem's `detail`.
pub fn validate(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if value.len() > MAX_LEN {
        return Err(format!(
            "must be at most {MAX_LEN} characters, got {}",
            value.len()
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must contain only visible ASCII characters (no spaces)".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_ascii_only_and_bounded() {
        assert_eq!(validate(""), Err("must not be empty".to_owned()));
        assert_eq!(
            validate(&"k".repeat(256)),
            Err("must be at most 255 characters, got 256".to_owned())
        );
        assert_eq!(
            validate("has space"),
            Err("must contain only visible ASCII characters (no spaces)".to_owned())
        );
        assert!(validate("naïve").is_err());
        assert!(validate("\"quoted\"").is_ok());
        assert!(validate(&"k".repeat(255)).is_ok());
        assert!(validate("order:0190-abc_DEF~!").is_ok());
    }
}
