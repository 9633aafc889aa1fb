//! The pages the docs test reads: `README.md`, `ARCHITECTURE.md` and every `docs/**/*.md`, in
//! reading order (the two root pages, then `docs/` by path).

use std::fs;
use std::path::Path;

use crate::markdown::Page;

/// The root pages, read first.
pub const ROOT_PAGES: [&str; 2] = ["README.md", "ARCHITECTURE.md"];
/// Where the chapters live.
pub const DOCS_DIR: &str = "docs";

/// Every page, parsed.
pub fn all(root: &Path) -> std::io::Result<Vec<Page>> {
    let mut paths: Vec<String> = ROOT_PAGES.iter().map(|p| (*p).to_owned()).collect();
    let mut docs = Vec::new();
    markdown_files(root, &root.join(DOCS_DIR), &mut docs)?;
    docs.sort();
    paths.extend(docs);
    paths
        .into_iter()
        .map(|path| Ok(Page::parse(&path, &fs::read_to_string(root.join(&path))?)))
        .collect()
}

fn markdown_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            markdown_files(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(())
}

/// A chapter of the learning path: a page directly in `docs/` (not a generated reference page).
pub fn is_chapter(path: &str) -> bool {
    path.strip_prefix("docs/")
        .is_some_and(|rest| !rest.contains('/'))
}
