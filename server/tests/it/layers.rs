//! The server's modules import each other in layers, never in a circle: `db` under `keys`,
//! `auth` and `audit`, those under `store`, `changes` and the domain, the domain's modules
//! under each other in one order, `http` above them all and `startup` and `cli` on top. A
//! module is a top-level module of `src/` (a folder counts as one) or one file of
//! `src/domain/`. What a module names is read from its source: every `crate::…` path (in `use`
//! lines and inline) and, in the domain, every `super::…` path; comments and `#[cfg(test)]`
//! code are not read, as a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One module's imports: the module it names and where it first names it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn no_module_of_the_server_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&read_tree(&src));
    assert!(
        graph.contains_key("db")
            && graph.contains_key("domain::card")
            && graph.contains_key("http"),
        "the source tree was not read: {:?}",
        graph.keys().collect::<Vec<_>>()
    );
    assert!(
        graph["domain::deposit"].contains_key("domain::refund"),
        "a known import was not found: {:?}",
        graph["domain::deposit"]
    );
    if let Some(circle) = find_circle(&graph) {
        panic!(
            "modules import each other in a circle:\n{}",
            circle.join("\n")
        );
    }
}

#[test]
fn the_check_finds_a_circle_through_a_use_group_a_super_path_and_an_inline_path() {
    let tree = vec![
        (
            "db/mod.rs".to_owned(),
            "//! Uses crate::http in a comment only.\nfn f() {}".to_owned(),
        ),
        (
            "domain/card.rs".to_owned(),
            "use crate::{db::ts, domain::{deposit, renovation::X}};\n".to_owned(),
        ),
        (
            "domain/deposit.rs".to_owned(),
            "fn f() { super::ledger::g(); }\n#[cfg(test)]\nmod tests { use crate::http; }"
                .to_owned(),
        ),
        (
            "domain/ledger.rs".to_owned(),
            "fn f() -> crate::domain::card::Card { todo!() }".to_owned(),
        ),
        ("domain/renovation.rs".to_owned(), String::new()),
        ("http/mod.rs".to_owned(), "use crate::db;".to_owned()),
    ];
    let graph = graph_of(&tree);
    assert_eq!(
        graph["domain::card"].keys().collect::<Vec<_>>(),
        ["db", "domain::deposit", "domain::renovation"]
    );
    assert!(graph["db"].is_empty(), "a comment is not an import");
    assert!(
        !graph["domain::deposit"].contains_key("http"),
        "test code is not read"
    );
    let circle = find_circle(&graph).expect("card → deposit → ledger → card is a circle");
    assert_eq!(circle.len(), 3, "{circle:?}");
    assert!(
        circle.iter().any(|e| e.contains("domain/ledger.rs:1")),
        "{circle:?}"
    );
    let mut broken = graph.clone();
    broken.get_mut("domain::ledger").unwrap().clear();
    assert_eq!(find_circle(&broken), None);
}

