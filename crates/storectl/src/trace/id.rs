//! Trace and span ids in the several spellings the tools in the chain use.
//!
//! W3C and OTLP/JSON write a trace id as 32 lowercase hex digits. Tempo writes it in base64 in
//! its 2.x trace-by-id JSON, and with its leading zeros trimmed in search results and in the
//! `traceID` exemplars of its metrics-generator. Everything is read into [`TraceId`] (32 hex
//! digits) once, at the boundary, so the rest of the code compares like with like.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// A 128-bit trace id, shown as 32 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TraceId(String);

impl TraceId {
    /// 1 to 32 hex digits, leading zeros optional (Tempo trims them); not all zero.
    pub fn parse_hex(text: &str) -> Option<TraceId> {
        hex_id(text, 32).map(TraceId)
    }

    /// A trace id as an OTLP/JSON reader finds it: 32 hex digits, or base64 of 16 bytes.
    pub fn parse_wire(text: &str) -> Option<TraceId> {
        wire_id(text, 16).map(TraceId)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A span id as 16 lowercase hex digits, from hex (leading zeros optional) or base64 of 8 bytes.
pub fn parse_span_id(text: &str) -> Option<String> {
    wire_id(text, 8).or_else(|| hex_id(text, 16))
}

fn hex_id(text: &str, digits: usize) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if text.bytes().all(|b| b == b'0') {
        return None;
    }
    Some(format!("{:0>digits$}", text.to_ascii_lowercase()))
}

/// Hex of exactly `bytes * 2` digits, else base64 of exactly `bytes` bytes. The two cannot be
/// confused: base64 of 16 bytes is 24 characters, of 8 bytes 12.
fn wire_id(text: &str, bytes: usize) -> Option<String> {
    let text = text.trim();
    if text.len() == bytes * 2 {
        return hex_id(text, bytes * 2);
    }
    let decoded = BASE64.decode(text).ok()?;
    if decoded.len() != bytes || decoded.iter().all(|b| *b == 0) {
        return None;
    }
    Some(decoded.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_hex_ids_are_padded_back_to_32_digits() {
        let full = "00f067aa0ba902b7a3b8c1d2e3f40506";
        assert_eq!(TraceId::parse_hex(full).unwrap().as_str(), full);
        assert_eq!(
            TraceId::parse_hex("F067AA0BA902B7A3B8C1D2E3F40506")
                .unwrap()
                .as_str(),
            full
        );
        for bad in ["", "xyz", &"a".repeat(33), "0000", "EpTxMJ40fUus7aGY"] {
            assert_eq!(TraceId::parse_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn wire_ids_are_hex_or_base64() {
        assert_eq!(
            TraceId::parse_wire("APBnqgupArejuMHS4/QFBg==")
                .unwrap()
                .as_str(),
            "00f067aa0ba902b7a3b8c1d2e3f40506"
        );
        assert_eq!(
            TraceId::parse_wire("00f067aa0ba902b7a3b8c1d2e3f40506")
                .unwrap()
                .as_str(),
            "00f067aa0ba902b7a3b8c1d2e3f40506"
        );
        assert_eq!(
            parse_span_id("AAAKCwwNDg8=").as_deref(),
            Some("00000a0b0c0d0e0f")
        );
        assert_eq!(
            parse_span_id("00000a0b0c0d0e0f").as_deref(),
            Some("00000a0b0c0d0e0f")
        );
        assert_eq!(
            parse_span_id("a0b0c0d0e0f").as_deref(),
            Some("00000a0b0c0d0e0f")
        );
        assert_eq!(
            TraceId::parse_wire("AAAAAAAAAAAAAAAAAAAAAA=="),
            None,
            "all zero"
        );
        assert_eq!(
            TraceId::parse_wire("AAAKCwwNDg8="),
            None,
            "8 bytes is a span id"
        );
    }
}
