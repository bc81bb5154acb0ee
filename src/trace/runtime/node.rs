//! Node.js: the app's package (the nearest package.json above the entry
//! script) without its node_modules, then only its production dependencies:
//! `dependencies`, `optionalDependencies` and `peerDependencies` of each
//! package, resolved the way `require` does (node_modules of the requiring
//! package and its ancestors, then NODE_PATH and the global folders), plus
//! what the app's own code requires by name and every non-dev entry of an npm
//! lockfile (v2/v3). devDependencies are never followed. Native addons
//! (`.node`) and their libraries are traced as ELF.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::Value;

use super::{absolute_literals, Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::program::is_shared_object;
use crate::trace::tracer::Tracer;

/// Node's built-in modules: `require("fs")` names no file.
const BUILTIN: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// Global folders Node searches after node_modules (Debian adds its own).
const GLOBAL_FOLDERS: &[&str] = &[
    "usr/lib/node",
    "usr/local/lib/node",
    "usr/share/nodejs",
    "usr/lib/nodejs",
    "usr/lib/x86_64-linux-gnu/nodejs",
    "usr/lib/aarch64-linux-gnu/nodejs",
];

/// The script and preloaded modules of a node command line.
fn node_args(argv: &[String]) -> (Option<String>, Vec<String>, Vec<String>) {
    let mut script = None;
    let mut preload = Vec::new();
    let mut code = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if a.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next().cloned());
        match flag {
            "-r" | "--require" | "--import" | "--loader" | "--experimental-loader" => {
                preload.extend(value())
            }
            "-e" | "--eval" | "-p" | "--print" => code.extend(value()),
            "--input-type"
            | "--title"
            | "--env-file"
            | "--conditions"
            | "-C"
            | "--max-old-space-size" => {
                if inline.is_none() {
                    args.next();
                }
            }
            "--" => {
                script = args.next().cloned();
                break;
            }
            f if f.starts_with('-') => {}
            _ => {
                script = Some(a.clone());
                break;
            }
        }
        if !code.is_empty() {
            break;
        }
    }
    (script, preload, code)
}

/// Bare module names a JavaScript source requires or imports
/// (`require("x")`, `import ... from "x"`, `import("x")`), scoped names
/// whole (`@scope/pkg`), deep paths cut to the package (`lodash/fp` → `lodash`).
pub(super) fn required_packages(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for pat in ["require(", "from ", "import(", "import "] {
        for (i, _) in source.match_indices(pat) {
            let rest = source[i + pat.len()..].trim_start();
            let Some(q) = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))
            else {
                continue;
            };
            let Some(end) = rest[1..].find(q) else {
                continue;
            };
            let spec = &rest[1..1 + end];
            if spec.starts_with('.')
                || spec.starts_with('/')
                || spec.starts_with("node:")
                || spec.is_empty()
            {
                continue;
            }
            let mut parts = spec.split('/');
            let name = match parts.next() {
                Some(s) if s.starts_with('@') => format!("{s}/{}", parts.next().unwrap_or("")),
                Some(s) => s.to_string(),
                None => continue,
            };
            let valid = name
                .chars()
                .all(|c| c.is_alphanumeric() || "@/._-".contains(c));
            if valid && !BUILTIN.contains(&name.as_str()) {
                out.insert(name);
            }
        }
    }
    out
}

