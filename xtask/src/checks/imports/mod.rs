//! No import cycles between the files of a crate.
//!
//! For every crate of the workspace (each library, binary, test, bench and example target), the
//! files reached through `mod` declarations form the module tree. A file *imports* another when
//! a `use` statement or a path in its code (`crate::…`, `super::…`, or through a name it
//! imported) names an item defined in the other file. Names that a module only re-exports (`pub
//! use`, or a private `use` a child reaches through `super::`) are followed to the file that
//! defines them, so importing through a re-export ties a file to the definition, not to the
//! module that forwards it. Every strongly connected component of more than one file is a cycle:
//! files that import from each other, like `routes/*` using the `AppState` that `startup.rs` owns
//! while `startup.rs` builds the routes.
//!
//! What is not an import, on purpose:
//! - a parent's `mod child;` by itself;
//! - a module using what one of its own ancestors defines (`super::Error`, `crate::Settings`
//!   from `lib.rs`): a parent module owns its children and the types it defines for them, and
//!   that direction of the tree is how Rust modules are meant to be read;
//! - `#[cfg(test)]` code: a unit-test module may reach anywhere in its crate.
//!
//! Limits of this line scan (no lexer, no macro expansion, no name resolution beyond the above):
//! - an inline `mod name { … }` is recognised only as rustfmt lays it out (it ends at a line that
//!   is `}` at the same indentation); the workspace is kept rustfmt-clean, so that holds;
//! - `use` statements are joined across lines up to their `;`; a path written inside a string
//!   literal or produced by a macro is not seen, nor is one split across lines outside a `use`;
//! - a name brought in by a glob (`use x::*`) is attributed to the module of the glob, not to
//!   the file that defines it;
//! - `#[path]` is followed only when written on the line before its `mod` declaration.

//!
//! Layout: [`scan`] reads one file (its `use` trees, paths, `mod` declarations); [`graph`] puts
//! a crate's files together, resolves what each path names and finds the cycles.

mod graph;
mod scan;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use self::graph::CrateGraph;
use super::members;

/// One import cycle: its files, and the imports that tie them (`from → to: names`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Cycle {
    pub(crate) files: Vec<String>,
    pub(crate) ties: Vec<String>,
}

impl Cycle {
    pub(crate) fn render(&self) -> String {
        let mut out = format!(
            "cycle of {} files: {}\n",
            self.files.len(),
            self.files.join(", ")
        );
        for tie in &self.ties {
            let _ = writeln!(out, "    {tie}");
        }
        out
    }
}

/// The check as `cargo xtask test` and `tidy` run it: `Ok` with what to print, or an error
/// listing every cycle with the imports that tie it.
pub(crate) fn check(root: &Path) -> anyhow::Result<String> {
    let cycles = find_cycles(root)?;
    if !cycles.is_empty() {
        anyhow::bail!(
            "import cycles between files (each file of a cycle imports, through the others, from \
             itself; move what they share into a module of its own):\n{}",
            cycles
                .iter()
                .map(Cycle::render)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok("no import cycle between files".to_owned())
}

/// Every import cycle of every crate of the workspace at `root`.
pub(crate) fn find_cycles(root: &Path) -> anyhow::Result<Vec<Cycle>> {
    let mut cycles = Vec::new();
    for member in members(root)? {
        for crate_root in crate_roots(&root.join(&member.dir)) {
            let graph = CrateGraph::load(root, &crate_root);
            cycles.extend(graph.cycles());
        }
    }
    Ok(cycles)
}

/// The root file of every target of the package in `dir`, by cargo's conventions.
fn crate_roots(dir: &Path) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for file in ["src/lib.rs", "src/main.rs"] {
        if dir.join(file).is_file() {
            roots.push(dir.join(file));
        }
    }
    for folder in ["src/bin", "tests", "benches", "examples"] {
        let Ok(entries) = fs::read_dir(dir.join(folder)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter_map(|p| {
                if p.is_dir() {
                    Some(p.join("main.rs")).filter(|m| m.is_file())
                } else {
                    p.extension().is_some_and(|e| e == "rs").then_some(p)
                }
            })
            .collect();
        found.sort();
        roots.extend(found);
    }
    roots
}
