//! Repository hygiene, checked as ordinary `#[test]`s so `cargo xtask test` and CI run them.
//!
//! - No machine paths in the sources: a developer's checkout location or home directory must
//!   never leak into the repository.
//! - Member crates take every dependency version from the root `[workspace.dependencies]`, where
//!   each version is pinned once (the one-OpenTelemetry-version rule depends on it).
//! - The two structure checks of [`crate::checks`]: no import cycle between files, no unused
//!   dependency (also steps of `cargo xtask test`).
//! - The `needs_*` convention of tests that need an external dependency (docs/TESTING.md):
//!   every such test sits in `needs_<key>` modules with the matching `#[ignore = "needs: …"]`,
//!   with keys `cargo xtask test` knows how to probe, and no test is ignored for another reason
//!   (`cargo xtask test` runs every ignored test whose dependency is there).

use std::fs;
use std::path::{Path, PathBuf};

use crate::project_root;
use crate::test::external::DEPENDENCIES;

/// Folders scanned (where present), recursively.
const SCANNED_DIRS: &[&str] = &[
    "crates",
    "services",
    "tests",
    "xtask",
    "docs",
    "infra",
    "dashboards",
    ".ci",
    ".github",
];
/// File types scanned; every file of `.ci/` is scanned whatever its name.
const SCANNED_EXTENSIONS: &[&str] = &["rs", "md", "toml", "yaml", "yml", "json"];
/// Build output, databases, dependencies: not sources.
const SKIPPED_DIRS: &[&str] = &["target", "data", "node_modules", ".git"];
/// Written in two halves so this file does not trip its own check.
const MACHINE_PATHS: [&str; 2] = [concat!("/wo", "rk/"), concat!("/ro", "ot/")];

