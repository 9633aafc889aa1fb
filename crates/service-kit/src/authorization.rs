//! The `Authorization` header, read once: `Bearer <token>` (RFC 6750), the scheme matched
//! case-insensitively as RFC 9110 §11.1 says (`BEARER`, `bearer` and `Bearer` are one scheme).
//! A header sent twice is refused rather than guessed at: a proxy and the service might each
//! pick a different one.

use actix_web::http::header::{HeaderMap, AUTHORIZATION};

/// `Authorization` was sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Authorization header was sent {0} times; send it once")]
pub struct RepeatedAuthorization(pub usize);

/// The token of the request's one `Authorization: Bearer <token>` header. `Ok(None)`: no
/// header, another scheme, an empty token, or a value that is not visible ASCII.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, RepeatedAuthorization> {
    let mut values = headers.get_all(AUTHORIZATION);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let more = values.count();
    if more > 0 {
        return Err(RepeatedAuthorization(more + 1));
    }
    Ok(first.to_str().ok().and_then(bearer_value))
}

/// The token of one `Authorization` value if its scheme is `Bearer` (any case).
pub fn bearer_value(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for value in [
            "Bearer k-1",
            "bearer k-1",
            "BEARER k-1",
            "bEaReR   k-1 ",
            "Bearer\tk-1",
        ] {
            assert_eq!(
                bearer_token(&headers(&[value])),
                Ok(Some("k-1")),
                "{value:?}"
            );
        }
    }

    #[test]
    fn other_schemes_and_empty_tokens_are_no_token() {
        for value in ["Basic k-1", "Bearer", "Bearer   ", "Bearerk-1", "k-1", ""] {
            assert_eq!(bearer_token(&headers(&[value])), Ok(None), "{value:?}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn a_repeated_header_is_an_error_even_when_identical() {
        assert_eq!(
            bearer_token(&headers(&["Bearer k-1", "Bearer k-1"])),
            Err(RepeatedAuthorization(2))
        );
        assert_eq!(
            bearer_token(&headers(&["Bearer k-1", "Basic x", "Bearer k-2"])),
            Err(RepeatedAuthorization(3))
        );
    }
}
