//! Structure checks over the workspace's sources, run by `cargo xtask test` as steps and by
//! `tidy` as `#[test]`s:
//!
//! - [`imports`]: no import cycle between the files of a crate.
//! - [`deps`]: no dependency in a member's Cargo.toml that its sources never name.
//!
//! Both read files only (no compiler, no new dependency); each module says what its line scan
//! cannot see.

pub(crate) mod deps;
pub(crate) mod imports;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A member of the workspace: its directory (relative to the root) and its package name.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: String,
}

/// The members listed in the root `Cargo.toml`'s `[workspace] members = [...]`.
pub(crate) fn members(root: &Path) -> Result<Vec<Member>> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let mut out = Vec::new();
    for dir in member_dirs(&manifest) {
        let path = root.join(&dir).join("Cargo.toml");
        let manifest =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        out.push(Member {
            dir: PathBuf::from(dir),
            manifest,
        });
    }
    Ok(out)
}

/// The quoted paths of the `members = [...]` array (one or several lines, `#` comments).
fn member_dirs(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let rest = if inside {
            line
        } else if let Some(rest) = line.trim_start().strip_prefix("members") {
            inside = true;
            rest.split_once('[').map_or("", |(_, r)| r)
        } else {
            continue;
        };
        let (items, closed) = match rest.split_once(']') {
            Some((items, _)) => (items, true),
            None => (rest, false),
        };
        out.extend(
            items
                .split(',')
                .map(|item| item.trim().trim_matches('"'))
                .filter(|item| !item.is_empty())
                .map(str::to_owned),
        );
        if closed {
            break;
        }
    }
    out
}

/// Every `.rs` file below `dir`, sorted; `target/` is skipped.
pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if entry.file_name() != "target" {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The text of a source line without its `//` comment (doc comments included). Lexer-free: a
/// `//` inside a string literal cuts the line too, which can only hide a name, never invent one.
pub(crate) fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_array_over_several_lines() {
        let manifest = "[workspace]\nresolver = \"2\"\nmembers = [\n    \"crates/a\", # the a\n    \"xtask\",\n]\n\n[workspace.dependencies]\nx = \"1\"\n";
        assert_eq!(member_dirs(manifest), ["crates/a", "xtask"]);
    }

    #[test]
    fn comments_are_not_code() {
        assert_eq!(code_of("use a::b; // c::d"), "use a::b; ");
        assert_eq!(code_of("/// [`crate::x`]"), "");
    }
}
