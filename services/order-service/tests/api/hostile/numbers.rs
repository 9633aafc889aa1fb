//! Numbers at and beyond the limits: quantities out of 1–1000, integers that overflow 64 bits,
//! and baskets of no line or too many.

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    quantities(&mut a);
    line_counts(&mut a);
    a.into_list()
}

fn quantities(a: &mut Attacks) {
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
}

fn line_counts(a: &mut Attacks) {
    a.json(
        "lines: none",
        json!({"country": "US", "payment_method": "card", "items": []}),
    );
    a.json(
        "lines: 101",
        json!({"country": "US", "payment_method": "card", "items": vec![valid_line(); 101]}),
    );
}

#[tokio::test]
async fn quantities_out_of_range_or_overflowing_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    quantities(&mut a);
    assert_refused(&app, "quantities", a.into_list()).await;
}

#[tokio::test]
async fn baskets_of_no_line_or_more_than_100_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    line_counts(&mut a);
    assert_refused(&app, "line counts", a.into_list()).await;
}
