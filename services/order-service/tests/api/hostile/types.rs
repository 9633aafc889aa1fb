//! Well-formed JSON of the wrong shape: a body that is not an object, and every field with a
//! value of the wrong type.

use super::*;

pub fn attacks(app: &TestApp) -> Vec<Attack> {
    let mut a = Attacks::new(app);
    bodies(&mut a);
    fields(&mut a);
    a.into_list()
}

fn bodies(a: &mut Attacks) {
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
}

fn fields(a: &mut Attacks) {
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
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    bodies(&mut a);
    assert_refused(&app, "body types", a.into_list()).await;
}

#[tokio::test]
async fn every_field_of_the_wrong_type_is_refused() {
    let app = target(TestApp::builder()).await;
    let mut a = Attacks::new(&app);
    fields(&mut a);
    assert_refused(&app, "field types", a.into_list()).await;
}
