//! API keys: held as SHA-256 digests, compared in constant time, never logged.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The customer an API key belongs to. Orders are scoped to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerId(String);

impl AsRef<str> for CustomerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[derive(Clone)]
pub struct ApiKeys {
    entries: Vec<(CustomerId, [u8; 32])>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Customers only: digests of keys are still secrets worth not printing.
        let customers: Vec<_> = self.entries.iter().map(|(c, _)| c.as_ref()).collect();
        f.debug_struct("ApiKeys")
            .field("customers", &customers)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Invalid,
    /// `Authorization: Bearer` and `X-API-Key` both present and different.
    Mismatch,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 3] = [Self::Missing, Self::Invalid, Self::Mismatch];

    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Invalid => "invalid",
            Self::Mismatch => "mismatch",
        }
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ApiKeys {
    /// `customer:key,customer:key`. Errors never quote a key.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (i, pair) in spec
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .enumerate()
        {
            let (customer, key) = pair
                .split_once(':')
                .ok_or_else(|| format!("entry {} is not customer:key", i + 1))?;
            if customer.trim().is_empty() || key.trim().len() < 4 {
                return Err(format!(
                    "entry {} needs a customer and a key of at least 4 characters",
                    i + 1
                ));
            }
            entries.push((CustomerId(customer.trim().to_owned()), digest(key.trim())));
        }
        if entries.is_empty() {
            return Err("no keys configured".to_owned());
        }
        Ok(Self { entries })
    }

    /// Looks the presented key up. Every configured digest is compared, so timing does not
    /// reveal which entry (or how much of one) matched.
    pub fn authenticate(
        &self,
        bearer: Option<&str>,
        x_api_key: Option<&str>,
    ) -> Result<CustomerId, AuthFailure> {
        let key = match (bearer, x_api_key) {
            (None, None) => return Err(AuthFailure::Missing),
            (Some(a), Some(b)) if a.as_bytes().ct_eq(b.as_bytes()).unwrap_u8() == 0 => {
                return Err(AuthFailure::Mismatch)
            }
            (Some(k), _) | (None, Some(k)) => k,
        };
        let presented = digest(key);
        let mut found = None;
        for (customer, d) in &self.entries {
            if bool::from(d.ct_eq(&presented)) {
                found = Some(customer.clone());
            }
        }
        found.ok_or(AuthFailure::Invalid)
    }

    /// A stable, non-secret name for the presented key (`<customer>#<entry>`), when it is
    /// valid: what the rate limiter counts a client by. Never the key itself.
    pub fn key_id(&self, bearer: Option<&str>, x_api_key: Option<&str>) -> Option<String> {
        let key = match (bearer, x_api_key) {
            (Some(a), Some(b)) if a.as_bytes().ct_eq(b.as_bytes()).unwrap_u8() == 0 => return None,
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => return None,
        };
        let presented = digest(key);
        let mut found = None;
        for (i, (customer, d)) in self.entries.iter().enumerate() {
            if bool::from(d.ct_eq(&presented)) {
                found = Some(format!("{}#{i}", customer.as_ref()));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_resolve_to_customers() {
        let keys = ApiKeys::parse("alice:key-a, bob:key-b").unwrap();
        assert_eq!(
            keys.authenticate(Some("key-b"), None).unwrap().as_ref(),
            "bob"
        );
        assert_eq!(
            keys.authenticate(None, Some("key-a")).unwrap().as_ref(),
            "alice"
        );
        assert_eq!(
            keys.authenticate(Some("key-a"), Some("key-a"))
                .unwrap()
                .as_ref(),
            "alice"
        );
        assert_eq!(
            keys.authenticate(Some("key-a"), Some("key-b")),
            Err(AuthFailure::Mismatch)
        );
        assert_eq!(keys.authenticate(None, None), Err(AuthFailure::Missing));
        assert_eq!(
            keys.authenticate(Some("nope"), None),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(keys.key_id(Some("key-b"), None).as_deref(), Some("bob#1"));
        assert_eq!(keys.key_id(None, Some("key-a")).as_deref(), Some("alice#0"));
        assert_eq!(keys.key_id(Some("key-a"), Some("key-b")), None);
        assert_eq!(keys.key_id(Some("nope"), None), None);
    }

    #[test]
    fn bad_specs_are_refused_without_echoing_keys() {
        let err = ApiKeys::parse("alice").unwrap_err();
        assert!(!err.contains("alice"));
        assert!(ApiKeys::parse("").is_err());
        assert!(ApiKeys::parse("a:xy").is_err());
        assert!(!format!("{:?}", ApiKeys::parse("alice:secret-key").unwrap()).contains("secret"));
    }
}
