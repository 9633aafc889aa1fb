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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::{code_of, members};

/// A cycle that is known and being removed: the check passes while every file of a cycle it
/// finds is under one entry's paths. Each entry says why it is tolerated; the list only shrinks.
pub(crate) struct KnownCycle {
    pub(crate) paths: &'static [&'static str],
    pub(crate) why: &'static str,
}

/// The two cycles of the tree when this check was written (issue 9), being removed by the
/// checkout and telemetry rework. Empty this list when they are gone; never add to it.
pub(crate) const KNOWN_CYCLES: &[KnownCycle] = &[
    KnownCycle {
        paths: &[
            "services/order-service/src/startup.rs",
            "services/order-service/src/config.rs",
            "services/order-service/src/routes/",
            "services/order-service/src/ratelimit/",
        ],
        why: "order-service: AppState lives in startup.rs, which routes/* and ratelimit/ import back (issue 9, item 1)",
    },
    KnownCycle {
        paths: &["crates/telemetry/src/metrics/"],
        why: "telemetry: metrics/encode.rs, registry.rs, family.rs and histogram.rs import each other (issue 9, item 3)",
    },
];

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

    /// The known cycle this one lies within, if any.
    pub(crate) fn known(&self) -> Option<&'static KnownCycle> {
        KNOWN_CYCLES.iter().find(|known| {
            self.files
                .iter()
                .all(|f| known.paths.iter().any(|p| f.starts_with(p)))
        })
    }
}

