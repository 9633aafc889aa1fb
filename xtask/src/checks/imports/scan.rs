//! One file, read line by line: its `use` trees, the `a::b` paths of its code, its `mod`
//! declarations and inline modules, with `#[cfg(test)]` code left out.

use super::super::code_of;

pub(super) type ModPath = Vec<String>;

/// One `use` leaf: the path it names (as written) and the name it brings into its module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct UseLeaf {
    pub(super) path: Vec<String>,
    /// The name it introduces; `*` for a glob.
    pub(super) name: String,
}

/// What one file says: its `use` leaves and the `a::b` paths of its code, each with the module
/// (the file's, or an inline one inside it) it is written in.
#[derive(Default)]
pub(super) struct FileScan {
    pub(super) uses: Vec<(ModPath, UseLeaf)>,
    pub(super) paths: Vec<(ModPath, Vec<String>)>,
    /// `mod name;` declarations: (name, `#[path]` if any).
    pub(super) children: Vec<(String, Option<String>)>,
    pub(super) inline_modules: Vec<ModPath>,
}

/// An inline module open at some line: its indentation, name, and whether it is test code.
struct Inline {
    indent: String,
    name: String,
    test: bool,
}

/// The `use` statements, `crate::`/`super::` paths, `mod` declarations and inline modules of one
/// file whose module path is `module`.
pub(super) fn scan_file(text: &str, module: &[String]) -> FileScan {
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
}
