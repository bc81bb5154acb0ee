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

mod next;
mod resolve;
mod walk;

use super::{absolute_literals, Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::program::is_shared_object;
use crate::trace::tracer::Tracer;
use resolve::{find_package, required_packages};

/// A node command line: the script, preloaded modules, code given with
/// `-e`/`-p`, the script's own arguments, and `--run SCRIPT` (a
/// package.json script, as `npm run` runs it).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct NodeArgs {
    pub script: Option<String>,
    pub preload: Vec<String>,
    pub code: Vec<String>,
    pub rest: Vec<String>,
    pub run: Option<String>,
}

impl NodeArgs {
    pub fn parse(argv: &[String]) -> Self {
        let mut out = NodeArgs::default();
        let mut args = argv.iter().skip(1);
        while let Some(a) = args.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if a.starts_with("--") => (f, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next().cloned());
            match flag {
                "-r" | "--require" | "--import" | "--loader" | "--experimental-loader" => {
                    out.preload.extend(value())
                }
                "-e" | "--eval" | "-p" | "--print" => out.code.extend(value()),
                "--run" => {
                    out.run = value();
                    out.rest = args.by_ref().cloned().collect();
                    break;
                }
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
                    out.script = args.next().cloned();
                    out.rest = args.by_ref().cloned().collect();
                    break;
                }
                f if f.starts_with('-') => {}
                _ => {
                    out.script = Some(a.clone());
                    out.rest = args.by_ref().cloned().collect();
                    break;
                }
            }
            if !out.code.is_empty() {
                break;
            }
        }
        out
    }
}

/// Production dependency names declared in a package.json.
pub(in crate::trace::runtime) fn production_dependencies(pkg: &Value) -> Vec<String> {
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

    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        t.models_runtime(real, "libnode");
        self.compiled_in_files(t, real, "libnode");
        let NodeArgs {
            script,
            preload,
            code,
            rest,
            run,
        } = NodeArgs::parse(inv.argv);
        if let Some(name) = run {
            // `node --run NAME`: a package.json script, as npm runs it.
            super::scripts::run_package_script(t, inv, "node --run", &name, &rest);
            return;
        }
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
        if let Some(e) = &entry {
            if let Some(project) = next::start_project(t, e, &rest) {
                t.keep(e, Reason::runtime("script run by", real));
                next::trace_start(t, &project, e);
                return;
            }
            if let Some(root) = next::standalone_root(t, e) {
                t.keep(e, Reason::runtime("script run by", real));
                next::trace_standalone(t, &root, real);
                return;
            }
        }
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
        dependencies(t, requires);
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

/// Keep each required package and, transitively, its production
/// dependencies (`requires`: a name and the directory requiring it); a
/// package missing from the image is reported unless the package that
/// declares it makes it optional.
pub(in crate::trace::runtime) fn dependencies(
    t: &mut Tracer,
    mut requires: Vec<(String, ImagePath)>,
) {
    let mut seen = BTreeSet::new();
    while let Some((name, from)) = requires.pop() {
        let Some((dir, found_as)) = find_package(t, &name, &from) else {
            if !is_optional(t, &name, &from) {
                t.warn(format!(
                    "Node.js package {name:?} (required from {from}) is not installed in the image"
                ));
            }
            continue;
        };
        t.keep_links(&found_as);
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
        } else if t.is_file(&dir) {
            // A one-file package has no manifest: what it requires is what it needs.
            let source = t.read_text(dir.as_str()).unwrap_or_default();
            for d in resolve::required_packages(&source) {
                requires.push((d, dir.parent()));
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

/// Whether the package at `dir` (or the nearest one above it) declares
/// `name` optional, or only a peer it does not load itself: a missing one
/// is no error.
fn is_optional(t: &Tracer, name: &str, dir: &ImagePath) -> bool {
    let pkg = std::iter::once(dir.clone())
        .chain(dir.ancestors())
        .find_map(|d| t.read_json(&d.join("package.json")));
    pkg.is_some_and(|p| {
        p["optionalDependencies"].get(name).is_some()
            || p["peerDependenciesMeta"][name]["optional"] == true
            || (p["peerDependencies"].get(name).is_some() && p["dependencies"].get(name).is_none())
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
