//! What a Python source names as modules: the edges of the import graph.
//!
//! The source is parsed with Ruff's parser, so an import is found wherever
//! it may run (module level, in a function, under `if` or `try:`) and never
//! in a string, a comment or a docstring, and an import spread over lines
//! (`from a import (\n b,\n c)`) reads as one. A source the parser cannot
//! read whole (Python 2, a newer grammar, a template) is also scanned line
//! by line, so what it may import is still found: a superset is harmless.
//!
//! Besides import statements, a source names modules in three ways the
//! interpreter acts on, each read here as evidence:
//! - a module name built at run time from a literal head
//!   (`import_module("encodings." + name)`, `f"_sysconfigdata_{abi}"`):
//!   every module under that head may be loaded;
//! - a string that names a module (`"dbm.gnu"`, `"graph" + "lib"`,
//!   `"logging.handlers.RotatingFileHandler"` in a config dict), in a
//!   source that imports by computed names;
//! - a codec named by a string (`.encode("idna")`, `encoding="cp1252"`,
//!   `codecs.lookup("rot13")`, an `ENCODING = "latin-1"` constant): the
//!   codec registry imports `encodings.<codec>` on first use.

use std::collections::BTreeSet;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    ExceptHandler, Expr, FStringPart, InterpolatedStringElement, Operator, PySourceType, Stmt,
};

/// What one source names.
#[derive(Debug, Default)]
pub(super) struct ModuleRefs {
    /// Modules it imports, dotted: `import a.b`; `from a.b import c` gives
    /// `a.b` and `a.b.c` (a submodule when it is one); `__import__("a")`,
    /// `import_module("a")`; relative imports resolved against the
    /// source's package when it is known.
    pub modules: BTreeSet<String>,
    /// Heads of module names built at run time: `encodings.`, `_sysconfigdata_`.
    pub prefixes: BTreeSet<String>,
    /// Strings that may name a module or an attribute of one: identifiers,
    /// dotted or not, written whole or as a sum of literals.
    pub strings: BTreeSet<String>,
    /// Whether the source imports by a name it computes
    /// (`__import__(name)`, `import_module(name)`): only then are its
    /// strings (`_names = ["dbm.gnu", "dbm.ndbm"]`, `name = "graph" +
    /// "lib"`) names it may import.
    pub imports_by_name: bool,
    /// Codec names as written: `utf-8`, `IDNA`, `cp1252`, and the
    /// source's own `# -*- coding: latin-1 -*-` (PEP 263).
    pub codecs: BTreeSet<String>,
    /// Whether a codec call passes a name computed at run time
    /// (`.decode(charset)`, `open(p, encoding=enc)`).
    pub codec_by_name: bool,
    /// Short literal strings (`"utf-16-be"`): the names a codec looked up
    /// by a computed name may be given, in a source that computes them
    /// from its own strings (json's `detect_encoding`).
    pub short_strings: BTreeSet<String>,
    /// `try: import a` / `except ImportError: import b`: the modules the
    /// `try:` imports, and those its handler imports instead (not in
    /// `modules`): needed only when one of the first is missing.
    pub fallbacks: Vec<(Vec<String>, BTreeSet<String>)>,
}

impl ModuleRefs {
    /// Every module the source may import, fallbacks included.
    pub(super) fn all_modules(&self) -> impl Iterator<Item = &String> {
        self.modules
            .iter()
            .chain(self.fallbacks.iter().flat_map(|(_, f)| f.iter()))
    }
}

/// Modules a Python source imports, dotted (relative imports left out).
pub(in crate::trace::runtime) fn imported_modules(source: &str) -> BTreeSet<String> {
    module_refs(source, None).all_modules().cloned().collect()
}

