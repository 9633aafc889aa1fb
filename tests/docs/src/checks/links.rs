//! Relative links resolve: the file or folder exists in the repository, and an `#anchor` names a
//! heading of the page it points at (GitHub's slugs, [`crate::slug`]). Links to other sites are
//! not followed (no network in tests).

use std::collections::BTreeMap;
use std::path::Path;

use crate::markdown::Page;
use crate::Finding;

pub fn check(root: &Path, pages: &[Page]) -> Vec<Finding> {
    let by_path: BTreeMap<&str, &Page> = pages.iter().map(|p| (p.path.as_str(), p)).collect();
    let mut findings = Vec::new();
    for page in pages {
        for link in &page.links {
            let dest = link.text.as_str();
            if is_external(dest) {
                continue;
            }
            let (target, anchor) = match dest.split_once('#') {
                Some((t, a)) => (t, Some(a)),
                None => (dest, None),
            };
            let mut finding = |message: String| {
                findings.push(Finding {
                    check: "link",
                    file: page.path.clone(),
                    line: link.line,
                    item: dest.to_owned(),
                    message,
                })
            };
            let target_path = if target.is_empty() {
                Some(page.path.clone())
            } else {
                resolve(&page.path, target)
            };
            let Some(target_path) = target_path else {
                finding("leaves the repository".to_owned());
                continue;
            };
            if !root.join(&target_path).exists() {
                finding(format!("{target_path} does not exist"));
                continue;
            }
            let Some(anchor) = anchor.filter(|a| !a.is_empty()) else {
                continue;
            };
            if !target_path.ends_with(".md") {
                continue; // `#L12` into source files: GitHub's, not a heading
            }
            let target_page = match by_path.get(target_path.as_str()) {
                Some(p) => Some(anchors(p)),
                None => std::fs::read_to_string(root.join(&target_path))
                    .ok()
                    .map(|t| anchors(&Page::parse(&target_path, &t))),
            };
            match target_page {
                Some(headings) if headings.iter().any(|h| h == anchor) => {}
                Some(headings) => finding(format!(
                    "{target_path} has no heading with anchor #{anchor} (anchors: {})",
                    headings.join(", ")
                )),
                None => finding(format!("{target_path} could not be read")),
            }
        }
    }
    findings
}

fn anchors(page: &Page) -> Vec<String> {
    page.headings.iter().map(|h| h.slug.clone()).collect()
}

/// `https:`, `mailto:` and other schemes.
fn is_external(dest: &str) -> bool {
    dest.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// `target` relative to the page at `from`, normalised; `None` when it leaves the repository.
pub fn resolve(from: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        from.split('/').collect()
    };
    if !target.starts_with('/') {
        parts.pop(); // the page's own file name
    }
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets_resolve_from_the_page() {
        assert_eq!(resolve("docs/a.md", "b.md").as_deref(), Some("docs/b.md"));
        assert_eq!(
            resolve("docs/a.md", "../README.md").as_deref(),
            Some("README.md")
        );
        assert_eq!(
            resolve("docs/a.md", "./reference/M.md").as_deref(),
            Some("docs/reference/M.md")
        );
        assert_eq!(resolve("README.md", "../shared/D.md"), None);
        assert_eq!(resolve("docs/a.md", "/infra/").as_deref(), Some("infra"));
        assert!(is_external("https://x.example/a#b"));
        assert!(is_external("mailto:a@b"));
        assert!(!is_external("docs/a.md#x:y"));
    }
}
