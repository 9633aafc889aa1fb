//! Bodies far over the 64 KiB limit, whatever they hold: 5,000 lines, a 3 MB string, 3 MB of
//! whitespace after a valid basket, 3 MB of text.

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    let valid = basket(&[("p-1", 1)]).to_string();
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
        .body(three_mb);
    a.add("size: 3 MB text/plain", plain);
    a.into_list()
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = target(TestApp::builder()).await;
    let attacks = attacks(&app);
    assert_refused(&app, "sizes", attacks).await;
}
