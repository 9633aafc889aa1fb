//! No unused dependency in any member's Cargo.toml.
//!
//! Every entry of `[dependencies]` and `[dev-dependencies]` (target-specific tables included)
//! must be named in the member's Rust sources, and every `[build-dependencies]` entry in its
//! `build.rs`: as a path (`name::…`, which covers `#[derive(serde::Serialize)]` and
//! `#[tokio::test]`), in `use name…` or in `extern crate name`, with `-` read as `_`.
//!
//! Limits of this line scan: comments do not count, but a name inside a string literal does;
//! a dependency named only by a macro's expansion or needed only to switch on a feature of
//! another crate cannot be seen, so it belongs in [`ALLOWED`] with its reason; whether a normal
//! dependency is used only by tests (and so should be a dev-dependency) is not checked.

use std::fs;
use std::path::Path;

use anyhow::Result;

use super::{code_of, members, rust_files};

/// Dependencies that are used although no source names them: `(member, dependency, why)`.
pub(crate) const ALLOWED: &[(&str, &str, &str)] = &[];

/// One dependency no source names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unused {
    pub(crate) member: String,
    pub(crate) section: String,
    pub(crate) name: String,
}

impl Unused {
    pub(crate) fn render(&self) -> String {
        format!(
            "{}/Cargo.toml [{}] {}",
            self.member, self.section, self.name
        )
    }

    /// Why it is tolerated, if it is.
    pub(crate) fn excused(&self) -> Option<&'static str> {
        ALLOWED
            .iter()
            .find(|(member, name, _)| *member == self.member && *name == self.name)
            .map(|(_, _, why)| *why)
    }
}

/// The check as `cargo xtask test` and `tidy` run it: `Ok` with what to print (the allowed
/// ones), or an error listing every other unused dependency.
pub(crate) fn check(root: &Path) -> Result<String> {
    let mut report = String::new();
    let mut new = Vec::new();
    let unused = find_unused(root)?;
    for dep in &unused {
        match dep.excused() {
            Some(why) => report.push_str(&format!("{}: {why}\n", dep.render())),
            None => new.push(dep.render()),
        }
    }
    if !new.is_empty() {
        anyhow::bail!(
            "dependencies no source names (remove them, or allow one with its reason in \
             xtask/src/checks/deps.rs):\n{}",
            new.join("\n")
        );
    }
    report.push_str(&format!(
        "every dependency is used ({} allowed with a reason)",
        unused.len()
    ));
    Ok(report)
}

/// Every unused dependency of every member of the workspace at `root`.
pub(crate) fn find_unused(root: &Path) -> Result<Vec<Unused>> {
    let mut unused = Vec::new();
    for member in members(root)? {
        let dir = root.join(&member.dir);
        let mut sources = String::new();
        for file in rust_files(&dir) {
            if file == dir.join("build.rs") {
                continue;
            }
            for line in fs::read_to_string(&file).unwrap_or_default().lines() {
                sources.push_str(code_of(line));
                sources.push('\n');
            }
        }
        let build_script: String = fs::read_to_string(dir.join("build.rs"))
            .unwrap_or_default()
            .lines()
            .map(|l| format!("{}\n", code_of(l)))
            .collect();
        for (section, name) in dependencies(&member.manifest) {
            let code = if section.ends_with("build-dependencies") {
                &build_script
            } else {
                &sources
            };
            if !referenced(code, &name.replace('-', "_")) {
                unused.push(Unused {
                    member: member.dir.to_string_lossy().replace('\\', "/"),
                    section,
                    name,
                });
            }
        }
    }
    Ok(unused)
}

/// `(section, name)` of every dependency of a manifest. `section` is the table's own name
/// (`dependencies`, `target.'cfg(unix)'.dev-dependencies`, …); `name` is the key, which is
/// what the sources call the crate (a `package = "…"` rename included).
fn dependencies(manifest: &str) -> Vec<(String, String)> {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(header) = line.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let header = header.trim();
            section = None;
            if header.starts_with("workspace") || header.starts_with("patch") {
                continue;
            }
            // `[dependencies.name]`: one dependency per table.
            if let Some((kind, name)) = KINDS
                .iter()
                .find_map(|k| header.split_once(&format!("{k}.")).map(|(_, n)| (*k, n)))
            {
                if !name.contains('.') || name.starts_with('\'') {
                    out.push((kind.to_owned(), name.trim_matches('"').to_owned()));
                }
                continue;
            }
            if KINDS
                .iter()
                .any(|k| header == *k || header.ends_with(&format!(".{k}")))
            {
                section = Some(header.to_owned());
            }
            continue;
        }
        let Some(section) = &section else {
            continue;
        };
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let name = key
            .trim()
            .split('.')
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        if !name.is_empty() {
            out.push((section.clone(), name.to_owned()));
        }
    }
    out
}

