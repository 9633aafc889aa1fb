//! Headers missing, duplicated or in conflict: credentials, `Idempotency-Key`, and the content
//! type.

use reqwest::header::{HeaderName, HeaderValue};

use super::*;

type Headers = Vec<(HeaderName, HeaderValue)>;

fn h(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).expect("header value"),
    )
}

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    credentials(&mut a);
    idempotency_keys(&mut a);
    content_types(&mut a);
    a.into_list()
}

/// A checkout as `bearer` (if any) with `headers` appended (`header` would replace a
/// same-named header; appending keeps both).
fn with_headers(a: &mut Attacks, name: &str, bearer: Option<&str>, headers: Headers) {
    let mut request = a.app.checkout_request(bearer).json(&basket(&[("p-1", 1)]));
    for (n, v) in headers {
        request = request.header(n, v);
    }
    a.add(format!("header: {name}"), request);
}

fn credentials(a: &mut Attacks) {
    let cases: Vec<(&str, Option<&str>, Headers)> = vec![
        ("no credentials", None, vec![]),
        (
            "Basic scheme",
            None,
            vec![h("authorization", "Basic YWxpY2U6YWxpY2Uta2V5")],
        ),
        (
            "Bearer without a key",
            None,
            vec![h("authorization", "Bearer ")],
        ),
        (
            "Bearer with spaces only",
            None,
            vec![h("authorization", "Bearer      ")],
        ),
        (
            "bare key without scheme",
            None,
            vec![h("authorization", ALICE_KEY)],
        ),
        (
            "bearer and X-API-Key differ",
            Some(ALICE_KEY),
            vec![h("x-api-key", BOB_KEY)],
        ),
        (
            "Authorization twice",
            Some(ALICE_KEY),
            vec![h("authorization", "Bearer bob-key")],
        ),
        (
            "Authorization twice, same key",
            Some(ALICE_KEY),
            vec![h("authorization", "Bearer alice-key")],
        ),
        (
            "X-API-Key twice",
            None,
            vec![h("x-api-key", ALICE_KEY), h("x-api-key", BOB_KEY)],
        ),
        (
            "8 KB Authorization",
            None,
            vec![h(
                "authorization",
                &format!("Bearer {}", "k".repeat(8 * 1024)),
            )],
        ),
        (
            "a revoked-looking key",
            None,
            vec![h("authorization", "Bearer alice-key-old")],
        ),
        (
            "key with a NUL-escape",
            None,
            vec![h("authorization", "Bearer alice-key%00")],
        ),
    ];
    for (name, bearer, headers) in cases {
        with_headers(a, name, bearer, headers);
    }
}

fn idempotency_keys(a: &mut Attacks) {
    let cases: Vec<(&str, Headers)> = vec![
        ("Idempotency-Key empty", vec![h("idempotency-key", "")]),
        (
            "Idempotency-Key twice",
            vec![h("idempotency-key", "k-1"), h("idempotency-key", "k-2")],
        ),
        (
            "Idempotency-Key twice, same value",
            vec![h("idempotency-key", "k-1"), h("idempotency-key", "k-1")],
        ),
        (
            "Idempotency-Key 256 characters",
            vec![h("idempotency-key", &"k".repeat(256))],
        ),
        (
            "Idempotency-Key with spaces",
            vec![h("idempotency-key", "my key")],
        ),
        (
            "Idempotency-Key half-quoted",
            vec![h("idempotency-key", "\"k-1")],
        ),
        (
            "Idempotency-Key as a list",
            vec![h("idempotency-key", "\"a\", \"b\"")],
        ),
    ];
    for (name, headers) in cases {
        with_headers(a, name, Some(ALICE_KEY), headers);
    }
}

fn content_types(a: &mut Attacks) {
    let valid = basket(&[("p-1", 1)]).to_string();
    for (name, content_type) in [
        ("text/plain", Some("text/plain")),
        ("application/xml", Some("application/xml")),
        ("form", Some("application/x-www-form-urlencoded")),
        ("multipart", Some("multipart/form-data; boundary=x")),
        ("garbage", Some("}{not a mime")),
        ("missing", None),
    ] {
        let mut request = a.checkout().body(valid.clone());
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        a.add(format!("content type: {name}"), request);
    }
    let duplicated = a
        .checkout()
        .header("content-type", "text/plain")
        .header(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html"),
        )
        .body(valid.clone());
    a.add("content type: two values", duplicated);
    let utf16 = a
        .checkout()
        .header("content-type", "application/json; charset=utf-16")
        .body(
            valid
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        );
    a.add("content type: UTF-16 charset", utf16);
}

#[tokio::test]
async fn missing_conflicting_and_malformed_credentials_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    credentials(&mut a);
    assert_refused(&app, "credentials", a.into_list()).await;
}

#[tokio::test]
async fn malformed_and_repeated_idempotency_keys_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    idempotency_keys(&mut a);
    assert_refused(&app, "Idempotency-Key headers", a.into_list()).await;
}

#[tokio::test]
async fn bodies_that_are_not_json_by_content_type_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    content_types(&mut a);
    assert_refused(&app, "content types", a.into_list()).await;
}
