//! Python: the interpreter's standard library and extension modules, the
//! directories `sys.path` gets (the script's directory, PYTHONPATH, a
//! virtualenv's or the system's site directories, `.pth` entries), the app,
//! and of the installed third-party packages only those the app's import
//! graph reaches (every package with `--no-import-graph`).
//!
//! The search mirrors CPython's startup (Modules/getpath.py, Lib/site.py):
//! the prefix is the nearest ancestor of the real executable holding
//! `lib/pythonX.Y/os.py`; a `pyvenv.cfg` next to the invoked executable or one
//! directory up makes a virtual environment.

mod args;
mod imports;
mod site;

use std::collections::BTreeSet;

use super::{absolute_literals, join, parent, Invocation, Tracer};
use crate::keep::Reason;
use crate::trace::image::rel;

use args::version_from_name;
pub(super) use args::PythonArgs;
pub(super) use imports::imports;

/// Parts of the standard library no app needs at run time unless it imports
/// them: the regression tests, IDLE, Tk, the turtle demos, the bundled pip
/// wheels and lib2to3.
const UNUSED_STDLIB: &[&str] = &[
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "turtle",
];

/// Extension modules that only the test suite or Tk load.
const UNUSED_DYNLOAD: &[&str] = &[
    "_test",
    "_ctypes_test",
    "_xxtestfuzz",
    "xxlimited",
    "_tkinter",
];

