//! Each chapter of the learning path (a page directly in `docs/`) opens with its outcome — the
//! paragraph after the title says "After this page you can …" — and closes with a section
//! titled "Check yourself" (the page's last `##` section) holding a fenced command.

use crate::markdown::Page;
use crate::pages::is_chapter;
use crate::Finding;

pub const OUTCOME: &str = "after this page you can";
pub const CHECK_YOURSELF: &str = "check yourself";

pub fn check(pages: &[Page]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for page in pages.iter().filter(|p| is_chapter(&p.path)) {
        let opens_with_outcome = page
            .opening
            .as_deref()
            .is_some_and(|o| o.to_lowercase().starts_with(OUTCOME));
        if !opens_with_outcome {
            findings.push(Finding {
                check: "chapter-outcome",
                file: page.path.clone(),
                line: page.headings.first().map_or(1, |h| h.line),
                item: "-".to_owned(),
                message: format!(
                    "the paragraph after the title must start with \"After this page you can …\" (found: {:?})",
                    page.opening.as_deref().unwrap_or("no paragraph")
                ),
            });
        }
        if let Err(message) = closes_with_check(page) {
            findings.push(Finding {
                check: "chapter-check",
                file: page.path.clone(),
                line: page.headings.last().map_or(1, |h| h.line),
                item: "-".to_owned(),
                message,
            });
        }
    }
    findings
}

fn closes_with_check(page: &Page) -> Result<(), String> {
    let last = page
        .headings
        .iter()
        .rfind(|h| h.level == 2)
        .ok_or("no `##` section; the last one must be \"Check yourself\"")?;
    if !last.text.to_lowercase().starts_with(CHECK_YOURSELF) {
        return Err(format!(
            "the last `##` section is {:?}; it must be \"Check yourself\" with a command",
            last.text
        ));
    }
    if !page.blocks.iter().any(|b| b.line > last.line) {
        return Err("\"Check yourself\" holds no fenced command".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_first_check_last() {
        let good = Page::parse(
            "docs/01_X.md",
            "# X\n\nAfter this page you can run it.\n\n## Body\n\ntext\n\n## Check yourself\n\n```sh\ntrue\n```\n",
        );
        assert!(check(&[good]).is_empty());

        let bad = Page::parse(
            "docs/02_Y.md",
            "# Y\n\nSome intro.\n\n## Check yourself\n\nNo command.\n\n## Later\n",
        );
        let found: Vec<&str> = check(&[bad]).iter().map(|f| f.check).collect();
        assert_eq!(found, ["chapter-outcome", "chapter-check"]);

        let reference = Page::parse("docs/reference/M.md", "# M\n");
        assert!(
            check(&[reference]).is_empty(),
            "generated pages are not chapters"
        );
    }
}
