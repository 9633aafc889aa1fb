//! ISO 3166-1 alpha-2 country codes.
//!
//! Two parsers because two APIs differ on purpose: order-service's checkout contract is the
//! upper-case code, so `us` is a client error there ([`Country::parse`]); the payment gateway,
//! like real providers, folds case ([`Country::parse_any_case`]). Both refuse a code that is not
//! officially assigned (`UK`, `XX`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The officially assigned ISO 3166-1 alpha-2 codes, upper case, sorted so that lookups can
/// binary-search.
pub const ALPHA2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An assigned ISO 3166-1 alpha-2 code, upper case. `Copy`: it points into [`ALPHA2`].
///
/// Serializes as the code; deserializes with the strict [`Country::parse`] (what a service
/// writes is always upper case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country(&'static str);

/// A value that is not an assigned ISO 3166-1 alpha-2 code (as the parser in use reads it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an ISO 3166-1 alpha-2 country code such as \"US\", got {0:?}")]
pub struct InvalidCountry(String);

impl Country {
    /// Exactly as written: `US` is a country, `us` is not.
    pub fn parse(code: &str) -> Result<Self, InvalidCountry> {
        ALPHA2
            .binary_search(&code)
            .map(|i| Self(ALPHA2[i]))
            .map_err(|_| InvalidCountry(code.to_owned()))
    }

    /// Folds ASCII case first (`us` → `US`): the code is unambiguous either way.
    pub fn parse_any_case(code: &str) -> Result<Self, InvalidCountry> {
        Self::parse(&code.to_ascii_uppercase()).map_err(|_| InvalidCountry(code.to_owned()))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl AsRef<str> for Country {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn table_is_sorted_unique_and_upper_case() {
        assert!(ALPHA2.windows(2).all(|w| w[0] < w[1]));
        assert!(ALPHA2
            .iter()
            .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn strict_parsing_takes_assigned_upper_case_codes_only() {
        assert_eq!(Country::parse("US").map(Country::as_str), Ok("US"));
        assert_eq!(Country::parse("DE").map(Country::as_str), Ok("DE"));
        for bad in ["", "U", "USA", "XX", "UK", "ZZ", "1A", "us", "De"] {
            assert!(Country::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lenient_parsing_folds_case_but_still_wants_an_assigned_code() {
        assert_eq!(Country::parse_any_case("de").map(Country::as_str), Ok("DE"));
        assert_eq!(Country::parse_any_case("uS").map(Country::as_str), Ok("US"));
        for bad in ["", "U", "usa", "xx", "uk"] {
            assert!(Country::parse_any_case(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Country::parse_any_case("uk").unwrap_err().to_string(),
            "must be an ISO 3166-1 alpha-2 country code such as \"US\", got \"uk\""
        );
    }

    #[test]
    fn json_is_the_code_and_reading_is_strict() {
        let de = Country::parse("DE").unwrap();
        assert_eq!(serde_json::to_string(&de).unwrap(), "\"DE\"");
        assert_eq!(serde_json::from_str::<Country>("\"DE\"").unwrap(), de);
        assert!(serde_json::from_str::<Country>("\"de\"").is_err());
    }

    /// Strings that are sometimes valid and often nearly so.
    fn code() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(&ALPHA2[..]).prop_map(str::to_owned),
            "[A-Z]{2}",
            "[a-zA-Z]{1,3}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn countries_are_assigned_alpha2_codes(s in code()) {
            let ok = Country::parse(&s).is_ok();
            prop_assert_eq!(ok, ALPHA2.contains(&s.as_str()));
            if let Ok(c) = Country::parse(&s) {
                prop_assert_eq!(c.as_str(), s.as_str());
            }
            let folded = s.to_ascii_uppercase();
            prop_assert_eq!(
                Country::parse_any_case(&s).ok().map(Country::as_str),
                ALPHA2.iter().copied().find(|c| *c == folded)
            );
        }
    }
}
