//! Members the API does not read: a client-supplied price or total (a client must never set
//! what it pays), other unknown members, and members given twice.

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    unknown(&mut a);
    duplicated(&mut a);
    a.into_list()
}

fn unknown(a: &mut Attacks) {
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
}

fn duplicated(a: &mut Attacks) {
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
}

#[tokio::test]
async fn client_supplied_prices_and_unknown_members_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    unknown(&mut a);
    assert_refused(&app, "unknown members", a.into_list()).await;
}

#[tokio::test]
async fn members_given_twice_are_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    duplicated(&mut a);
    assert_refused(&app, "duplicated members", a.into_list()).await;
}
