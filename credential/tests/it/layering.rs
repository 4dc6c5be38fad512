//! The credential crate stays small: no async runtime, web framework, database or GPIO
//! library anywhere in its dependency tree (ARCHITECTURE.md), so every program and any
//! independent verifier can embed it.

use std::collections::{BTreeSet, HashMap};

#[test]
fn no_runtime_web_database_or_gpio_crate_in_the_dependency_tree() {
    let lock: toml::Table = include_str!("../../../Cargo.lock").parse().unwrap();
    let packages = lock["package"].as_array().unwrap();
    let deps: HashMap<&str, Vec<&str>> = packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            let list = p
                .get("dependencies")
                .and_then(|d| d.as_array())
                .map(|d| {
                    d.iter()
                        .map(|x| x.as_str().unwrap().split(' ').next().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            (name, list)
        })
        .collect();
    // Normal dependencies only: walk from the crate's own [dependencies].
    let manifest: toml::Table = include_str!("../../Cargo.toml").parse().unwrap();
    let mut todo: Vec<&str> = manifest["dependencies"]
        .as_table()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name) {
            todo.extend(deps.get(name).into_iter().flatten().copied());
        }
    }
    assert!(seen.contains("ed25519-dalek"), "walked the tree: {seen:?}");
    for forbidden in [
        "tokio",
        "axum",
        "hyper",
        "rusqlite",
        "rppal",
        "serialport",
        "reqwest",
    ] {
        assert!(
            !seen.contains(forbidden),
            "credential depends on {forbidden}"
        );
    }
}