/// The check as `cargo xtask test` and `tidy` run it: `Ok` with what to print (the known cycles
/// that remain), or an error listing every other cycle with the imports that tie it.
pub(crate) fn check(root: &Path) -> anyhow::Result<String> {
    let cycles = find_cycles(root)?;
    let mut report = String::new();
    let mut new = Vec::new();
    for cycle in &cycles {
        match cycle.known() {
            Some(known) => {
                let _ = write!(
                    report,
                    "known, being fixed ({}):\n  {}",
                    known.why,
                    cycle.render()
                );
            }
            None => new.push(cycle.render()),
        }
    }
    if !new.is_empty() {
        anyhow::bail!(
            "import cycles between files (each file of a cycle imports, through the others, from \
             itself; move what they share into a module of its own):\n{}",
            new.join("\n")
        );
    }
    let _ = write!(
        report,
        "no other import cycle ({} known, being fixed)",
        cycles.len()
    );
    Ok(report)
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

type ModPath = Vec<String>;

/// One `use` leaf: the path it names (as written) and the name it brings into its module.
#[derive(Clone, Debug, PartialEq, Eq)]
struct UseLeaf {
    path: Vec<String>,
    /// The name it introduces; `*` for a glob.
    name: String,
}

/// What one file says: its `use` leaves and the `a::b` paths of its code, each with the module
/// (the file's, or an inline one inside it) it is written in.
#[derive(Default)]
struct FileScan {
    uses: Vec<(ModPath, UseLeaf)>,
    paths: Vec<(ModPath, Vec<String>)>,
    /// `mod name;` declarations: (name, `#[path]` if any).
    children: Vec<(String, Option<String>)>,
    inline_modules: Vec<ModPath>,
}

/// An inline module open at some line: its indentation, name, and whether it is test code.
struct Inline {
    indent: String,
    name: String,
    test: bool,
}

struct CrateGraph {
    /// File paths relative to the workspace root.
    files: Vec<String>,
    /// Each file's module path.
    file_modules: Vec<ModPath>,
    /// Module path → index into `files` (inline modules map to their file).
    modules: BTreeMap<ModPath, usize>,
    scans: Vec<FileScan>,
}

impl CrateGraph {
    fn load(root: &Path, crate_root: &Path) -> CrateGraph {
        let mut graph = CrateGraph {
            files: Vec::new(),
            file_modules: Vec::new(),
            modules: BTreeMap::new(),
            scans: Vec::new(),
        };
        let mut todo: Vec<(PathBuf, ModPath, bool)> =
            vec![(crate_root.to_path_buf(), Vec::new(), true)];
        while let Some((file, module, is_root)) = todo.pop() {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let rel = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            let index = graph.files.len();
            graph.files.push(rel);
            graph.file_modules.push(module.clone());
            graph.modules.insert(module.clone(), index);
            let scan = scan_file(&text, &module);
            for inline in &scan.inline_modules {
                graph.modules.entry(inline.clone()).or_insert(index);
            }
            let owns_dir = is_root
                || file
                    .file_name()
                    .is_some_and(|n| n == "mod.rs" || n == "lib.rs" || n == "main.rs");
            let parent = file.parent().unwrap_or(Path::new("."));
            let child_dir = if owns_dir {
                parent.to_path_buf()
            } else {
                parent.join(file.file_stem().unwrap_or_default())
            };
            for (name, path_attr) in &scan.children {
                let candidates = match path_attr {
                    Some(p) => vec![parent.join(p)],
                    None => vec![
                        child_dir.join(format!("{name}.rs")),
                        child_dir.join(name).join("mod.rs"),
                    ],
                };
                if let Some(child) = candidates.into_iter().find(|c| c.is_file()) {
                    let mut child_module = module.clone();
                    child_module.push(name.clone());
                    todo.push((child, child_module, false));
                }
            }
            graph.scans.push(scan);
        }
        graph
    }

    /// `segments` as written in `module`, made absolute (from the crate root); `None` for a path
    /// into another crate.
    fn absolute(&self, module: &[String], segments: &[String], in_use: bool) -> Option<ModPath> {
        let (first, rest) = segments.split_first()?;
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "self" => Some(module.iter().chain(rest).cloned().collect()),
            "super" => {
                let mut base = module.to_vec();
                base.pop()?;
                let mut rest = rest;
                while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
                    base.pop()?;
                    rest = tail;
                }
                Some(base.into_iter().chain(rest.iter().cloned()).collect())
            }
            // Uniform paths: `use child::Item` names a child module of the current one.
            _ if in_use => {
                let mut child = module.to_vec();
                child.push(first.clone());
                self.modules
                    .contains_key(&child)
                    .then(|| module.iter().chain(segments).cloned().collect())
            }
            _ => None,
        }
    }

    /// The file that defines what the absolute path `path` names, following imports of the
    /// module it passes through; with the item's name.
    fn resolve(&self, path: &[String], depth: usize) -> Option<(usize, String)> {
        let split = (0..=path.len())
            .rev()
            .find(|n| self.modules.contains_key(&path[..*n]))?;
        let (module, rest) = path.split_at(split);
        let file = self.modules[module];
        let Some(item) = rest.first() else {
            return Some((file, module.last().cloned().unwrap_or_default()));
        };
        if depth < 8 {
            let forwarded = self.scans[file]
                .uses
                .iter()
                .find(|(m, leaf)| m.as_slice() == module && &leaf.name == item);
            if let Some((m, leaf)) = forwarded {
                let target = self.absolute(m, &leaf.path, true)?;
                let mut target = target;
                if leaf.path.last().is_some_and(|s| s == "self") {
                    target.pop();
                }
                target.extend(rest[1..].iter().cloned());
                return self.resolve(&target, depth + 1);
            }
        }
        Some((file, item.clone()))
    }

    /// file → file → names.
    fn edges(&self) -> BTreeMap<usize, BTreeMap<usize, BTreeSet<String>>> {
        let mut edges: BTreeMap<usize, BTreeMap<usize, BTreeSet<String>>> = BTreeMap::new();
        for (from, scan) in self.scans.iter().enumerate() {
            let mut targets: Vec<ModPath> = Vec::new();
            for (module, leaf) in &scan.uses {
                let Some(mut absolute) = self.absolute(module, &leaf.path, true) else {
                    continue;
                };
                if leaf.name == "*" {
                    // A glob takes what the module defines: an import of its file.
                    absolute.pop();
                    if let Some(&to) = self.modules.get(&absolute) {
                        if to != from && !self.is_ancestor(to, from) {
                            edges
                                .entry(from)
                                .or_default()
                                .entry(to)
                                .or_default()
                                .insert("*".to_owned());
                        }
                    }
                    continue;
                }
                if absolute.last().is_some_and(|s| s == "self") {
                    absolute.pop();
                }
                // Importing a module's name alone ties to nothing yet: the paths written
                // through it below do.
                if !self.modules.contains_key(&absolute) {
                    targets.push(absolute);
                }
            }
            for (module, path) in &scan.paths {
                if let Some(absolute) = self.code_path(scan, module, path) {
                    if !self.modules.contains_key(&absolute) {
                        targets.push(absolute);
                    }
                }
            }
            for target in targets {
                let Some((to, name)) = self.resolve(&target, 0) else {
                    continue;
                };
                if to != from && !self.is_ancestor(to, from) {
                    edges
                        .entry(from)
                        .or_default()
                        .entry(to)
                        .or_default()
                        .insert(name);
                }
            }
        }
        edges
    }

    /// File `a`'s module encloses file `b`'s (`a` owns `b`, directly or further up).
    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let (a, b) = (&self.file_modules[a], &self.file_modules[b]);
        a.len() < b.len() && b.starts_with(a)
    }

    /// A path written in code, made absolute: `crate::`/`super::`/`self::` paths, paths through
    /// a name the module imported with `use`, and paths into a child module.
    fn code_path(&self, scan: &FileScan, module: &[String], path: &[String]) -> Option<ModPath> {
        let first = path.first()?;
        if matches!(first.as_str(), "crate" | "super" | "self") {
            return self.absolute(module, path, false);
        }
        let imported = scan
            .uses
            .iter()
            .find(|(m, leaf)| m.as_slice() == module && &leaf.name == first);
        if let Some((m, leaf)) = imported {
            let mut through: Vec<String> = leaf.path.clone();
            if through.last().is_some_and(|s| s == "self") {
                through.pop();
            }
            through.extend(path[1..].iter().cloned());
            return self.absolute(m, &through, true);
        }
        self.absolute(module, path, true)
    }

    fn cycles(&self) -> Vec<Cycle> {
        let edges = self.edges();
        let mut cycles = Vec::new();
        for component in strongly_connected(self.files.len(), &edges) {
            if component.len() < 2 {
                continue;
            }
            let members: BTreeSet<usize> = component.iter().copied().collect();
            let mut ties = Vec::new();
            for &from in &members {
                for (to, names) in edges.get(&from).into_iter().flatten() {
                    if members.contains(to) {
                        let names: Vec<&str> = names.iter().map(String::as_str).collect();
                        ties.push(format!(
                            "{} → {}: {}",
                            self.files[from],
                            self.files[*to],
                            names.join(", ")
                        ));
                    }
                }
            }
            let mut files: Vec<String> = members.iter().map(|i| self.files[*i].clone()).collect();
            files.sort();
            ties.sort();
            cycles.push(Cycle { files, ties });
        }
        cycles
    }
}

