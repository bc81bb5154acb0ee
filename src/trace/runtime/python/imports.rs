//! Which modules a Python source imports: the edges of the import graph.
//!
//! The source is parsed with Ruff's parser, so an import is found wherever
//! it may run (module level, in a function, under `if` or `try:`) and never
//! in a string, a comment or a docstring, and an import spread over lines
//! (`from a import (\n b,\n c)`) reads as one. A source the parser cannot
//! read whole (Python 2, a newer grammar, a template) is also scanned line
//! by line, so what it may import is still found: a superset is harmless.

use std::collections::BTreeSet;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, PySourceType, Stmt};

/// Modules a Python source imports, dotted: `import a.b`, `from a.b import
/// c` (`a.b`, and `a.b.c`, which is a submodule when it is one),
/// `__import__("a")`, `importlib.import_module("a")`. Relative imports stay
/// inside their package and are left out.
pub(super) fn imported_modules(source: &str) -> BTreeSet<String> {
    let parsed = ruff_python_parser::parse_unchecked_source(source, PySourceType::Python);
    let mut found = Found::default();
    found.visit_body(&parsed.syntax().body);
    let mut out = found.modules;
    if !parsed.errors().is_empty() {
        out.extend(scan_lines(source));
    }
    out
}

/// The imports of a syntax tree.
#[derive(Default)]
struct Found {
    modules: BTreeSet<String>,
}

impl Found {
    fn add(&mut self, dotted: &str) {
        if is_dotted_name(dotted) {
            self.modules.insert(dotted.to_string());
        }
    }
}

impl<'a> Visitor<'a> for Found {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for alias in &i.names {
                    self.add(alias.name.as_str());
                }
            }
            Stmt::ImportFrom(i) if i.level == 0 => {
                if let Some(module) = &i.module {
                    self.add(module.as_str());
                    for alias in i.names.iter().filter(|a| a.name.as_str() != "*") {
                        self.add(&format!("{}.{}", module.as_str(), alias.name.as_str()));
                    }
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr {
            let callee = match call.func.as_ref() {
                Expr::Name(n) => Some(n.id.as_str()),
                Expr::Attribute(a) => Some(a.attr.as_str()),
                _ => None,
            };
            if matches!(callee, Some("__import__" | "import_module")) {
                if let Some(Expr::StringLiteral(s)) = call.arguments.args.first() {
                    self.add(s.value.to_str());
                }
            }
        }
        visitor::walk_expr(self, expr);
    }
}

/// `a.b.c`: identifiers joined by dots.
fn is_dotted_name(dotted: &str) -> bool {
    dotted.split('.').all(|c| {
        !c.is_empty()
            && c.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
            && !c.starts_with(|ch: char| ch.is_ascii_digit())
    })
}

/// What a line-by-line reading finds: the fallback for a source the parser
/// could not read whole.
fn scan_lines(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |dotted: &str| {
        let dotted = dotted.trim();
        if is_dotted_name(dotted) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: &str) -> Vec<String> {
        imported_modules(source).into_iter().collect()
    }

    #[test]
    fn imports_wherever_they_may_run_and_nowhere_else() {
        let source = r#"
"""Docstring: import not_a_module"""
import os, xml.dom as dom
from email.mime import (
    text,
    multipart as mp,
)
from . import sibling
from .pkg import thing
from json import *
# import commented_out
s = "import in_a_string"

def later():
    import plugin_in_a_function
    return __import__("by_dunder")

class C:
    if TYPE_CHECKING:
        from typing_only import T

try:
    import cPickle as pickle
except ImportError:
    import pickle

importlib.import_module("by.name")
import_module(variable)
"#;
        assert_eq!(
            found(source),
            [
                "by.name",
                "by_dunder",
                "cPickle",
                "email.mime",
                "email.mime.multipart",
                "email.mime.text",
                "json",
                "os",
                "pickle",
                "plugin_in_a_function",
                "typing_only",
                "typing_only.T",
                "xml.dom",
            ]
        );
    }

    #[test]
    fn a_source_the_parser_cannot_read_is_scanned_line_by_line() {
        // Python 2: a print statement, then imports the parser may lose.
        let source = "print 'hello'\nimport urllib2\nexec 'x'\nfrom StringIO import StringIO\n";
        let modules = found(source);
        assert!(modules.contains(&"urllib2".to_string()), "{modules:?}");
        assert!(modules.contains(&"StringIO".to_string()), "{modules:?}");
    }
}
