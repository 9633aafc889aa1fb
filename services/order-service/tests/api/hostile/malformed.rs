//! Bodies that are not JSON, or not the JSON the API reads: broken syntax, and text in another
//! encoding than UTF-8.

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    syntax(&mut a);
    encodings(&mut a);
    a.into_list()
}

fn syntax(a: &mut Attacks) {
    let valid = basket(&[("p-1", 1)]).to_string();
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
}

fn encodings(a: &mut Attacks) {
    let valid = basket(&[("p-1", 1)]).to_string();
    a.raw(
        "malformed: invalid UTF-8",
        b"{\"country\": \"\xff\xfe\", \"payment_method\": \"card\", \"items\": []}".to_vec(),
    );
    let utf16: Vec<u8> = valid.encode_utf16().flat_map(u16::to_le_bytes).collect();
    a.raw("malformed: UTF-16", utf16);
}

#[tokio::test]
async fn broken_json_syntax_is_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    syntax(&mut a);
    assert_refused(&app, "malformed JSON", a.into_list()).await;
}

#[tokio::test]
async fn bodies_that_are_not_utf8_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    encodings(&mut a);
    assert_refused(&app, "encodings", a.into_list()).await;
}
