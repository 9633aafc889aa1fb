/// An amount of US dollars in integer cents. Floating point never touches stored money; the
/// `_usd` numbers in JSON are derived from this for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Cents(i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub fn new(cents: i64) -> Option<Self> {
        (cents >= 0).then_some(Self(cents))
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// `None` on overflow: a basket of 1000 × 100 lines at a huge price must not wrap around.
    pub fn checked_mul(self, n: u32) -> Option<Self> {
        self.0.checked_mul(i64::from(n)).map(Self)
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }

    /// `"5000"`, `"4.99"` or `"0.5"` US dollars, exactly (no floating point).
    pub fn parse_usd(value: &str) -> Result<Self, String> {
        let v = value.trim();
        let (whole, fraction) = match v.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (v, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f) || f.len() > 2) {
            return Err(format!(
                "expected US dollars such as 5000 or 4.99, got {value:?}"
            ));
        }
        let whole: i64 = whole
            .parse()
            .map_err(|_| format!("{value:?} is too large"))?;
        let cents: i64 = format!("{:0<2}", fraction.unwrap_or(""))
            .parse()
            .unwrap_or(0);
        whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(cents))
            .map(Self)
            .ok_or_else(|| format!("{value:?} is too large"))
    }

    /// Dollars with two decimals, for JSON and for the amount histogram.
    pub fn usd(self) -> f64 {
        // Exact for any amount below 2^53 cents; the division gives the closest f64 to x.yz.
        self.0 as f64 / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_has_two_decimals() {
        assert_eq!(Cents(1999).usd(), 19.99);
        assert_eq!(Cents(5).usd(), 0.05);
        assert_eq!(Cents(0).usd(), 0.0);
    }

    #[test]
    fn dollars_parse_exactly() {
        assert_eq!(Cents::parse_usd("5000"), Ok(Cents(500_000)));
        assert_eq!(Cents::parse_usd("4.99"), Ok(Cents(499)));
        assert_eq!(Cents::parse_usd("0.5"), Ok(Cents(50)));
        for bad in [
            "",
            "-1",
            "1.234",
            "1e3",
            "abc",
            ".5",
            "5.",
            "99999999999999999999",
        ] {
            assert!(Cents::parse_usd(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_refuses_overflow() {
        assert!(Cents(i64::MAX).checked_mul(2).is_none());
        assert!(Cents(i64::MAX).checked_add(Cents(1)).is_none());
        assert!(Cents::new(-1).is_none());
    }
}