/// What `source` names; `package` is its package (`a.b` for `a/b/c.py`
/// and for `a/b/__init__.py`, empty for a top-level module), for
/// resolving relative imports, which are left out without it.
pub(super) fn module_refs(source: &str, package: Option<&str>) -> ModuleRefs {
    let parsed = ruff_python_parser::parse_unchecked_source(source, PySourceType::Python);
    let mut found = Found {
        package,
        refs: ModuleRefs::default(),
    };
    found.visit_body(&parsed.syntax().body);
    let mut refs = found.refs;
    refs.codecs.extend(coding_cookie(source));
    if !parsed.errors().is_empty() {
        refs.modules.extend(scan_lines(source));
    }
    refs
}

/// The references of a syntax tree.
struct Found<'p> {
    package: Option<&'p str>,
    refs: ModuleRefs,
}

/// Calls whose first string argument names a codec.
const CODEC_CALLS: &[&str] = &[
    "encode",
    "decode",
    "lookup",
    "getencoder",
    "getdecoder",
    "getincrementalencoder",
    "getincrementaldecoder",
    "getreader",
    "getwriter",
    "iterencode",
    "iterdecode",
];

/// Calls whose second argument names a codec: `str(b, "latin-1")`,
/// `codecs.encode(s, "rot13")`.
const CODEC_SECOND: &[&str] = &[
    "str",
    "bytes",
    "bytearray",
    "encode",
    "decode",
    "iterencode",
    "iterdecode",
];

impl Found<'_> {
    fn add(&mut self, dotted: &str) {
        if is_dotted_name(dotted) {
            self.refs.modules.insert(dotted.to_string());
        }
    }

    /// The package a relative import of `level` dots starts from.
    fn relative_base(&self, level: u32) -> Option<String> {
        let package = self.package?;
        let mut parts: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
        for _ in 1..level {
            parts.pop()?;
        }
        Some(parts.join("."))
    }

    /// A literal codec name, if `expr` is one; else a name computed at
    /// run time (`None` passes no name, the default).
    fn codec(&mut self, expr: Option<&Expr>) {
        match expr {
            Some(Expr::StringLiteral(s)) => {
                let name = s.value.to_str();
                if !name.is_empty() && name.len() <= 40 {
                    self.refs.codecs.insert(name.to_string());
                }
            }
            Some(Expr::NoneLiteral(_)) | None => {}
            Some(_) => self.refs.codec_by_name = true,
        }
    }

    fn import_from(&mut self, module: Option<&str>, level: u32, names: &[&str]) {
        let base = if level == 0 {
            module.map(str::to_string)
        } else {
            let Some(base) = self.relative_base(level) else {
                return;
            };
            match module {
                Some(m) if base.is_empty() => Some(m.to_string()),
                Some(m) => Some(format!("{base}.{m}")),
                None if base.is_empty() => None,
                None => Some(base),
            }
        };
        match base {
            Some(base) => {
                self.add(&base);
                for name in names.iter().filter(|n| **n != "*") {
                    self.add(&format!("{base}.{name}"));
                }
            }
            // `from . import x` at the top level: `x` is a top-level module.
            None => names.iter().for_each(|n| self.add(n)),
        }
    }
}