#[test]
fn no_machine_paths_in_sources() {
    let root = project_root();
    let mut problems = Vec::new();
    for file in source_files(&root) {
        let Ok(bytes) = fs::read(&file) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.lines().enumerate() {
            for path in MACHINE_PATHS {
                if line.contains(path) {
                    problems.push(format!(
                        "{}:{}: contains `{path}`",
                        rel(&root, &file),
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "machine paths must not leak into the repository (use paths relative to the workspace, \
         CARGO_MANIFEST_DIR, or a temp dir):\n{}",
        problems.join("\n")
    );
}

#[test]
fn member_crates_take_versions_from_the_workspace() {
    let root = project_root();
    let mut problems = Vec::new();
    for dir in ["crates", "services", "tests", "xtask"] {
        let mut manifests = Vec::new();
        walk(&root.join(dir), &mut |path| {
            if path.file_name().is_some_and(|n| n == "Cargo.toml") {
                manifests.push(path.to_path_buf());
            }
        });
        for manifest in manifests {
            let text = fs::read_to_string(&manifest).unwrap();
            for (line, message) in local_versions(&text) {
                problems.push(format!("{}:{line}: {message}", rel(&root, &manifest)));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "pin versions once, in the root Cargo.toml's [workspace.dependencies], and write \
         `name.workspace = true` (or `name = {{ workspace = true, features = [...] }}`) in the crate:\n{}",
        problems.join("\n")
    );
}

#[test]
fn tests_that_need_a_dependency_are_marked_for_it() {
    let root = project_root();
    let known: Vec<&str> = DEPENDENCIES.iter().map(|d| d.key).collect();
    let mut problems = Vec::new();
    let mut marked = 0;
    for file in source_files(&root) {
        // xtask has no such test (and this file's own examples would trip the check).
        let path = rel(&root, &file);
        let is_rust_test = file.extension().is_some_and(|e| e == "rs")
            && ["crates/", "services/", "tests/"]
                .iter()
                .any(|dir| path.starts_with(dir));
        if !is_rust_test {
            continue;
        }
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let scan = needs_markers(&text, &known);
        marked += scan.marked;
        for (line, problem) in scan.problems {
            problems.push(format!("{}:{line}: {problem}", rel(&root, &file)));
        }
    }
    assert!(
        problems.is_empty(),
        "tests that need PostgreSQL, Redis or a tool sit in `needs_<key>` modules and carry \
         #[ignore = \"needs: <key>, …\"] with the same keys (docs/TESTING.md):\n{}",
        problems.join("\n")
    );
    assert!(marked > 0, "the scan found the marked tests");
}

/// What [`needs_markers`] found in one file.
#[derive(Debug, Default)]
struct NeedsScan {
    /// Tests marked with `needs:`.
    marked: usize,
    problems: Vec<(usize, String)>,
}

/// Checks one rustfmt-formatted file: every test function inside `needs_<key>` modules carries
/// `#[ignore = "needs: <keys>"]` naming exactly those keys (in nesting order), every key is one
/// of `known`, and no test is ignored otherwise. Modules are followed by indentation, as
/// rustfmt lays them out (`mod x {` … a `}` at the same indentation).
fn needs_markers(text: &str, known: &[&str]) -> NeedsScan {
    let mut scan = NeedsScan::default();
    // (indentation, module name) of the modules the current line is in.
    let mut modules: Vec<(usize, String)> = Vec::new();
    let mut attributes: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed == "}" && modules.last().is_some_and(|(at, _)| *at == indent) {
            modules.pop();
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix("mod ")
            .or_else(|| trimmed.strip_prefix("pub mod "))
            .or_else(|| trimmed.strip_prefix("pub(crate) mod "))
            .and_then(|rest| rest.strip_suffix(" {"))
        {
            if let Some(key) = name.strip_prefix("needs_") {
                if !known.contains(&key) {
                    scan.problems.push((
                        number,
                        format!(
                            "`mod {name}`: `{key}` is not a dependency xtask probes ({known:?})"
                        ),
                    ));
                }
            }
            modules.push((indent, name.to_owned()));
            continue;
        }
        if trimmed.starts_with("#[") {
            attributes.push(trimmed.to_owned());
            continue;
        }
        let is_fn = trimmed.starts_with("fn ")
            || trimmed.starts_with("async fn ")
            || trimmed.starts_with("pub fn ")
            || trimmed.starts_with("pub async fn ");
        let is_test = attributes.iter().any(|a| {
            a == "#[test]" || a.starts_with("#[tokio::test") || a.starts_with("#[actix_web::test")
        });
        if is_fn && is_test {
            let needs: Vec<&str> = modules
                .iter()
                .filter_map(|(_, m)| m.strip_prefix("needs_"))
                .collect();
            let ignore = attributes.iter().find(|a| a.starts_with("#[ignore"));
            let declared: Option<Vec<&str>> = ignore.and_then(|a| {
                a.strip_prefix("#[ignore = \"needs: ")?
                    .strip_suffix("\"]")
                    .map(|keys| keys.split(", ").collect())
            });
            match (ignore, declared) {
                (None, _) if needs.is_empty() => {}
                (None, _) => scan.problems.push((
                    number,
                    format!("a test in needs_{} without #[ignore = \"needs: {}\"]", needs.join("::needs_"), needs.join(", ")),
                )),
                (Some(a), None) => scan.problems.push((
                    number,
                    format!("`{a}`: tests are ignored only for a dependency, as #[ignore = \"needs: <key>\"]"),
                )),
                (Some(_), Some(declared)) if declared != needs => scan.problems.push((
                    number,
                    format!("#[ignore] says needs {declared:?}, the enclosing modules say {needs:?}"),
                )),
                (Some(_), Some(_)) => scan.marked += 1,
            }
        }
        if !trimmed.is_empty() && !trimmed.starts_with("///") && !trimmed.starts_with("//") {
            attributes.clear();
        }
    }
    scan
}

#[test]
fn needs_markers_are_read_from_modules_and_attributes() {
    let known = ["postgres", "redis"];
    let good = r#"
mod needs_postgres {
    use super::*;

    mod needs_redis {
        #[tokio::test]
        #[ignore = "needs: postgres, redis"]
        async fn both() {}
    }

    #[test]
    #[ignore = "needs: postgres"]
    fn one() {}
}

#[test]
fn plain() {}
"#;
    let scan = needs_markers(good, &known);
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    assert_eq!(scan.marked, 2);

    let bad = r#"
mod needs_postgres {
    #[test]
    fn unmarked() {}

    #[test]
    #[ignore = "needs: redis"]
    fn wrong_key() {}
}

mod needs_mysql {
}

#[test]
#[ignore = "slow"]
fn ignored_for_another_reason() {}

#[test]
#[ignore = "needs: postgres"]
fn outside_its_module() {}
"#;
    let problems: Vec<usize> = needs_markers(bad, &known)
        .problems
        .iter()
        .map(|(line, _)| *line)
        .collect();
    assert_eq!(problems, [4, 8, 11, 16, 20]);
}

/// Every scanned source file under `root`: the [`SCANNED_DIRS`] plus the root's own files.
fn source_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let has_scanned_extension = |path: &Path| {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SCANNED_EXTENSIONS.contains(&e))
    };
    if let Ok(entries) = fs::read_dir(root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_file()) && has_scanned_extension(&path) {
                files.push(path);
            }
        }
    }
    for dir in SCANNED_DIRS {
        let everything = *dir == ".ci";
        walk(&root.join(dir), &mut |path| {
            if everything || has_scanned_extension(path) {
                files.push(path.to_path_buf());
            }
        });
    }
    files.sort();
    files
}

/// Calls `f` for every regular file below `dir`, skipping [`SKIPPED_DIRS`] and symlinks.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if file_type.is_dir() {
            if !entry
                .file_name()
                .to_str()
                .is_some_and(|n| SKIPPED_DIRS.contains(&n))
            {
                walk(&path, f);
            }
        } else if file_type.is_file() {
            f(&path);
        }
    }
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `(line number, problem)` for each dependency in `manifest` that states its own version.
///
/// Line-based, on purpose: it recognises `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]`, their `[target.'cfg(..)'.…]` forms and `[dependencies.name]` tables,
/// and in them `name = "1"`, `name = { version = … }` and `name.version = …`.
fn local_versions(manifest: &str) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    // `Some(true)`: a `[dependencies.name]` table; `Some(false)`: a dependency list; `None`: other.
    let mut table: Option<bool> = None;
    for (i, raw) in manifest.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            table = dependency_table(line.trim_start_matches('[').trim_end_matches(']').trim());
            continue;
        }
        let Some(single_dependency) = table else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let local_version = if single_dependency {
            key == "version"
        } else {
            key.ends_with(".version")
                || value.starts_with('"')
                || value.starts_with('\'')
                || (value.starts_with('{') && inline_table_has_version(value))
        };
        if local_version {
            problems.push((i + 1, format!("`{line}` states its own version")));
        }
    }
    problems
}

