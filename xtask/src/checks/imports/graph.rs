//! A crate's files as a graph: the module tree from `mod` declarations, each written path
//! resolved to the file that defines its item (through re-exports), and Tarjan's strongly
//! connected components.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::scan::{scan_file, FileScan, ModPath};
use super::Cycle;

pub(super) struct CrateGraph {
    /// File paths relative to the workspace root.
    files: Vec<String>,
    /// Each file's module path.
    file_modules: Vec<ModPath>,
    /// Module path → index into `files` (inline modules map to their file).
    modules: BTreeMap<ModPath, usize>,
    scans: Vec<FileScan>,
}

impl CrateGraph {
    pub(super) fn load(root: &Path, crate_root: &Path) -> CrateGraph {
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

    pub(super) fn cycles(&self) -> Vec<Cycle> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
