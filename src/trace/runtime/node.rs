//! Node.js: the app's package (the nearest package.json above the entry
//! script) without its node_modules, then only its production dependencies:
//! `dependencies`, `optionalDependencies` and `peerDependencies` of each
//! package, resolved the way `require` does (node_modules of the requiring
//! package and its ancestors, then NODE_PATH and the global folders), plus
//! what the app's own code requires by name and every non-dev entry of an npm
//! lockfile (v2/v3). devDependencies are never followed. Native addons
//! (`.node`) and their libraries are traced as ELF.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{absolute_literals, join, parent, Invocation, Tracer};
use crate::keep::Reason;

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

impl Tracer<'_> {
    pub(super) fn node(&mut self, inv: &Invocation, real: &str) {
        self.compiled_in_files(real, "libnode");
        let (script, preload, code) = node_args(inv.argv);
        let mut requires: Vec<(String, String)> = Vec::new(); // (name, from dir)
        let wd = crate::trace::image::rel(&self.run.working_dir).to_string();
        for p in preload {
            if p.starts_with('.') || p.starts_with('/') {
                if let Some(r) = self.real(&self.absolute(&p)) {
                    self.keep.insert(&r, Reason::runtime("preloaded by", real));
                }
            } else {
                requires.push((p, wd.clone()));
            }
        }
        for c in code {
            requires.extend(required_packages(&c).into_iter().map(|n| (n, wd.clone())));
        }
        let entry = script.and_then(|s| self.node_entry(&self.absolute(&s), 0));
        let app_root = match &entry {
            Some(e) => {
                self.keep.insert(e, Reason::runtime("script run by", real));
                let mut dir = parent(e).to_string();
                loop {
                    if self.is_file(&join(&dir, "package.json")) || dir.is_empty() {
                        break;
                    }
                    dir = parent(&dir).to_string();
                }
                if dir.is_empty() {
                    parent(e).to_string()
                } else {
                    dir
                }
            }
            None => wd.clone(),
        };
        let why_app = Reason::runtime("Node.js application run by", real);
        let node_modules = format!("{app_root}/node_modules");
        let skip = |p: &str| p == node_modules;
        // The app's own code: its sources, or the entry script alone when
        // it lives in a system directory; the entry whatever its extension.
        let mut code: Vec<String> = Vec::new();
        if self.keep_app_dir(&app_root, &why_app, &skip) {
            code = self
                .fs
                .descendants(&app_root)
                .map(|(p, _)| p.clone())
                .filter(|p| !p.starts_with(&format!("{node_modules}/")) && *p != node_modules)
                .filter(|p| {
                    [".js", ".mjs", ".cjs", ".ts"]
                        .iter()
                        .any(|x| p.ends_with(x))
                })
                .collect();
        }
        code.extend(
            entry
                .iter()
                .filter(|e| !code.contains(e))
                .cloned()
                .collect::<Vec<_>>(),
        );
        for p in code {
            if let Some(text) = self.read_text(&format!("/{p}")) {
                let from = parent(&p).to_string();
                requires.extend(
                    required_packages(&text)
                        .into_iter()
                        .map(|n| (n, from.clone())),
                );
                self.keep_named_paths(absolute_literals(&text), &p);
            }
        }
        let manifest = join(&app_root, "package.json");
        if let Some(pkg) = self.read_json(&manifest) {
            self.keep.insert(&manifest, why_app.clone());
            for d in production_dependencies(&pkg) {
                requires.push((d, app_root.clone()));
            }
        }
        let mut seen = BTreeSet::new();
        while let Some((name, from)) = requires.pop() {
            let Some(dir) = self.resolve_package(&name, &from) else {
                if !self.is_optional(&name, &app_root) {
                    self.warnings.push(format!(
                        "Node.js package {name:?} (required from /{from}) is not installed in the image"
                    ));
                }
                continue;
            };
            if !seen.insert(dir.clone()) {
                continue;
            }
            self.keep_tree_where(
                &dir,
                &Reason::runtime(format!("production dependency {name} of"), from.as_str()),
                &|_| false,
            );
            if let Some(pkg) = self.read_json(&join(&dir, "package.json")) {
                for d in production_dependencies(&pkg) {
                    requires.push((d, dir.clone()));
                }
            }
        }
        self.npm_lockfile(&app_root);
    }

    /// Files named by absolute path inside the runtime binary or its
    /// `lib_prefix*` library: Debian's node loads some built-in modules
    /// (acorn, undici, cjs-module-lexer) from /usr/share/nodejs at start.
    fn compiled_in_files(&mut self, real: &str, lib_prefix: &str) {
        if !self.done.insert(format!("compiled-in files of {real}")) {
            return;
        }
        for (object, s) in self.compiled_paths(real, lib_prefix) {
            let Some(file) = self.real(&s) else { continue };
            if self.is_file(&file) && !crate::trace::image::is_shared_object(&file) {
                self.keep_links(&s);
                let why = Reason::runtime("a built-in module file named in", object.as_str());
                self.keep.insert(&file, why);
            }
        }
    }

    /// The file `node PATH` runs: PATH, PATH.js, or a directory's package.json `main` / index.js.
    fn node_entry(&mut self, abs: &str, depth: usize) -> Option<String> {
        if depth > 8 {
            self.warnings.push(format!(
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
            if let Some(r) = self.real(&candidate) {
                if self.is_file(&r) {
                    return Some(r);
                }
                if self.is_dir(&r) {
                    let main = self
                        .read_json(&join(&r, "package.json"))
                        .and_then(|p| p["main"].as_str().map(str::to_string))
                        .unwrap_or_else(|| "index.js".into());
                    return self.node_entry(&format!("/{}", join(&r, &main)), depth + 1);
                }
            }
        }
        self.warnings
            .push(format!("Node.js script {abs} is not in the image"));
        None
    }

    /// `require(name)` from `from_dir`: node_modules up the tree, then NODE_PATH and the global folders.
    fn resolve_package(&self, name: &str, from_dir: &str) -> Option<String> {
        let mut dir = from_dir.to_string();
        loop {
            let base = if dir.ends_with("/node_modules") || dir == "node_modules" {
                None // node_modules/node_modules is never searched
            } else {
                Some(join(&dir, "node_modules"))
            };
            if let Some(found) = base.and_then(|b| self.real(&format!("/{b}/{name}"))) {
                if self.is_dir(&found) || self.is_file(&found) {
                    return Some(found);
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = parent(&dir).to_string();
        }
        let node_path = self.run.env_var("NODE_PATH").unwrap_or("").to_string();
        let home = self.home_dir();
        node_path
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| crate::trace::image::rel(d).to_string())
            .chain([join(&home, ".node_modules"), join(&home, ".node_libraries")])
            .chain(GLOBAL_FOLDERS.iter().map(|s| s.to_string()))
            .find_map(|d| self.real(&format!("/{d}/{name}")))
    }

    /// Whether the app declares `name` optional (a missing one is no error).
    fn is_optional(&self, name: &str, app_root: &str) -> bool {
        self.read_json(&join(app_root, "package.json"))
            .is_some_and(|p| {
                p["optionalDependencies"].get(name).is_some()
                    || p["peerDependenciesMeta"][name]["optional"] == true
            })
    }

    /// Keep every package an npm lockfile (v2/v3) records as not dev-only.
    fn npm_lockfile(&mut self, app_root: &str) {
        for name in [
            "npm-shrinkwrap.json",
            "package-lock.json",
            "node_modules/.package-lock.json",
        ] {
            let path = join(app_root, name);
            let Some(lock) = self.read_json(&path) else {
                continue;
            };
            let Some(packages) = lock["packages"].as_object() else {
                continue;
            };
            let why = Reason::runtime("production package in the lockfile", path.as_str());
            for (key, entry) in packages {
                if key.is_empty() || entry["dev"] == true {
                    continue;
                }
                if let Some(dir) = self.real(&format!("/{}", join(app_root, key))) {
                    self.keep_tree_where(&dir, &why, &|_| false);
                }
            }
            return;
        }
    }

    fn read_json(&self, rel_path: &str) -> Option<Value> {
        serde_json::from_str(&self.read_text(&format!("/{rel_path}"))?).ok()
    }
}