/// Production dependency names declared in a package.json.
fn production_dependencies(pkg: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
        if let Some(map) = pkg[field].as_object() {
            out.extend(map.keys().cloned());
        }
    }
    if let Some(list) = pkg["bundleDependencies"]
        .as_array()
        .or(pkg["bundledDependencies"].as_array())
    {
        out.extend(list.iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    out
}

#[derive(Default)]
pub(super) struct Node {
    /// Interpreters whose compiled-in module files are kept already.
    compiled_in: RefCell<BTreeSet<ImagePath>>,
}

impl Runtime for Node {
    fn runs(&self, base: &str) -> bool {
        base == "node" || base == "nodejs"
    }

    fn trace(&self, _inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        t.models_runtime(real, "libnode");
        self.compiled_in_files(t, real, "libnode");
        let (script, preload, code) = node_args(_inv.argv);
        let wd = t.run().working_dir();
        let mut requires: Vec<(String, ImagePath)> = Vec::new(); // (name, from dir)
        for p in preload {
            if p.starts_with('.') || p.starts_with('/') {
                if let Some(r) = t.real(&t.absolute(&p)) {
                    t.keep(&r, Reason::runtime("preloaded by", real));
                }
            } else {
                requires.push((p, wd.clone()));
            }
        }
        for c in code {
            requires.extend(required_packages(&c).into_iter().map(|n| (n, wd.clone())));
        }
        let entry = script.and_then(|s| node_entry(t, &t.absolute(&s), 0));
        let app_root = match &entry {
            Some(e) => {
                t.keep(e, Reason::runtime("script run by", real));
                package_root(t, e)
            }
            None => wd.clone(),
        };
        let why_app = Reason::runtime("Node.js application run by", real);
        let node_modules = app_root.join("node_modules");
        // The app's own code: its sources, or the entry script alone when
        // it lives in a system directory; the entry whatever its extension.
        let mut code: Vec<ImagePath> = Vec::new();
        if t.keep_app_dir(&app_root, &why_app, &|p| *p == node_modules) {
            code = t
                .fs()
                .descendants(&app_root)
                .map(|(p, _)| p.clone())
                .filter(|p| !p.starts_with(&node_modules))
                .filter(|p| {
                    [".js", ".mjs", ".cjs", ".ts"]
                        .iter()
                        .any(|x| p.as_str().ends_with(x))
                })
                .collect();
        }
        if let Some(e) = &entry {
            if !code.contains(e) {
                code.push(e.clone());
            }
        }
        for p in code {
            if let Some(text) = t.read_text(p.as_str()) {
                let from = p.parent();
                requires.extend(
                    required_packages(&text)
                        .into_iter()
                        .map(|n| (n, from.clone())),
                );
                t.keep_named_paths(absolute_literals(&text), &p);
            }
        }
        let manifest = app_root.join("package.json");
        if let Some(pkg) = t.read_json(&manifest) {
            t.keep(&manifest, why_app.clone());
            for d in production_dependencies(&pkg) {
                requires.push((d, app_root.clone()));
            }
        }
        dependencies(t, requires, &app_root);
        npm_lockfile(t, &app_root);
    }
}

impl Node {
    /// Files named by absolute path inside the runtime binary or its
    /// `lib_prefix*` library: Debian's node loads some built-in modules
    /// (acorn, undici, cjs-module-lexer) from /usr/share/nodejs at start.
    fn compiled_in_files(&self, t: &mut Tracer, real: &ImagePath, lib_prefix: &str) {
        if !self.compiled_in.borrow_mut().insert(real.clone()) {
            return;
        }
        for (object, s) in t.compiled_paths(real, lib_prefix) {
            let Some(file) = t.real(&s) else { continue };
            if t.is_file(&file) && !is_shared_object(&file) {
                t.keep_links(&s);
                t.keep(
                    &file,
                    Reason::runtime("a built-in module file named in", &object),
                );
            }
        }
    }
}

/// The directory of the nearest package.json above `entry` (its own
/// directory when there is none).
fn package_root(t: &Tracer, entry: &ImagePath) -> ImagePath {
    for dir in entry.ancestors() {
        if dir.is_root() {
            break;
        }
        if t.is_file(&dir.join("package.json")) {
            return dir;
        }
    }
    entry.parent()
}

/// Keep each required package and, transitively, its production dependencies.
fn dependencies(t: &mut Tracer, mut requires: Vec<(String, ImagePath)>, app_root: &ImagePath) {
    let mut seen = BTreeSet::new();
    while let Some((name, from)) = requires.pop() {
        let Some(dir) = resolve_package(t, &name, &from) else {
            if !is_optional(t, &name, app_root) {
                t.warn(format!(
                    "Node.js package {name:?} (required from {from}) is not installed in the image"
                ));
            }
            continue;
        };
        if !seen.insert(dir.clone()) {
            continue;
        }
        t.keep_tree_where(
            &dir,
            &Reason::runtime(format!("production dependency {name} of"), &from),
            &|_| false,
        );
        if let Some(pkg) = t.read_json(&dir.join("package.json")) {
            for d in production_dependencies(&pkg) {
                requires.push((d, dir.clone()));
            }
        }
    }
}

/// The file `node PATH` runs: PATH, PATH.js, or a directory's package.json `main` / index.js.
fn node_entry(t: &mut Tracer, abs: &str, depth: usize) -> Option<ImagePath> {
    if depth > 8 {
        t.warn(format!(
            "Node.js entry {abs}: package.json \"main\" fields loop"
        ));
        return None;
    }
    for candidate in [
        abs.to_string(),
        format!("{abs}.js"),
        format!("{abs}.mjs"),
        format!("{abs}.cjs"),
    ] {
        if let Some(r) = t.real(&candidate) {
            if t.is_file(&r) {
                return Some(r);
            }
            if t.is_dir(&r) {
                let main = t
                    .read_json(&r.join("package.json"))
                    .and_then(|p| p["main"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "index.js".into());
                let next = if main.starts_with('/') {
                    main
                } else {
                    format!("{r}/{main}")
                };
                return node_entry(t, &next, depth + 1);
            }
        }
    }
    t.warn(format!("Node.js script {abs} is not in the image"));
    None
}

/// `require(name)` from `from_dir`: node_modules up the tree, then NODE_PATH and the global folders.
fn resolve_package(t: &Tracer, name: &str, from_dir: &ImagePath) -> Option<ImagePath> {
    let mut dir = Some(from_dir.clone());
    while let Some(d) = dir {
        // node_modules/node_modules is never searched.
        if d.file_name() != "node_modules" {
            if let Some(found) = t.real(d.join("node_modules").join(name).as_str()) {
                if t.is_dir(&found) || t.is_file(&found) {
                    return Some(found);
                }
            }
        }
        dir = (!d.is_root()).then(|| d.parent());
    }
    let node_path = t.run().env_var("NODE_PATH").unwrap_or("").to_string();
    let home = t.home_dir();
    node_path
        .split(':')
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .chain([
            home.join(".node_modules").to_string(),
            home.join(".node_libraries").to_string(),
        ])
        .chain(GLOBAL_FOLDERS.iter().map(|s| format!("/{s}")))
        .find_map(|d| t.real(&format!("{d}/{name}")))
}

/// Whether the app declares `name` optional (a missing one is no error).
fn is_optional(t: &Tracer, name: &str, app_root: &ImagePath) -> bool {
    t.read_json(&app_root.join("package.json"))
        .is_some_and(|p| {
            p["optionalDependencies"].get(name).is_some()
                || p["peerDependenciesMeta"][name]["optional"] == true
        })
}

/// Keep every package an npm lockfile (v2/v3) records as not dev-only.
fn npm_lockfile(t: &mut Tracer, app_root: &ImagePath) {
    for name in [
        "npm-shrinkwrap.json",
        "package-lock.json",
        "node_modules/.package-lock.json",
    ] {
        let path = app_root.join(name);
        let Some(lock) = t.read_json(&path) else {
            continue;
        };
        let Some(packages) = lock["packages"].as_object() else {
            continue;
        };
        let why = Reason::runtime("production package in the lockfile", &path);
        for (key, entry) in packages {
            if key.is_empty() || entry["dev"] == true {
                continue;
            }
            let at = if key.starts_with('/') {
                key.clone()
            } else {
                format!("{app_root}/{key}")
            };
            if let Some(dir) = t.real(&at) {
                t.keep_tree_where(&dir, &why, &|_| false);
            }
        }
        return;
    }
}