/// `crate_ident` appears in `code` as a path root (`name::`), after `use ` or after
/// `extern crate `.
fn referenced(code: &str, crate_ident: &str) -> bool {
    let mut from = 0;
    while let Some(at) = code[from..].find(crate_ident) {
        let start = from + at;
        let end = start + crate_ident.len();
        from = end;
        let before = code[..start].chars().next_back();
        let after = code[end..].chars().next();
        let boundary = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !boundary {
            continue;
        }
        // A path root: not `x::name`, except `::name` at the start of a path.
        let prefix = code[..start].trim_end_matches("::");
        let is_path_root = code[end..].starts_with("::")
            && !(code[..start].ends_with("::")
                && prefix
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_'));
        let line_start = code[..start].rfind('\n').map_or(0, |i| i + 1);
        let head = code[line_start..start].trim_start();
        let used =
            head.ends_with("use ") || head.ends_with("use ::") || head.ends_with("extern crate ");
        if is_path_root || used {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_tables() {
        let manifest = r#"
[package]
name = "demo"

[dependencies]
serde.workspace = true
tokio = { workspace = true, features = ["fs"] }
my-json = { package = "serde_json", version = "1" } # renamed

[dependencies.hex]
version = "0.4"

[target.'cfg(unix)'.dependencies]
libc.workspace = true

[dev-dependencies]
wiremock = { workspace = true }

[features]
default = ["a"]
"#;
        let names: Vec<String> = dependencies(manifest)
            .into_iter()
            .map(|(section, name)| format!("{section}: {name}"))
            .collect();
        assert_eq!(
            names,
            [
                "dependencies: serde",
                "dependencies: tokio",
                "dependencies: my-json",
                "dependencies: hex",
                "target.'cfg(unix)'.dependencies: libc",
                "dev-dependencies: wiremock",
            ]
        );
    }

    #[test]
    fn references_by_path_use_and_extern_crate() {
        assert!(referenced("#[derive(serde::Serialize)]\n", "serde"));
        assert!(referenced("#[tokio::test]\nasync fn t() {}\n", "tokio"));
        assert!(referenced("use hex;\n", "hex"));
        assert!(referenced(
            "    use serde_json::{json, Value};\n",
            "serde_json"
        ));
        assert!(referenced("extern crate libc;\n", "libc"));
        assert!(referenced("let x = ::anyhow::anyhow!(\"x\");\n", "anyhow"));
        assert!(!referenced("let hexagon = 1;\n", "hex"), "a longer word");
        assert!(
            !referenced("let x = my::serde::y;\n", "serde"),
            "a module of that name"
        );
        assert!(!referenced("fn tokio() {}\n", "tokio"), "not a path");
    }

    /// A member whose manifest names a crate its sources never use is reported; one whose
    /// sources use it, under `-`→`_`, is not.
    #[test]
    fn an_unused_dependency_is_found() {
        let root = std::env::temp_dir().join(format!("xtask-deps-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("a/src")).unwrap();
        fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"a\"]\n").unwrap();
        fs::write(
            root.join("a/Cargo.toml"),
            "[package]\nname = \"a\"\n\n[dependencies]\nserde-json.workspace = true\nhex.workspace = true\n\n[dev-dependencies]\nproptest.workspace = true\n",
        )
        .unwrap();
        fs::write(
            root.join("a/src/lib.rs"),
            "// hex::encode is mentioned in a comment only\npub fn f() -> serde_json::Value {\n    serde_json::Value::Null\n}\n",
        )
        .unwrap();
        let unused: Vec<String> = find_unused(&root)
            .unwrap()
            .iter()
            .map(Unused::render)
            .collect();
        assert_eq!(
            unused,
            [
                "a/Cargo.toml [dependencies] hex",
                "a/Cargo.toml [dev-dependencies] proptest"
            ]
        );
        let _ = fs::remove_dir_all(root);
    }
}
