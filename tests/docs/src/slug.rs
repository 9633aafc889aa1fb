//! GitHub's heading anchors: what `#…` in a link must match.
//!
//! The rules of github-slugger, which GitHub uses for Markdown headings: the heading's text
//! (markup removed, inline code kept), lower-cased; every character that is not a letter, a
//! digit, `-`, `_` or a space removed; each space turned into `-` (not collapsed, so `a — b`
//! becomes `a--b`). A slug already used on the page gets `-1`, `-2`, … appended.

use std::collections::HashSet;

/// The anchor of a heading whose text is `text`, before de-duplication.
pub fn slug(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Anchors of a page's headings in order, de-duplicated as GitHub does.
#[derive(Debug, Default)]
pub struct Slugger {
    seen: HashSet<String>,
}

impl Slugger {
    pub fn next(&mut self, text: &str) -> String {
        let base = slug(text);
        let mut candidate = base.clone();
        let mut n = 0;
        while self.seen.contains(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        self.seen.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_rules() {
        assert_eq!(slug("Metrics and alerts"), "metrics-and-alerts");
        assert_eq!(
            slug("02 — Exemplars, and why this project makes its own"),
            "02--exemplars-and-why-this-project-makes-its-own"
        );
        assert_eq!(slug("`crates/telemetry`"), "cratestelemetry");
        assert_eq!(slug("webstore_orders_total"), "webstore_orders_total");
        assert_eq!(
            slug("When Redis goes away: fail over, never closed"),
            "when-redis-goes-away-fail-over-never-closed"
        );
        assert_eq!(slug("Über (größe) 5×"), "über-größe-5");
    }

    #[test]
    fn repeated_headings_are_numbered() {
        let mut s = Slugger::default();
        assert_eq!(s.next("Example"), "example");
        assert_eq!(s.next("Example"), "example-1");
        assert_eq!(s.next("Example"), "example-2");
        assert_eq!(s.next("Example 1"), "example-1-1");
    }
}