impl Tracer<'_> {
    pub(super) fn python(&mut self, inv: &Invocation, real: &str) {
        let args = PythonArgs::parse(inv.argv);
        let exe = basename_of(real);
        let invoked_name = basename_of(inv.program);
        let env = |t: &Self, name: &str| -> Option<String> {
            (!args.ignore_env)
                .then(|| t.run.env_var(name).map(str::to_string))
                .flatten()
        };
        // The standard library: PYTHONHOME, or the nearest ancestor of the
        // executable with lib/pythonX.Y/os.py.
        let versions: Vec<String> = [exe, invoked_name]
            .iter()
            .filter_map(|n| version_from_name(n))
            .collect();
        let home = env(self, "PYTHONHOME").map(|h| rel(&h).to_string());
        let Some((prefix, stdlib)) = self.find_stdlib(real, home.as_deref(), &versions) else {
            self.warnings.push(format!(
                "{}: no Python standard library (lib/pythonX.Y/os.py) found for /{real}",
                inv.what
            ));
            return;
        };
        let version = stdlib.rsplit("python").next().unwrap_or("").to_string();
        self.tz_decided.extend([real.to_string(), stdlib.clone()]);
        let why_stdlib = Reason::runtime("Python standard library of", real);

        // sys.path, in CPython's order.
        let mut app_dirs: Vec<String> = Vec::new();
        // Modules imported by name, and what names them ("" for the command line).
        let mut roots: Vec<(String, String)> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        let script_real = args.script.as_ref().and_then(|s| {
            let abs = self.absolute(s);
            let found = self.real(&abs);
            if found.is_none() {
                self.warnings.push(format!(
                    "{}: Python script {abs} is not in the image",
                    inv.what
                ));
            }
            found
        });
        if let Some(s) = &script_real {
            self.keep.insert(s, Reason::runtime("script run by", real));
            sources.push(s.clone());
            app_dirs.push(parent(s).to_string());
        } else if args.module.is_some() || args.code.is_some() {
            app_dirs.push(rel(&self.run.working_dir).to_string());
        }
        if let Some(m) = &args.module {
            roots.extend(
                imports(&format!("import {m}"))
                    .into_iter()
                    .map(|n| (n, String::new())),
            );
        }
        if let Some(code) = &args.code {
            roots.extend(imports(code).into_iter().map(|n| (n, String::new())));
        }
        if let Some(pp) = env(self, "PYTHONPATH") {
            for d in pp.split(':').filter(|d| !d.is_empty()) {
                let abs = self.absolute(d);
                if let Some(r) = self.real(&abs) {
                    self.keep_links(&abs);
                    app_dirs.push(r);
                }
            }
        }
        let why_app = Reason::runtime("Python application code run by", real);
        for dir in app_dirs.clone() {
            if self.keep_app_dir(&dir, &why_app, &|_| false) {
                sources.extend(
                    self.fs
                        .descendants(&dir)
                        .filter(|(p, _)| p.ends_with(".py"))
                        .map(|(p, _)| p.clone()),
                );
            }
        }

        let site_dirs = if args.no_site {
            Vec::new()
        } else {
            self.site_dirs(inv, &prefix, &version, &args)
        };
        let site = self.index_site(&site_dirs);
        // site.py imports these by name when they exist anywhere on sys.path.
        roots.push(("sitecustomize".into(), String::new()));
        roots.push(("usercustomize".into(), String::new()));
        for pth in &site.pth {
            let why = Reason::runtime("path configuration of", real);
            self.keep.insert(pth, why.clone());
            let Some(text) = self.read_text(pth) else {
                continue;
            };
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with("import ") || line.starts_with("import\t") {
                    roots.extend(imports(line).into_iter().map(|n| (n, pth.clone())));
                } else if !line.is_empty() && !line.starts_with('#') {
                    if let Some(dir) = self.real(&format!("/{}", join(parent(pth), line))) {
                        self.keep_tree_where(
                            &dir,
                            &Reason::runtime("named in", pth.as_str()),
                            &|_| false,
                        );
                        sources.extend(
                            self.fs
                                .descendants(&dir)
                                .filter(|(p, _)| p.ends_with(".py"))
                                .map(|(p, _)| p.clone()),
                        );
                    }
                }
            }
        }
        for d in &site_dirs {
            self.keep
                .insert(d, Reason::runtime("site directory of", real));
        }

        // Every installed package, or those the import graph reaches (the
        // graph also tells which optional parts of the stdlib are used).
        if !self.opts.import_graph {
            let why = Reason::runtime("installed package (--no-import-graph) for", real);
            for d in &site_dirs {
                self.keep_tree_where(d, &why, &|_| false);
            }
        }
        // Paths the app's own code names (data files, directories, helpers).
        for file in sources.clone() {
            if let Some(text) = self.read_text(&format!("/{file}")) {
                self.keep_named_paths(absolute_literals(&text), &file);
            }
        }
        self.import_graph(&site, roots, sources, &stdlib);

        // The standard library, but tests, Tk and tools unless imported.
        let used = self.python_imports.clone();
        let skip_stdlib = |p: &str| -> bool {
            let inner = p
                .strip_prefix(stdlib.as_str())
                .unwrap_or(p)
                .trim_start_matches('/');
            let (first, rest) = inner.split_once('/').unwrap_or((inner, ""));
            // A module's name: `turtle.py`, or `__pycache__/turtle.cpython-311.pyc`.
            let top = match first {
                "__pycache__" => rest.split('.').next().unwrap_or(""),
                _ => first.trim_end_matches(".py"),
            };
            if UNUSED_STDLIB.contains(&top) && !used.contains(top) {
                return true;
            }
            // help()'s topic texts, used only through pydoc.
            if top == "pydoc_data" && !used.contains("pydoc") {
                return true;
            }
            if first == "site-packages" || first == "dist-packages" || first.starts_with("config-")
            {
                return true;
            }
            // Tests inside packages: ctypes/test, unittest/test, distutils/tests.
            if !rest.is_empty()
                && first != "lib-dynload"
                && rest.split('/').any(|c| c == "test" || c == "tests")
            {
                return true;
            }
            if first == "lib-dynload" && !rest.is_empty() {
                let module = rest.split('.').next().unwrap_or("");
                let unused = UNUSED_DYNLOAD
                    .iter()
                    .any(|u| module == *u || (module.starts_with(u) && *u == "_test"));
                return unused && !(module == "_tkinter" && used.contains("tkinter"));
            }
            false
        };
        // Once per interpreter and set of optional parts in use: another
        // command of the same image rarely changes what to keep.
        let optional: Vec<&String> = used
            .iter()
            .filter(|u| UNUSED_STDLIB.contains(&u.as_str()) || *u == "pydoc")
            .collect();
        if self
            .done
            .insert(format!("python stdlib {stdlib} {optional:?}"))
        {
            self.keep_tree_where(&stdlib, &why_stdlib, &skip_stdlib);
        }
        if self.python_imports.contains("zoneinfo") {
            self.wants_zoneinfo = true;
        }
    }

    /// `(prefix, stdlib dir)`: the prefix holding lib/pythonX.Y/os.py.
    fn find_stdlib(
        &self,
        real: &str,
        home: Option<&str>,
        versions: &[String],
    ) -> Option<(String, String)> {
        let mut candidates: Vec<String> = Vec::new();
        if let Some(h) = home {
            candidates.push(
                h.split(':')
                    .next()
                    .unwrap_or(h)
                    .trim_start_matches('/')
                    .to_string(),
            );
        }
        let mut dir = parent(real);
        loop {
            candidates.push(dir.to_string());
            if dir.is_empty() {
                break;
            }
            dir = parent(dir);
        }
        for prefix in candidates {
            for lib in ["lib", "lib64"] {
                let libdir = join(&prefix, lib);
                let mut names: Vec<String> =
                    versions.iter().map(|v| format!("python{v}")).collect();
                if names.is_empty()
                    || !names
                        .iter()
                        .any(|n| self.is_file(&format!("{libdir}/{n}/os.py")))
                {
                    // An unversioned `python3`: take the lib/python3.* that exists.
                    names.extend(
                        self.children(&libdir)
                            .into_iter()
                            .filter(|n| n.starts_with("python3.")),
                    );
                }
                for n in names {
                    let stdlib = format!("{libdir}/{n}");
                    if self.real(&format!("/{stdlib}/os.py")).is_some() {
                        let stdlib = self.real(&format!("/{stdlib}")).unwrap_or(stdlib);
                        return Some((prefix, stdlib));
                    }
                }
            }
        }
        None
    }

    /// The site directories: a virtualenv's, or the system's (upstream
    /// `site-packages`, Debian's `dist-packages`), and the user's.
    fn site_dirs(
        &mut self,
        inv: &Invocation,
        prefix: &str,
        version: &str,
        args: &PythonArgs,
    ) -> Vec<String> {
        let mut dirs = Vec::new();
        let invoked_dir = parent(rel(inv.program)).to_string();
        let invoked_dir = self.real(&format!("/{invoked_dir}")).unwrap_or(invoked_dir);
        let venv = [invoked_dir.clone(), parent(&invoked_dir).to_string()]
            .into_iter()
            .find(|d| self.is_file(&join(d, "pyvenv.cfg")));
        let mut system = true;
        if let Some(venv) = &venv {
            let cfg = join(venv, "pyvenv.cfg");
            self.keep.insert(
                &cfg,
                Reason::runtime("virtual environment of", rel(inv.program)),
            );
            let text = self.read_text(&format!("/{cfg}")).unwrap_or_default();
            system = text.lines().any(|l| {
                let l = l.replace(' ', "").to_ascii_lowercase();
                l == "include-system-site-packages=true"
            });
            for lib in ["lib", "lib64"] {
                dirs.push(format!("{venv}/{lib}/python{version}/site-packages"));
            }
        }
        if system {
            let local = if prefix == "usr" {
                "usr/local".to_string()
            } else {
                prefix.to_string()
            };
            dirs.extend([
                join(prefix, &format!("lib/python{version}/site-packages")),
                join(prefix, &format!("lib64/python{version}/site-packages")),
                join(&local, &format!("lib/python{version}/dist-packages")),
                join(prefix, "lib/python3/dist-packages"),
                join(prefix, &format!("lib/python{version}/dist-packages")),
            ]);
            let user_site = venv.is_none()
                && !args.no_user_site
                && self.run.env_var("PYTHONNOUSERSITE").is_none();
            if user_site {
                let home = self.home_dir();
                dirs.push(join(
                    &home,
                    &format!(".local/lib/python{version}/site-packages"),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for d in dirs {
            let Some(r) = self.real(&format!("/{d}")) else {
                continue;
            };
            if self.is_dir(&r) && seen.insert(r.clone()) {
                self.keep_links(&format!("/{d}"));
                out.push(r);
            }
        }
        out
    }

    /// HOME of the image's user: Env's HOME, else /etc/passwd's entry for USER.
    pub(super) fn home_dir(&self) -> String {
        if let Some(h) = self.run.env_var("HOME") {
            return rel(h).to_string();
        }
        let user = self.run.user.split(':').next().unwrap_or("");
        let user = if user.is_empty() { "root" } else { user };
        let passwd = self.read_text("/etc/passwd").unwrap_or_default();
        passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 5 && (f[0] == user || f[2] == user))
            .map(|f| rel(f[5]).to_string())
            .unwrap_or_else(|| "root".into())
    }
}

fn basename_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
