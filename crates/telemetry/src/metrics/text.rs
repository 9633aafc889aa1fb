//! The OpenMetrics text primitives: integers, hex ids, floats and escaped strings, written
//! straight into one output buffer.
//!
//! A leaf: the histogram renders its `le` values with it, families their label pairs, the
//! encoder everything else; it imports none of them. `#[inline]` throughout: these run once per
//! sample of a scrape, and without it they would not be inlined across codegen units.

use std::fmt::Write;

/// Appends bytes that this module generated from digit tables.
#[inline]
fn push_ascii(out: &mut String, bytes: &[u8]) {
    assert!(bytes.is_ascii());
    // SAFETY: ASCII is valid UTF-8, so `out` stays valid UTF-8 (checked just above; the check
    // costs far less than `str::from_utf8`'s general validation on these short runs).
    unsafe { out.as_mut_vec() }.extend_from_slice(bytes);
}

/// Decimal digits of `v`, without `fmt`: two digits per division.
#[inline]
pub(crate) fn uint(out: &mut String, mut v: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    push_ascii(out, &buf[i..]);
}

/// Exactly three decimal digits (`007`): the milliseconds of a timestamp.
#[inline]
pub(crate) fn three_digits(out: &mut String, v: u64) {
    let v = v % 1_000;
    push_ascii(
        out,
        &[
            b'0' + (v / 100) as u8,
            b'0' + (v / 10 % 10) as u8,
            b'0' + (v % 10) as u8,
        ],
    );
}

/// Lower-case hex of `bytes` (at most 16), without `fmt`.
#[inline]
pub(crate) fn hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    let n = bytes.len().min(16);
    for (pair, b) in buf.chunks_exact_mut(2).zip(&bytes[..n]) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    push_ascii(out, &buf[..2 * n]);
}

/// Floats as OpenMetrics wants them: `1.0` not `1`, `+Inf`, `NaN`.
#[inline]
pub(crate) fn float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// OpenMetrics escaping: `\\` and newlines always, `"` inside label values (`quote`).
#[inline]
pub(crate) fn escape(out: &mut String, s: &str, quote: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    fn written(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::from("x");
        f(&mut out);
        out
    }

    #[test]
    fn integers_and_hex_without_fmt() {
        for v in [0, 7, 10, 99, 100, 101, 12_345, 1_000_000, u64::MAX] {
            assert_eq!(written(|o| super::uint(o, v)), format!("x{v}"));
        }
        assert_eq!(written(|o| super::three_digits(o, 7)), "x007");
        assert_eq!(written(|o| super::three_digits(o, 1_250)), "x250");
        assert_eq!(
            written(|o| super::hex(o, &[0x0a, 0xf7, 0x00, 0xff])),
            "x0af700ff"
        );
    }

    #[test]
    fn floats_and_escapes_as_openmetrics_wants_them() {
        assert_eq!(written(|o| super::float(o, 1.0)), "x1.0");
        assert_eq!(written(|o| super::float(o, f64::INFINITY)), "x+Inf");
        assert_eq!(written(|o| super::float(o, 0.005)), "x0.005");
        assert_eq!(written(|o| super::float(o, f64::NAN)), "xNaN");
        assert_eq!(
            written(|o| super::escape(o, "a\"b\\c\nd", true)),
            r#"xa\"b\\c\nd"#
        );
        assert_eq!(
            written(|o| super::escape(o, "a\"b", false)),
            "xa\"b",
            "help text keeps its quotes"
        );
    }
}
