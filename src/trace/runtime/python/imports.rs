//! Which modules a Python source imports: the edges of the import graph.

use std::collections::BTreeSet;

/// Modules a Python source imports, dotted (`import a.b`, `from a.b import
/// c`, `__import__("a")`, `importlib.import_module("a")`). Line based, so
/// imports inside functions and `try:` blocks count too; relative imports
/// stay inside their package and are left out. A superset is harmless here.
pub(super) fn imported_modules(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |dotted: &str| {
        let dotted = dotted.trim();
        let valid = dotted.split('.').all(|c| {
            !c.is_empty()
                && c.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
                && !c.starts_with(|ch: char| ch.is_ascii_digit())
        });
        if valid {
            out.insert(dotted.to_string());
        }
    };
    for line in source.lines() {
        let code = line.split('#').next().unwrap_or("");
        for stmt in code.split(';') {
            let stmt = stmt.trim();
            if let Some(rest) = stmt.strip_prefix("import ") {
                for part in rest.split(',') {
                    add(part.split_whitespace().next().unwrap_or(""));
                }
            } else if let Some(rest) = stmt.strip_prefix("from ") {
                if let Some((module, _)) = rest.split_once(" import") {
                    if !module.trim().starts_with('.') {
                        add(module);
                    }
                }
            }
        }
        for call in ["__import__(", "import_module("] {
            for (i, _) in code.match_indices(call) {
                let arg = code[i + call.len()..].trim_start();
                if let Some(q) = arg.chars().next().filter(|c| *c == '"' || *c == '\'') {
                    if let Some(end) = arg[1..].find(q) {
                        add(&arg[1..1 + end]);
                    }
                }
            }
        }
    }
    out
}

/// Top-level module names a Python source imports.
pub(in crate::trace::runtime) fn imports(source: &str) -> BTreeSet<String> {
    imported_modules(source)
        .into_iter()
        .map(|d| d.split('.').next().unwrap_or("").to_string())
        .collect()
}
