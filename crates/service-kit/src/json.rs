//! JSON request bodies as the API documents them.
//!
//! * An object where an object is documented: serde's derived `Deserialize` for a struct also
//!   takes an array of the members in declaration order (`["US","card",[["p-1",1]]]`), a shape
//!   no client is told about and a WAF or a proxy would not read the same way.
//!   [`deserialize_object_only!`] gives a struct a `Deserialize` that refuses it.
//! * Errors that name JSON shapes, not Rust types: serde's messages say `expected struct
//!   CheckoutBody` or `expected i64`; [`describe_error`] turns that into `expected a JSON
//!   object` and `expected an integer`.

/// Implements `serde::Deserialize` for a struct that derives it with `#[serde(remote = "Self")]`
/// (which turns the derived code into an inherent `deserialize` function), accepting a JSON
/// object only. `$expecting` completes "expected …" in the error for any other shape.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// #[serde(remote = "Self", deny_unknown_fields)]
/// pub struct LineBody { pub product_id: String, pub quantity: i64 }
/// service_kit::deserialize_object_only!(LineBody, "a line object {product_id, quantity}");
///
/// let line: LineBody = serde_json::from_str(r#"{"product_id":"p-1","quantity":2}"#).unwrap();
/// assert_eq!((line.product_id.as_str(), line.quantity), ("p-1", 2));
/// let array = serde_json::from_str::<LineBody>(r#"["p-1",2]"#).unwrap_err();
/// assert!(array.to_string().contains("a line object"), "{array}");
/// ```
#[macro_export]
macro_rules! deserialize_object_only {
    ($ty:ty, $expecting:literal) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectOnly;
                impl<'de> serde::de::Visitor<'de> for ObjectOnly {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<Self::Value, A::Error> {
                        // The inherent function `#[serde(remote = "Self")]` derived.
                        <$ty>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(ObjectOnly)
            }
        }
    };
}

/// A serde (serde_json) error message with Rust type names replaced by the JSON they stand for.
pub fn describe_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("expected ") {
        let (before, after) = rest.split_at(at + "expected ".len());
        out.push_str(before);
        let (replacement, consumed) = json_shape(after);
        out.push_str(replacement.unwrap_or(""));
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// What JSON the Rust type at the start of `text` stands for, and how many bytes the type name
/// took; `(None, 0)` leaves the text as it is.
fn json_shape(text: &str) -> (Option<&'static str>, usize) {
    if let Some(name) = text.strip_prefix("struct ") {
        let len = name
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(name.len());
        return (Some("a JSON object"), "struct ".len() + len);
    }
    let word_len = text
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(text.len());
    let shape = match &text[..word_len] {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer",
        "f32" | "f64" => "a number",
        _ => return (None, 0),
    };
    (Some(shape), word_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(remote = "Self", deny_unknown_fields)]
    struct Line {
        id: String,
        n: i64,
    }
    crate::deserialize_object_only!(Line, "a line object {id, n}");

    #[derive(Debug, serde::Deserialize)]
    struct Basket {
        #[allow(dead_code)]
        lines: Vec<Line>,
    }

    #[test]
    fn only_an_object_deserializes() {
        let line: Line = serde_json::from_str(r#"{"id":"p-1","n":2}"#).unwrap();
        assert_eq!(
            line,
            Line {
                id: "p-1".into(),
                n: 2
            }
        );
        let err = serde_json::from_str::<Line>(r#"["p-1",2]"#).unwrap_err();
        assert!(
            err.to_string().contains("expected a line object {id, n}"),
            "{err}"
        );
        let err = serde_json::from_str::<Basket>(r#"{"lines":[["p-1",2]]}"#).unwrap_err();
        assert!(err.to_string().contains("a line object"), "{err}");
        // The derived rules still hold inside the object.
        for bad in [
            r#"{"id":"p-1","n":2,"price":1}"#,
            r#"{"id":"p-1","id":"p-2","n":1}"#,
        ] {
            assert!(serde_json::from_str::<Line>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rust_type_names_become_json_shapes() {
        for (message, expected) in [
            (
                "invalid type: string \"2\", expected i64 at line 1 column 9",
                "invalid type: string \"2\", expected an integer at line 1 column 9",
            ),
            (
                "invalid type: sequence, expected struct CheckoutBody at line 1 column 0",
                "invalid type: sequence, expected a JSON object at line 1 column 0",
            ),
            (
                "invalid type: string \"x\", expected u64",
                "invalid type: string \"x\", expected a non-negative integer",
            ),
            (
                "invalid type: boolean `true`, expected f64",
                "invalid type: boolean `true`, expected a number",
            ),
            (
                "invalid type: map, expected a string",
                "invalid type: map, expected a string",
            ),
            (
                "unknown field `price`, expected one of `a`, `b`",
                "unknown field `price`, expected one of `a`, `b`",
            ),
            (
                "invalid value: integer `-1`, expected u32",
                "invalid value: integer `-1`, expected a non-negative integer",
            ),
        ] {
            assert_eq!(describe_error(message), expected);
        }
    }
}