impl<'a> Visitor<'a> for Found<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            // A module that is imported (its package is known) never runs
            // its `if __name__ == "__main__":` block (its self-test, mostly).
            Stmt::If(i) if self.package.is_some() && is_main_test(&i.test) => {
                for clause in &i.elif_else_clauses {
                    self.visit_body(&clause.body);
                }
                return;
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    self.add(alias.name.as_str());
                }
            }
            Stmt::ImportFrom(i) => {
                let names: Vec<&str> = i.names.iter().map(|a| a.name.as_str()).collect();
                self.import_from(i.module.as_ref().map(|m| m.as_str()), i.level, &names);
            }
            Stmt::Try(tr) if !tr.is_star => {
                let required = statement_imports(&tr.body);
                let catches = |h: &ExceptHandler| {
                    let ExceptHandler::ExceptHandler(h) = h;
                    h.type_.as_deref().is_none_or(catches_import_error)
                };
                if !required.is_empty() && tr.handlers.iter().any(catches) {
                    self.visit_body(&tr.body);
                    for h in &tr.handlers {
                        let ExceptHandler::ExceptHandler(handler) = h;
                        if catches(h) {
                            let before = std::mem::take(&mut self.refs.modules);
                            self.visit_body(&handler.body);
                            let instead = std::mem::replace(&mut self.refs.modules, before);
                            self.refs.fallbacks.push((required.clone(), instead));
                        } else {
                            self.visit_body(&handler.body);
                        }
                    }
                    self.visit_body(&tr.orelse);
                    self.visit_body(&tr.finalbody);
                    return;
                }
            }
            // `DEFAULT_ENCODING = "latin-1"`: a constant named for a codec.
            Stmt::Assign(a) => {
                let named_codec = a.targets.iter().any(|t| match t {
                    Expr::Name(n) => {
                        let n = n.id.to_ascii_uppercase();
                        n.contains("ENCODING") || n.contains("CHARSET") || n.contains("CODEC")
                    }
                    _ => false,
                });
                if named_codec && matches!(a.value.as_ref(), Expr::StringLiteral(_)) {
                    self.codec(Some(&a.value));
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call) => {
                let callee = match call.func.as_ref() {
                    Expr::Name(n) => Some(n.id.as_str()),
                    Expr::Attribute(a) => Some(a.attr.as_str()),
                    _ => None,
                };
                let args = &call.arguments.args;
                if matches!(callee, Some("__import__" | "import_module")) {
                    match args.first().map(literal_head) {
                        Some(Some((head, true))) => self.add(&head),
                        Some(Some((head, false))) if !head.is_empty() => {
                            self.refs.prefixes.insert(head);
                        }
                        _ => {}
                    }
                }
                if callee.is_some_and(|c| CODEC_CALLS.contains(&c)) {
                    self.codec(args.first());
                }
                if callee.is_some_and(|c| CODEC_SECOND.contains(&c)) {
                    self.codec(args.get(1));
                }
                for kw in call.arguments.keywords.iter() {
                    if kw.arg.as_ref().is_some_and(|a| a.as_str() == "encoding") {
                        self.codec(Some(&kw.value));
                    }
                }
            }
            Expr::Name(n) if matches!(n.id.as_str(), "__import__" | "import_module") => {
                self.refs.imports_by_name = true;
            }
            Expr::Attribute(a) if a.attr.as_str() == "import_module" => {
                self.refs.imports_by_name = true;
            }
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                if text.len() <= 200 && is_dotted_name(text) {
                    self.refs.strings.insert(text.to_string());
                }
                if !text.is_empty() && text.len() <= 30 && !text.contains(char::is_whitespace) {
                    self.refs.short_strings.insert(text.to_string());
                }
            }
            Expr::FString(_) | Expr::BinOp(_) => {
                if let Some((whole, true)) = literal_head(expr) {
                    if whole.len() <= 200 && is_dotted_name(&whole) {
                        self.refs.strings.insert(whole);
                    }
                }
                // A name built at run time: keep its head when it ends
                // where a dynamic part follows a separator.
                if let Some((head, false)) = literal_head(expr) {
                    if head.len() >= 4
                        && (head.ends_with('.') || head.ends_with('_'))
                        && is_dotted_name(head.trim_end_matches(['.', '_']))
                    {
                        self.refs.prefixes.insert(head);
                    }
                }
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

/// The codec a source's first or second line declares (PEP 263:
/// `# -*- coding: latin-1 -*-`, `# vim: set fileencoding=cp1252 :`): the
/// interpreter decodes the source with it, and tracebacks (`linecache`)
/// read it with it.
fn coding_cookie(source: &str) -> Option<String> {
    for line in source.lines().take(2) {
        let line = line.trim_start();
        if !line.starts_with('#') {
            // A first line of code ends the search (PEP 263).
            if line.is_empty() {
                continue;
            }
            return None;
        }
        let Some(at) = line.find("coding") else {
            continue;
        };
        let rest = &line[at + "coding".len()..];
        let Some(rest) = rest.strip_prefix([':', '=']) else {
            continue;
        };
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if !name.is_empty() {
            return Some(name);
        }
    }
    None
}

/// The modules the import statements directly in `body` import first
/// (`import a.b` → `a.b`, `from a import b` → `a`); a relative import
/// gives `""`, which names no module.
fn statement_imports(body: &[Stmt]) -> Vec<String> {
    let mut out = Vec::new();
    for stmt in body {
        match stmt {
            Stmt::Import(i) => out.extend(i.names.iter().map(|a| a.name.to_string())),
            Stmt::ImportFrom(i) if i.level == 0 => {
                out.extend(i.module.iter().map(|m| m.to_string()));
            }
            Stmt::ImportFrom(_) => out.push(String::new()),
            _ => {}
        }
    }
    out
}

/// An `except` clause's type that catches a failed import.
fn catches_import_error(type_: &Expr) -> bool {
    match type_ {
        Expr::Name(n) => matches!(
            n.id.as_str(),
            "ImportError" | "ModuleNotFoundError" | "Exception" | "BaseException"
        ),
        Expr::Tuple(t) => t.elts.iter().any(catches_import_error),
        _ => false,
    }
}

/// `__name__ == "__main__"`, either way round.
fn is_main_test(test: &Expr) -> bool {
    let Expr::Compare(c) = test else {
        return false;
    };
    let sides = [Some(c.left.as_ref()), c.comparators.first()];
    let name = sides
        .iter()
        .any(|e| matches!(e, Some(Expr::Name(n)) if n.id.as_str() == "__name__"));
    let main = sides
        .iter()
        .any(|e| matches!(e, Some(Expr::StringLiteral(s)) if s.value.to_str() == "__main__"));
    c.ops.len() == 1 && c.ops[0] == ruff_python_ast::CmpOp::Eq && name && main
}

/// The literal text a string expression starts with, and whether that is
/// all of it: `"a"` is `("a", true)`; `"a." + x`, `f"a.{x}"`,
/// `"a.{}".format(x)` and `"a.%s" % x` are `("a.", false)`.
fn literal_head(expr: &Expr) -> Option<(String, bool)> {
    match expr {
        Expr::StringLiteral(s) => Some((s.value.to_str().to_string(), true)),
        Expr::FString(f) => {
            let mut head = String::new();
            for part in f.value.as_slice() {
                match part {
                    FStringPart::Literal(l) => head.push_str(&l.value),
                    FStringPart::FString(fs) => {
                        for element in &fs.elements {
                            match element {
                                InterpolatedStringElement::Literal(l) => head.push_str(&l.value),
                                InterpolatedStringElement::Interpolation(_) => {
                                    return Some((head, false))
                                }
                            }
                        }
                    }
                }
            }
            Some((head, true))
        }
        Expr::BinOp(b) if b.op == Operator::Add => match literal_head(&b.left) {
            // `"graph" + "lib"` is one literal.
            Some((head, true)) => match literal_head(&b.right) {
                Some((tail, whole)) => Some((head + &tail, whole)),
                None => Some((head, false)),
            },
            Some((head, false)) => Some((head, false)),
            None => None,
        },
        Expr::BinOp(b) if b.op == Operator::Mod => match b.left.as_ref() {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                Some((text.split('%').next().unwrap_or("").to_string(), false))
            }
            _ => None,
        },
        Expr::Call(call) => match call.func.as_ref() {
            Expr::Attribute(a) if a.attr.as_str() == "format" => match a.value.as_ref() {
                Expr::StringLiteral(s) => {
                    let text = s.value.to_str();
                    Some((text.split('{').next().unwrap_or("").to_string(), false))
                }
                _ => None,
            },
            _ => None,
        },
        _ => None,
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
