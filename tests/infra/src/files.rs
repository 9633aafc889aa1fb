//! The workspace's files: where they are, YAML and JSON loading.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// `path` relative to the workspace root, with `/` separators, for messages.
pub fn rel(path: &Path) -> String {
    let root = workspace_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Files under `dir` (recursively) whose names end with one of `extensions`, sorted.
pub fn files_with_extensions(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| extensions.iter().any(|e| n.ends_with(&format!(".{e}"))))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One YAML document, with `<<:` merge keys applied (compose uses them).
pub fn read_yaml(path: &Path) -> anyhow::Result<Yaml> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut value: Yaml =
        serde_yaml::from_str(&text).with_context(|| format!("parsing {}", rel(path)))?;
    value
        .apply_merge()
        .with_context(|| format!("merge keys in {}", rel(path)))?;
    Ok(value)
}

/// Every document of a (possibly multi-document) YAML text, empty ones left out.
pub fn yaml_documents(text: &str) -> anyhow::Result<Vec<Yaml>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let mut value = Yaml::deserialize(doc)?;
        value.apply_merge()?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

pub fn read_json(path: &Path) -> anyhow::Result<Json> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", rel(path)))
}

/// `value[key1][key2]…` for YAML mappings.
pub fn yget<'a>(value: &'a Yaml, path: &[&str]) -> Option<&'a Yaml> {
    let mut v = value;
    for key in path {
        v = v.get(*key)?;
    }
    Some(v)
}

/// A YAML scalar as text (strings, numbers, booleans).
pub fn yaml_str(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
