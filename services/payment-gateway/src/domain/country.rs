//! ISO 3166-1 alpha-2 country codes.

use std::fmt;

use service_kit::iso3166;

/// An assigned ISO 3166-1 alpha-2 code, stored upper-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(&'static str);

impl Country {
    /// Accepts either case (`us` → `US`), since the code is unambiguous; anything that is not
    /// an assigned code is refused.
    pub fn parse(value: &str) -> Result<Self, String> {
        iso3166::assigned_alpha2(&value.to_ascii_uppercase())
            .map(Self)
            .ok_or_else(|| {
                format!("must be an ISO 3166-1 alpha-2 country code such as \"US\", got {value:?}")
            })
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_codes_only() {
        assert_eq!(Country::parse("US").map(Country::as_str), Ok("US"));
        assert_eq!(Country::parse("de").map(Country::as_str), Ok("DE"));
        for bad in ["", "U", "USA", "XX", "UK", "ZZ", "1A"] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
    }
}