/// Tarjan's algorithm, iteratively: the strongly connected components of the graph.
fn strongly_connected(
    nodes: usize,
    edges: &BTreeMap<usize, BTreeMap<usize, BTreeSet<String>>>,
) -> Vec<Vec<usize>> {
    let successors = |n: usize| -> Vec<usize> {
        edges
            .get(&n)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    };
    let mut index = vec![usize::MAX; nodes];
    let mut low = vec![0; nodes];
    let mut on_stack = vec![false; nodes];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut components = Vec::new();
    for start in 0..nodes {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, its successors, position in them)
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(start, successors(start), 0)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some((node, succ, pos)) = work.last_mut() {
            let node = *node;
            if let Some(&s) = succ.get(*pos) {
                *pos += 1;
                if index[s] == usize::MAX {
                    index[s] = next;
                    low[s] = next;
                    next += 1;
                    stack.push(s);
                    on_stack[s] = true;
                    work.push((s, successors(s), 0));
                } else if on_stack[s] {
                    low[node] = low[node].min(index[s]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                low[*parent] = low[*parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(n) = stack.pop() {
                    on_stack[n] = false;
                    component.push(n);
                    if n == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The `use` statements, `crate::`/`super::` paths, `mod` declarations and inline modules of one
/// file whose module path is `module`.
fn scan_file(text: &str, module: &[String]) -> FileScan {
    let mut scan = FileScan::default();
    let mut inline: Vec<Inline> = Vec::new();
    let mut pending_use: Option<String> = None;
    let mut path_attr: Option<String> = None;
    let mut cfg_test = false;
    for line in text.lines() {
        let current: ModPath = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|m| m.name.clone()))
            .collect();
        let in_test = inline.iter().any(|m| m.test);
        if let Some(open) = inline.last() {
            if line.strip_prefix(open.indent.as_str()) == Some("}") {
                inline.pop();
                continue;
            }
        }
        let code = code_of(line);
        if let Some(statement) = pending_use.as_mut() {
            statement.push(' ');
            statement.push_str(code);
            if code.contains(';') {
                let statement = pending_use.take().unwrap_or_default();
                if !in_test {
                    scan.uses.extend(
                        use_leaves(&statement)
                            .into_iter()
                            .map(|l| (current.clone(), l)),
                    );
                }
            }
            continue;
        }
        let trimmed = code.trim_start();
        let after_vis = strip_visibility(trimmed);
        if let Some(rest) = after_vis.strip_prefix("use ") {
            if !rest.contains(';') {
                pending_use = Some(rest.to_owned());
            } else if !in_test {
                scan.uses
                    .extend(use_leaves(rest).into_iter().map(|l| (current.clone(), l)));
            }
            continue;
        }
        if let Some(rest) = after_vis.strip_prefix("mod ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let tail = rest[name.len()..].trim();
            let test = cfg_test || in_test;
            if tail == ";" && inline.is_empty() && !test {
                scan.children.push((name, path_attr.take()));
            } else if tail == "{" {
                let indent = line[..line.len() - line.trim_start().len()].to_owned();
                let mut path = current.clone();
                path.push(name.clone());
                scan.inline_modules.push(path);
                inline.push(Inline { indent, name, test });
            }
            cfg_test = false;
            continue;
        }
        if trimmed.starts_with("#[") {
            if trimmed.starts_with("#[cfg(test)]") {
                cfg_test = true;
            }
            if let Some(p) = trimmed
                .strip_prefix("#[path = \"")
                .and_then(|r| r.strip_suffix("\"]"))
            {
                path_attr = Some(p.to_owned());
            }
            continue;
        }
        if !trimmed.is_empty() {
            cfg_test = false;
            path_attr = None;
        }
        if !in_test {
            for path in qualified_paths(code) {
                scan.paths.push((current.clone(), path));
            }
        }
    }
    scan
}

/// `pub`, `pub(crate)`, `pub(super)`, `pub(in path)` and what follows them.
fn strip_visibility(code: &str) -> &str {
    let Some(rest) = code.strip_prefix("pub") else {
        return code;
    };
    let rest = if rest.starts_with('(') {
        rest.find(')').map_or(rest, |end| &rest[end + 1..])
    } else if rest.starts_with(' ') {
        rest
    } else {
        return code;
    };
    rest.trim_start()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path of two or more segments (`a::b`, `crate::x::Y`) in a line of code.
fn qualified_paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_ident = (chars[i].is_ascii_alphabetic() || chars[i] == '_')
            && (i == 0 || !(is_ident_char(chars[i - 1]) || chars[i - 1] == ':'));
        if !starts_ident {
            i += 1;
            continue;
        }
        let mut segments = vec![String::new()];
        while i < chars.len() {
            if is_ident_char(chars[i]) {
                if let Some(last) = segments.last_mut() {
                    last.push(chars[i]);
                }
                i += 1;
            } else if chars[i] == ':'
                && chars.get(i + 1) == Some(&':')
                && chars
                    .get(i + 2)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
            {
                segments.push(String::new());
                i += 2;
            } else {
                break;
            }
        }
        if segments.len() > 1 {
            out.push(segments);
        }
    }
    out
}

/// The leaves of a `use` tree (the text after `use`, up to and maybe including its `;`).
fn use_leaves(tree: &str) -> Vec<UseLeaf> {
    let tree = tree.split(';').next().unwrap_or_default();
    let tokens = tokenize(tree);
    let mut leaves = Vec::new();
    let mut pos = 0;
    parse_tree(&tokens, &mut pos, &[], &mut leaves);
    leaves
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_ident_char(c) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        match c {
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                tokens.push("::".to_owned());
            }
            '{' | '}' | ',' | '*' => tokens.push(c.to_string()),
            _ => {}
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// `prefix` followed by one tree: `a::b`, `a::{…}`, `a::*`, `a as b`.
fn parse_tree(tokens: &[String], pos: &mut usize, prefix: &[String], out: &mut Vec<UseLeaf>) {
    let mut path = prefix.to_vec();
    // A leading `::` (absolute path) carries no module of ours.
    while let Some(token) = tokens.get(*pos) {
        match token.as_str() {
            "::" => *pos += 1,
            "{" => {
                *pos += 1;
                loop {
                    match tokens.get(*pos).map(String::as_str) {
                        None => return,
                        Some("}") => {
                            *pos += 1;
                            return;
                        }
                        Some(",") => *pos += 1,
                        Some(_) => parse_tree(tokens, pos, &path, out),
                    }
                }
            }
            "*" => {
                *pos += 1;
                path.push("*".to_owned());
                out.push(UseLeaf {
                    path,
                    name: "*".to_owned(),
                });
                return;
            }
            "}" | "," => break,
            "as" => {
                *pos += 1;
                let alias = tokens.get(*pos).cloned().unwrap_or_default();
                *pos += 1;
                out.push(leaf(path, Some(alias)));
                return;
            }
            word => {
                path.push(word.to_owned());
                *pos += 1;
            }
        }
    }
    if path.len() > prefix.len() {
        out.push(leaf(path, None));
    }
}

fn leaf(path: Vec<String>, alias: Option<String>) -> UseLeaf {
    let name = match alias {
        Some(alias) => alias,
        None if path.last().is_some_and(|s| s == "self") => {
            path.iter().rev().nth(1).cloned().unwrap_or_default()
        }
        None => path.last().cloned().unwrap_or_default(),
    };
    UseLeaf { path, name }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn use_trees_are_expanded() {
        let leaves = use_leaves("crate::{a::B, c::{self, D as E}, f::*};");
        let got: Vec<(Vec<String>, String)> =
            leaves.into_iter().map(|l| (l.path, l.name)).collect();
        assert_eq!(
            got,
            [
                (strings(&["crate", "a", "B"]), "B".to_owned()),
                (strings(&["crate", "c", "self"]), "c".to_owned()),
                (strings(&["crate", "c", "D"]), "E".to_owned()),
                (strings(&["crate", "f", "*"]), "*".to_owned()),
            ]
        );
    }

    #[test]
    fn paths_in_code() {
        assert_eq!(
            qualified_paths(code_of(
                "let x = crate::a::B::new(super::c::D); // crate::no"
            )),
            [
                strings(&["crate", "a", "B", "new"]),
                strings(&["super", "c", "D"])
            ]
        );
        assert_eq!(
            qualified_paths("my_crate::a"),
            [strings(&["my_crate", "a"])]
        );
        assert!(qualified_paths("a: b, c").is_empty());
    }

    /// A small crate on disk: `files` relative to a fresh directory, `src/lib.rs` the root.
    fn fixture(name: &str, files: &[(&str, &str)]) -> (PathBuf, Vec<Cycle>) {
        let dir = std::env::temp_dir().join(format!("xtask-imports-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        let graph = CrateGraph::load(&dir, &dir.join("src/lib.rs"));
        let cycles = graph.cycles();
        (dir, cycles)
    }

    #[test]
    fn a_child_importing_its_parents_state_is_a_cycle() {
        let (dir, cycles) = fixture(
            "cycle",
            &[
                ("src/lib.rs", "mod routes;\nmod startup;\n"),
                (
                    "src/startup.rs",
                    "use crate::routes;\n\npub struct AppState;\n\nfn app() {\n    routes::configure();\n}\n",
                ),
                ("src/routes/mod.rs", "mod checkout;\npub use checkout::configure;\n"),
                (
                    "src/routes/checkout.rs",
                    "use crate::startup::{\n    AppState,\n};\n\npub fn configure() {}\n",
                ),
            ],
        );
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert_eq!(
            cycles[0].files,
            ["src/routes/checkout.rs", "src/startup.rs"],
            "the re-export in routes/mod.rs leads to the file that defines `configure`"
        );
        assert_eq!(
            cycles[0].ties,
            [
                "src/routes/checkout.rs → src/startup.rs: AppState",
                "src/startup.rs → src/routes/checkout.rs: configure"
            ]
        );
        assert!(cycles[0].known().is_none());
        let _ = fs::remove_dir_all(dir);
    }

    /// `AppState` in a leaf module reached through a re-export; a child using what its parent
    /// defines for it; unit tests that reach back: none of it is a cycle.
    #[test]
    fn a_leaf_module_a_childs_use_of_its_parent_and_unit_tests_make_no_cycle() {
        let (dir, cycles) = fixture(
            "acyclic",
            &[
                (
                    "src/lib.rs",
                    "mod state;\nmod routes;\npub use state::AppState;\n",
                ),
                (
                    "src/routes.rs",
                    "mod problem;\n\nuse crate::AppState;\n\npub struct ProblemDoc;\n\npub fn handler(_: &AppState) -> problem::Problem {\n    problem::Problem\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::tests_only::Fixture;\n}\n",
                ),
                (
                    "src/routes/problem.rs",
                    "/// Documented with [`super::ProblemDoc`].\npub struct Problem;\n\nfn doc() -> super::ProblemDoc {\n    super::ProblemDoc\n}\n",
                ),
                (
                    "src/state.rs",
                    "pub struct AppState;\n\n#[cfg(test)]\nmod tests {\n    use crate::routes::handler;\n}\n",
                ),
            ],
        );
        assert!(cycles.is_empty(), "{cycles:?}");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn known_cycles_match_by_path() {
        let cycle = Cycle {
            files: strings(&[
                "crates/telemetry/src/metrics/encode.rs",
                "crates/telemetry/src/metrics/registry.rs",
            ]),
            ties: Vec::new(),
        };
        assert!(cycle.known().is_some());
        let spilled = Cycle {
            files: strings(&[
                "crates/telemetry/src/metrics/encode.rs",
                "crates/telemetry/src/http.rs",
            ]),
            ties: Vec::new(),
        };
        assert!(spilled.known().is_none(), "a cycle reaching outside is new");
    }
}
