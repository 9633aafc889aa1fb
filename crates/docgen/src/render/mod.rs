//! The Markdown of the generated pages. Deterministic: input order is already sorted, nothing
//! depends on the clock or the machine.

mod configuration;
mod metrics;

pub use configuration::configuration;
pub use metrics::metrics;

/// Text safe in a Markdown table cell: no line breaks, no unescaped `|`.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `text` as inline code; the cell escaping applies inside code spans too on GitHub.
fn code(text: &str) -> String {
    format!("`{}`", cell(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_stay_on_one_line_and_keep_pipes() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("failure|dropped"), "`failure\\|dropped`");
    }
}
