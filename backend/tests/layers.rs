//! The backend's layers point one way, and no modules import each other in a cycle, in the
//! backend, the core or `shared`.
//!
//! Reads every source file of `backend/src`, finds the modules each imports through `crate::`
//! and `super::` paths (comments and test modules aside), and checks two rules that
//! ARCHITECTURE.md states:
//! - a module never imports from a layer above its own: base (`clock`, `error`, `metrics`) →
//!   store → services → http → app (`lib.rs`, `main.rs`, `config`, `check`, `import`, `demo`);
//! - no two modules import each other, directly or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of a module, by its path under `src` (`services/cases/list`).
fn layer(module: &str) -> (usize, &'static str) {
    let top = module.split('/').next().unwrap_or(module);
    match top {
        "clock" | "error" | "metrics" => (0, "base"),
        "store" => (1, "store"),
        "services" => (2, "services"),
        "http" => (3, "http"),
        _ => (4, "app"),
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `services/cases` for `services/cases.rs` or
/// `services/cases/mod.rs`, `lib` for the crate root.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let rel = rel.to_string_lossy().replace('\\', "/");
    rel.strip_suffix("/mod").map(str::to_owned).unwrap_or(rel)
}

/// The code of a file without its comments and its `#[cfg(test)]` modules: what the build
/// of the server itself imports.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `a::b::c` path that follows `prefix` in `code`, split into segments.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    code.match_indices(prefix)
        .filter(|(i, _)| {
            // `crate::` must start a path, not end an identifier such as `my_crate::`.
            *i == 0
                || !code[..*i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            rest[..end].split("::").filter(|s| !s.is_empty()).collect()
        })
        .collect()
}

/// The longest known module that `segments` (from the crate root) names.
fn resolve(modules: &BTreeSet<String>, segments: &[&str]) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("/"))
        .find(|candidate| modules.contains(candidate))
}

/// The source folder of the workspace's crate in `dir` (`backend`, `core`, `shared`).
fn src_of(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(dir)
        .join("src")
}

/// Each module's imports of other modules (not of its own submodules or its ancestors), in
/// the crate whose sources are in `src`.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let code = code_of(&std::fs::read_to_string(file).expect("read a source file"));
        let mut targets = BTreeSet::new();
        for segments in paths_after(&code, "crate::") {
            targets.extend(resolve(&modules, &segments));
        }
        // `super::x` from `a/b` (a file) names `a/x`; from the crate's `main` it is not used.
        let parent: Vec<&str> = module.split('/').collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        for segments in paths_after(&code, "super::") {
            let full: Vec<&str> = parent.iter().copied().chain(segments).collect();
            targets.extend(resolve(&modules, &full));
        }
        let own = |t: &String| {
            t == &module
                || t.starts_with(&format!("{module}/"))
                || module.starts_with(&format!("{t}/"))
        };
        targets.retain(|t| !own(t) && t != "lib" && t != "main");
        graph.insert(module, targets);
    }
    graph
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let graph = imports(&src_of("backend"));
    assert!(graph.len() > 40, "the source tree was not found: {graph:?}");
    let mut wrong = Vec::new();
    for (module, targets) in &graph {
        let (own, own_name) = layer(module);
        for target in targets {
            let (theirs, their_name) = layer(target);
            if theirs > own {
                wrong.push(format!(
                    "{module} ({own_name}) imports {target} ({their_name})"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from a layer above:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_modules_import_each_other_in_a_cycle() {
    for (krate, least) in [("backend", 40), ("core", 8), ("shared", 8)] {
        let graph = imports(&src_of(krate));
        assert!(
            graph.len() >= least,
            "{krate}: the source tree was not found"
        );
        let cycles = cycles_of(&graph);
        assert!(
            cycles.is_empty(),
            "{krate}: modules that import each other: {cycles:?}"
        );
    }
}

/// The groups of modules that import each other, directly or through others.
fn cycles_of(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<&str>> {
    // Tarjan's strongly connected components: a component of two or more is a cycle.
    struct Search<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        cycles: Vec<Vec<&'a str>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let lw = self.low[w.as_str()];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.stack.contains(&w.as_str()) {
                    let iw = self.index[w.as_str()];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_unstable();
                    self.cycles.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        cycles: Vec::new(),
    };
    for v in graph.keys() {
        if !search.index.contains_key(v.as_str()) {
            search.visit(v);
        }
    }
    search.cycles
}

#[test]
fn the_checks_see_a_violation_when_there_is_one() {
    // The parser on a made-up file: a store module naming the HTTP layer, in code and not in a
    // comment or a test module.
    let code = code_of(
        "use crate::http::api::WallView;\n// crate::services::auth in a comment\n#[cfg(test)]\nmod tests { use crate::services::cases; }",
    );
    let found = paths_after(&code, "crate::");
    assert_eq!(found, vec![vec!["http", "api", "WallView"]]);
    let modules: BTreeSet<String> = ["http", "http/api"].map(str::to_owned).into();
    assert_eq!(resolve(&modules, &found[0]).as_deref(), Some("http/api"));
    assert!(layer("http/api").0 > layer("store/city").0);
    // And a cycle is found as one.
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, ts)| (m.to_owned(), ts.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles_of(&graph), vec![vec!["a", "b", "c"]]);
}
