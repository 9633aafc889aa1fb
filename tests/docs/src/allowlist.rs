//! Known gaps: findings the docs test tolerates for now, each with its reason.
//!
//! `tests/docs/allowlist.txt`, one entry a line: `check | file | item | reason` (`#` starts a
//! comment). An entry matches the findings with the same check, file and item. An entry that
//! matches nothing is itself a failure — the gap was closed, so the entry goes — which keeps the
//! list shrinking.

use std::path::Path;

use crate::Finding;

/// Relative to the repository root.
pub const PATH: &str = "tests/docs/allowlist.txt";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub check: String,
    pub file: String,
    pub item: String,
    pub reason: String,
    pub line: usize,
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        self.check == f.check && self.file == f.file && self.item == f.item
    }
}

pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(4, '|').map(str::trim).collect();
        match fields[..] {
            [check, file, item, reason] if !check.is_empty() && !reason.is_empty() => {
                entries.push(Entry {
                    check: check.to_owned(),
                    file: file.to_owned(),
                    item: item.to_owned(),
                    reason: reason.to_owned(),
                    line: i + 1,
                })
            }
            _ => {
                return Err(format!(
                    "{PATH}:{}: expected `check | file | item | reason`, got {raw:?}",
                    i + 1
                ))
            }
        }
    }
    Ok(entries)
}

pub fn load(root: &Path) -> Result<Vec<Entry>, String> {
    let text = std::fs::read_to_string(root.join(PATH)).map_err(|e| format!("{PATH}: {e}"))?;
    parse(&text)
}

/// What a check reports: the findings no entry excuses, and the entries of `checks` that
/// excused nothing (stale).
pub fn apply<'a>(
    findings: Vec<Finding>,
    entries: &'a [Entry],
    checks: &[&str],
) -> (Vec<Finding>, Vec<&'a Entry>) {
    let open = findings
        .iter()
        .filter(|f| !entries.iter().any(|e| e.matches(f)))
        .cloned()
        .collect();
    let stale = entries
        .iter()
        .filter(|e| checks.contains(&e.check.as_str()))
        .filter(|e| !findings.iter().any(|f| e.matches(f)))
        .collect();
    (open, stale)
}

/// Panics with every open finding and stale entry, or prints what the list excused.
pub fn assert_clean(what: &str, findings: Vec<Finding>, entries: &[Entry], checks: &[&str]) {
    let total = findings.len();
    let (open, stale) = apply(findings, entries, checks);
    let mut report = String::new();
    for f in &open {
        report.push_str(&format!("  {f}\n"));
    }
    for e in &stale {
        report.push_str(&format!(
            "  {PATH}:{}: `{} | {} | {}` matches nothing any more: remove the entry\n",
            e.line, e.check, e.file, e.item
        ));
    }
    assert!(
        report.is_empty(),
        "{what}: {} finding(s), {} stale allow-list entr(ies):\n{report}",
        open.len(),
        stale.len()
    );
    println!(
        "{what}: clean ({} known gap(s) excused by {PATH})",
        total - open.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: &'static str, item: &str) -> Finding {
        Finding {
            check,
            file: "docs/a.md".to_owned(),
            line: 3,
            item: item.to_owned(),
            message: "m".to_owned(),
        }
    }

    #[test]
    fn entries_excuse_their_findings_and_stale_ones_are_reported() {
        let entries = parse(
            "# comment\n\nlink | docs/a.md | b.md | being moved\nlink | docs/a.md | gone.md | fixed since\npath | docs/a.md | x | other check\n",
        )
        .unwrap();
        assert_eq!(entries.len(), 3);
        let (open, stale) = apply(
            vec![finding("link", "b.md"), finding("link", "c.md")],
            &entries,
            &["link"],
        );
        assert_eq!(open, [finding("link", "c.md")]);
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].item, "gone.md");
        assert_eq!(stale[0].line, 4);
    }

    #[test]
    fn a_line_without_a_reason_is_refused() {
        assert!(parse("link | docs/a.md | b.md\n").is_err());
        assert!(parse("link | docs/a.md | b.md | \n").is_err());
    }
}