/// `Some(false)` for a dependency list header, `Some(true)` for a single-dependency table.
fn dependency_table(header: &str) -> Option<bool> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    // `target.'cfg(unix)'.dependencies` → look at what follows the last quoted part.
    let unquoted = header
        .rsplit(['\'', '"'])
        .next()
        .unwrap_or(header)
        .trim_start_matches('.');
    let parts: Vec<&str> = unquoted.split('.').collect();
    let kind_at = parts.iter().position(|p| KINDS.contains(p))?;
    if header.starts_with("workspace.") || header.starts_with("patch") {
        return None;
    }
    Some(kind_at + 1 < parts.len())
}

fn inline_table_has_version(value: &str) -> bool {
    value
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter_map(|entry| entry.split_once('='))
        .any(|(key, _)| key.trim() == "version")
}

#[test]
fn local_version_lines_are_found() {
    let manifest = r#"
[package]
name = "demo"
version.workspace = true

[dependencies]
serde.workspace = true
tokio = { workspace = true, features = ["fs"] }
anyhow = "1"
rand = { version = "0.9", default-features = false }
uuid.version = "1"
# regex = "1"

[dependencies.hex]
version = "0.4"

[target.'cfg(unix)'.dependencies]
libc.workspace = true
nix = "0.29"

[dev-dependencies]
wiremock = { workspace = true }

[features]
default = ["a"]
"#;
    let lines: Vec<usize> = local_versions(manifest)
        .into_iter()
        .map(|(line, _)| line)
        .collect();
    assert_eq!(lines, [9, 10, 11, 15, 19]);
}

#[test]
fn dependency_table_headers() {
    assert_eq!(dependency_table("dependencies"), Some(false));
    assert_eq!(dependency_table("dev-dependencies"), Some(false));
    assert_eq!(
        dependency_table("target.'cfg(unix)'.dependencies"),
        Some(false)
    );
    assert_eq!(
        dependency_table("target.\"cfg(target.os = \\\"linux\\\")\".build-dependencies"),
        Some(false)
    );
    assert_eq!(dependency_table("dependencies.hex"), Some(true));
    assert_eq!(dependency_table("workspace.dependencies"), None);
    assert_eq!(dependency_table("package"), None);
    assert_eq!(dependency_table("features"), None);
}

/// No import cycle between the files of any crate of the workspace.
#[test]
fn no_import_cycles() {
    match crate::checks::imports::check(&project_root()) {
        Ok(report) => eprintln!("{report}"),
        Err(err) => panic!("{err:#}"),
    }
}

/// Every dependency of every member's Cargo.toml is named by its sources, except those
/// [`crate::checks::deps`] allows with a reason.
#[test]
fn no_unused_dependencies() {
    match crate::checks::deps::check(&project_root()) {
        Ok(report) => eprintln!("{report}"),
        Err(err) => panic!("{err:#}"),
    }
}
