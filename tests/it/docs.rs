//! The product docs against the code: every API route, config key, environment variable and
//! deploy-script flag that a README, ARCHITECTURE.md, a BENCHMARKS.md or the installer's guide
//! names must exist as written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The product docs, from the workspace root.
const DOCS: [&str; 9] = [
    "README.md",
    "ARCHITECTURE.md",
    "BENCHMARKS.md",
    "credential/FORMAT.md",
    "server/README.md",
    "gate-controller/README.md",
    "gate-controller/BENCHMARKS.md",
    "kiosk/README.md",
    "deploy/OPERATIONS.md",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The code a doc shows: its inline `code` spans and the lines of its fenced blocks (not Rust
/// blocks, which are examples of code to write), each with the doc and line it came from.
fn code(doc: &str) -> Vec<(String, String)> {
    crate::flags::markdown_spans(doc, &read(doc))
        .into_iter()
        .map(|s| (s.place, s.text))
        .collect()
}

/// Whether a path segment stands for a parameter: `{id}`, `<id>`, `:id`.
fn is_param(seg: &str) -> bool {
    seg.starts_with('{') || seg.starts_with('<') || seg.starts_with(':')
}

/// Whether the path a doc gives is served by the route `pattern`: a parameter of the route
/// takes any segment (`/api/v1/areas/lobby` is `/api/v1/areas/{area}`).
fn serves(pattern: &str, path: &str) -> bool {
    let (p, d): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == d.len() && p.iter().zip(&d).all(|(p, d)| p == d || is_param(p))
}

/// `/a/{b|c}/d` as the paths it stands for, `/a/b/d` and `/a/c/d`.
fn alternatives(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for (i, seg) in path.split('/').enumerate() {
        let choices: Vec<&str> = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(inner) if inner.contains('|') => inner.split('|').collect(),
            _ => vec![seg],
        };
        out = out
            .iter()
            .flat_map(|p| {
                choices.iter().map(move |c| {
                    if i == 0 {
                        c.to_string()
                    } else {
                        format!("{p}/{c}")
                    }
                })
            })
            .collect();
    }
    out
}

#[test]
fn every_api_route_the_docs_name_is_served() {
    // The server's routes from its generated table; the kiosk's local API from its router.
    let server: Vec<String> = read("server/docs/ROUTES.md")
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split('`').nth(1).map(str::to_owned))
        .collect();
    assert!(server.len() > 50, "ROUTES.md lists the routes: {server:?}");
    let kiosk: Vec<String> = read("kiosk/src/web/mod.rs")
        .split(".route(\"")
        .skip(1)
        .filter_map(|r| r.split('"').next().map(str::to_owned))
        .collect();
    assert!(kiosk.len() > 5, "the kiosk's router: {kiosk:?}");
    let mut missing = Vec::new();
    for doc in DOCS {
        for (place, span) in code(doc) {
            for (i, _) in span.match_indices("/api/") {
                let path: String = span[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "/{}_-.:<>|".contains(*c))
                    .collect();
                let path = path.trim_end_matches(['.', ':', '/']);
                // The API as a whole, or a family of routes (`/api/v1/gate/…`), names no route.
                if path == "/api/v1" || path == "/api" || span[i + path.len()..].starts_with('…')
                {
                    continue;
                }
                for path in alternatives(path) {
                    if !server.iter().chain(&kiosk).any(|r| serves(r, &path)) {
                        missing.push(format!("{place}: {path}"));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes the docs name that neither the server (server/docs/ROUTES.md) nor the kiosk \
         serves:\n{}",
        missing.join("\n")
    );
}

/// The config sources whose serde field names are the keys of the programs' TOML files.
const CONFIG_SOURCES: [&str; 4] = [
    "server/src/config.rs",
    "kiosk/src/config.rs",
    "gate-controller/src/config.rs",
    "credential/src/keys.rs",
];

/// The model filters of a Raspberry Pi's `config.txt`, which the installer's guide shows.
const PI_FILTERS: [&str; 8] = ["all", "none", "pi3", "pi4", "pi400", "pi5", "cm4", "cm5"];

#[test]
fn every_config_key_the_docs_name_is_read_by_a_program() {
    let sources: String = CONFIG_SOURCES.iter().map(|s| read(s)).collect();
    let mut unknown = Vec::new();
    for doc in DOCS {
        for (place, span) in code(doc) {
            // `[section] key = value` or `[section] key`: a key the docs tell an installer to set.
            let Some(rest) = span.trim().strip_prefix('[') else {
                continue;
            };
            let Some((section, after)) = rest.split_once(']') else {
                continue;
            };
            let key = after
                .split(['=', ' ', ','])
                .find(|w| !w.is_empty())
                .unwrap_or_default();
            let is_name = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            };
            let section = section.trim_matches(['[', ']']);
            // The Raspberry Pi's config.txt has sections too (`[pi5] dtparam=…`).
            if !is_name(section) || PI_FILTERS.contains(&section) {
                continue;
            }
            for name in [section, key] {
                if is_name(name)
                    && !sources.contains(&format!("{name}:"))
                    && !sources.contains(&format!("\"{name}\""))
                {
                    unknown.push(format!("{place}: [{section}] {key}: `{name}`"));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "config sections and keys the docs name that no program reads:\n{}",
        unknown.join("\n")
    );
}

/// The text of every source, script and deploy file of the workspace (not the docs).
fn sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "docs" {
                    walk(&path, out);
                }
            } else if !name.ends_with(".md")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push_str(&text);
            }
        }
    }
    let mut out = String::new();
    walk(&root(), &mut out);
    out
}

#[test]
fn every_environment_variable_the_docs_name_is_read_somewhere() {
    let sources = sources();
    let mut unknown = BTreeSet::new();
    for doc in DOCS {
        for (n, line) in read(doc).lines().enumerate() {
            for (i, _) in line.match_indices("GATEHOUSE_") {
                let name: String = line[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let name = name.trim_end_matches('_');
                if !sources.contains(name) {
                    unknown.insert(format!("{doc}:{}: {name}", n + 1));
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "environment variables the docs name that nothing reads:\n{}",
        unknown.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_flag_the_docs_give_a_deploy_script_is_one_it_takes() {
    let scripts = [
        "deploy/install-pi.sh",
        "deploy/gate-boot-config.sh",
        "deploy/cross-build.sh",
        "deploy/udev/pin-rules.sh",
    ];
    let mut wrong = Vec::new();
    for script in scripts {
        let text = read(script);
        let name = script.rsplit('/').next().unwrap();
        for doc in DOCS {
            for (place, span) in code(doc) {
                for (i, _) in span.match_indices(name) {
                    let own = span[i + name.len()..]
                        .split(['|', ';', '&', ')'])
                        .next()
                        .unwrap_or_default();
                    for word in own.split(|c: char| c.is_whitespace() || "[]/".contains(c)) {
                        let flag = word.split('=').next().unwrap_or_default();
                        if flag.starts_with("--") && flag.len() > 2 && !text.contains(flag) {
                            wrong.push(format!("{place}: {name} {flag}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "flags the docs give that the script does not take:\n{}",
        wrong.join("\n")
    );
}