/// Every `.rs` file under `src` as (path relative to `src`, text), test-only files left out.
fn read_tree(src: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(src)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let test_only: BTreeSet<String> = files
        .iter()
        .flat_map(|(path, text)| {
            let dir = Path::new(path).parent().unwrap().to_path_buf();
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            lines
                .windows(2)
                .filter(|w| w[0] == "#[cfg(test)]")
                .filter_map(|w| w[1].strip_prefix("mod ")?.strip_suffix(';'))
                .map(|name| {
                    dir.join(format!("{name}.rs"))
                        .to_string_lossy()
                        .into_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    files.retain(|(path, _)| !test_only.contains(path));
    files
}

/// The module a file belongs to, or `None` for the crate roots.
fn module_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.trim_end_matches(".rs").split('/').collect();
    match parts.as_slice() {
        ["lib"] | ["main"] => None,
        ["domain", "mod"] => Some("domain".into()),
        ["domain", file] => Some(format!("domain::{file}")),
        [top, ..] => Some((*top).to_owned()),
        [] => None,
    }
}

fn graph_of(files: &[(String, String)]) -> Graph {
    let domain_files: BTreeSet<String> = files
        .iter()
        .filter_map(|(p, _)| p.strip_prefix("domain/")?.strip_suffix(".rs"))
        .filter(|name| *name != "mod" && !name.contains('/'))
        .map(str::to_owned)
        .collect();
    let target = |path: &[String]| -> Option<String> {
        match path {
            [first, second, ..] if first == "domain" && domain_files.contains(second) => {
                Some(format!("domain::{second}"))
            }
            [first, ..] => Some(first.clone()),
            [] => None,
        }
    };
    let mut graph = Graph::new();
    for (path, text) in files {
        let Some(module) = module_of(path) else {
            continue;
        };
        let in_domain = module.starts_with("domain::");
        let imports = graph.entry(module.clone()).or_default();
        for (number, line) in code_lines(text) {
            let mut found = Vec::new();
            for (i, _) in line.match_indices("crate::") {
                found.extend(use_paths(&line[i + "crate::".len()..]));
            }
            if in_domain {
                for (i, _) in line.match_indices("super::") {
                    let rest = &line[i + "super::".len()..];
                    if rest.starts_with("super::") {
                        continue;
                    }
                    found.extend(use_paths(rest).into_iter().map(|mut p| {
                        p.insert(0, "domain".into());
                        p
                    }));
                }
            }
            for p in found {
                if let Some(to) = target(&p).filter(|t| *t != module) {
                    imports
                        .entry(to)
                        .or_insert_with(|| format!("{path}:{number}"));
                }
            }
        }
    }
    graph
}

/// The lines of `text` that are code, numbered from 1: no comment lines, nothing from the
/// `#[cfg(test)]` test module on (it closes a file), and a multi-line `use` joined into one.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        if trimmed == "#[cfg(test)]" && next.starts_with("mod ") && next.contains('{') {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        match out.last_mut() {
            Some((_, joined)) if open => joined.push_str(trimmed),
            _ => out.push((i + 1, trimmed.to_owned())),
        }
        let joined = &out.last().unwrap().1;
        open = joined.starts_with("use ") || joined.starts_with("pub use ");
        open &= joined.matches('{').count() > joined.matches('}').count();
    }
    out
}

/// The paths named by the use tree at the start of `s`: `a::b`, `a::{b, c::d}`, `{a, b}`.
fn use_paths(s: &str) -> Vec<Vec<String>> {
    /// Reads one tree from the start of `s` below `prefix`; returns how many bytes it took.
    fn tree(s: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        let mut path = prefix.to_vec();
        let mut at = 0;
        loop {
            if s[at..].starts_with('{') {
                at += 1;
                loop {
                    at += s[at..].len() - s[at..].trim_start().len();
                    match s[at..].chars().next() {
                        Some('}') => return at + 1,
                        Some(',') => at += 1,
                        Some(_) => {
                            let used = tree(&s[at..], &path, out);
                            if used == 0 {
                                return at;
                            }
                            at += used;
                        }
                        None => return at,
                    }
                }
            }
            let ident = s[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(s.len() - at);
            if ident == 0 {
                return at;
            }
            path.push(s[at..at + ident].to_owned());
            at += ident;
            if s[at..].starts_with("::") {
                at += 2;
            } else {
                out.push(path);
                return at;
            }
        }
    }
    let mut out = Vec::new();
    tree(s, &[], &mut out);
    out
}

/// A circle of imports as lines `a → b (file:line)`, if there is one.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut circle: Vec<String> = stack[at..].to_vec();
            circle.push(node.to_owned());
            return Some(
                circle
                    .windows(2)
                    .map(|w| format!("{} → {} ({})", w[0], w[1], graph[&w[0]][&w[1]]))
                    .collect(),
            );
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(|m| m.keys()) {
            if graph.contains_key(next) {
                if let Some(c) = visit(next, graph, done, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}
