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

mod apps;
mod args;
mod closure;
#[cfg(test)]
mod closure_tests;
mod codecs;
mod imports;
mod site;
mod stdlib;

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::{absolute_literals, Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

use args::version_from_name;
pub(super) use args::PythonArgs;
pub(super) use imports::imported_modules;

#[derive(Default)]
pub(super) struct Python {
    /// Top-level modules imported by kept code, across every command.
    imports: RefCell<BTreeSet<String>>,
    /// Standard libraries kept, with the optional parts in use then.
    stdlibs: RefCell<BTreeSet<(ImagePath, Vec<String>)>>,
}

/// Why a module is imported: a file imports it, or something names it.
#[derive(Clone, Debug)]
pub(super) enum Origin {
    /// `python -c`/`-m`, or what site.py imports by name.
    CommandLine,
    /// A source file imports it (or a distribution's metadata names it).
    File(ImagePath),
    /// An app server's argument, a settings module: `gunicorn's argument app:app`.
    Named(String),
}

impl Origin {
    fn reason(&self, run: &Run) -> Reason {
        match self {
            Origin::CommandLine => Reason::runtime("imported (by name) by", &run.stdlib),
            Origin::File(f) if f.as_str().ends_with("-info") => {
                Reason::runtime("part of the installed distribution", f)
            }
            Origin::File(f) => Reason::runtime("imported by", f),
            Origin::Named(what) => {
                Reason::runtime(format!("module named by {what}, run by"), run.real)
            }
        }
    }
}

/// One interpreter run: where its standard library is, and what it reads.
struct Run<'i> {
    inv: &'i Invocation<'i>,
    real: &'i ImagePath,
    args: PythonArgs,
    /// The prefix holding `lib/pythonX.Y/os.py`, and that stdlib directory.
    prefix: ImagePath,
    stdlib: ImagePath,
    /// `X.Y`.
    version: String,
}

impl Runtime for Python {
    fn runs(&self, base: &str) -> bool {
        super::versioned(base, "python") || super::versioned(base, "pypy")
    }

    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        let Some(run) = Run::new(inv, real, t) else {
            return;
        };
        t.models_runtime(real, "libpython");
        t.models(&run.stdlib);

        // Modules imported by name, and what names them.
        let mut roots: Vec<(String, Origin)> = Vec::new();
        let mut sources = run.launched_app(t, &mut roots);
        sources.extend(run.app_code(t, &mut roots));
        run.django_settings(t, &mut roots, &mut sources);
        let site_dirs = if run.args.no_site {
            Vec::new()
        } else {
            run.site_dirs(t)
        };
        let site = site::Site::index(t, &site_dirs);
        // site.py imports these by name when they exist anywhere on sys.path.
        roots.push(("sitecustomize".into(), Origin::CommandLine));
        roots.push(("usercustomize".into(), Origin::CommandLine));
        run.path_files(t, &site, &mut roots, &mut sources);
        for d in &site_dirs {
            t.keep(d, Reason::runtime("site directory of", real));
        }
        // Every installed package, or those the import graph reaches (the
        // graph also tells which optional parts of the stdlib are used).
        if !t.opts().import_graph {
            let why = Reason::runtime("installed package (--no-import-graph) for", real);
            for d in &site_dirs {
                t.keep_tree_where(d, &why, &|_| false);
            }
        }
        // Paths the app's own code names (data files, directories, helpers).
        for file in &sources {
            if let Some(text) = t.read_text(file.as_str()) {
                t.keep_named_paths(absolute_literals(&text), file);
            }
        }
        let imported = site.import_graph(t, &roots, sources, &run);
        self.imports
            .borrow_mut()
            .extend(imported.tops.iter().cloned());
        let zoneinfo = if t.opts().import_graph {
            run.stdlib_closure(t, &roots, &imported, &site_dirs)
                .contains("zoneinfo")
        } else {
            self.keep_stdlib(t, &run);
            self.imports.borrow().contains("zoneinfo")
        };
        if zoneinfo {
            t.uses_time_zones();
        }
    }
}

impl<'i> Run<'i> {
    /// Read the command line and find the standard library (PYTHONHOME, or
    /// the nearest ancestor of the executable with lib/pythonX.Y/os.py).
    fn new(inv: &'i Invocation<'i>, real: &'i ImagePath, t: &mut Tracer) -> Option<Self> {
        let args = PythonArgs::parse(inv.argv);
        let versions: Vec<String> = [real.file_name(), inv.name()]
            .iter()
            .filter_map(|n| version_from_name(n))
            .collect();
        let home = (!args.ignore_env)
            .then(|| t.run().env_var("PYTHONHOME"))
            .flatten()
            .and_then(|h| ImagePath::parse(h.split(':').next().unwrap_or(h)).ok());
        let Some((prefix, stdlib)) = stdlib::find(t, real, home, &versions) else {
            t.warn(format!(
                "{}: no Python standard library (lib/pythonX.Y/os.py) found for {real}",
                inv.what
            ));
            return None;
        };
        let version = stdlib
            .as_str()
            .rsplit("python")
            .next()
            .unwrap_or("")
            .to_string();
        Some(Run {
            inv,
            real,
            args,
            prefix,
            stdlib,
            version,
        })
    }

    /// A PYTHON* variable from Env, unless `-E`/`-I` says to ignore them.
    fn env<'t>(&self, t: &'t Tracer, name: &str) -> Option<&'t str> {
        (!self.args.ignore_env)
            .then(|| t.run().env_var(name))
            .flatten()
    }

    /// The app's code: the script and its directory (or the WorkingDir for
    /// `-m`/`-c`), PYTHONPATH; the modules `-m`/`-c` import go on `roots`.
    /// Returns the Python sources found there.
    fn app_code(&self, t: &mut Tracer, roots: &mut Vec<(String, Origin)>) -> Vec<ImagePath> {
        let mut app_dirs: Vec<ImagePath> = Vec::new();
        let mut sources: Vec<ImagePath> = Vec::new();
        let script = self.args.script.as_ref().and_then(|s| {
            let abs = t.absolute(s);
            let found = t.real(&abs);
            if found.is_none() {
                t.warn(format!(
                    "{}: Python script {abs} is not in the image",
                    self.inv.what
                ));
            }
            found
        });
        if let Some(s) = &script {
            t.keep(s, Reason::runtime("script run by", self.real));
            sources.push(s.clone());
            app_dirs.push(s.parent());
        } else if self.args.module.is_some() || self.args.code.is_some() {
            app_dirs.push(t.run().working_dir());
        }
        for code in [
            self.args.module.as_ref().map(|m| format!("import {m}")),
            self.args.code.clone(),
        ]
        .into_iter()
        .flatten()
        {
            roots.extend(
                imported_modules(&code)
                    .into_iter()
                    .map(|n| (n, Origin::CommandLine)),
            );
        }
        if let Some(pp) = self.env(t, "PYTHONPATH").map(str::to_string) {
            for d in pp.split(':').filter(|d| !d.is_empty()) {
                let abs = t.absolute(d);
                if let Some(r) = t.real(&abs) {
                    t.keep_links(&abs);
                    app_dirs.push(r);
                }
            }
        }
        let why_app = Reason::runtime("Python application code run by", self.real);
        for dir in app_dirs {
            if t.keep_app_dir(&dir, &why_app, &|_| false) {
                sources.extend(python_files(t, &dir));
            }
        }
        sources
    }

    /// An app server (or task runner, or `flask`) imports the app by a name
    /// in its arguments from directories it puts on sys.path: keep those
    /// directories as app code, the module files first (so the report says
    /// which argument named them), read its configuration files, and import
    /// what it names. Returns the Python sources found.
    fn launched_app(&self, t: &mut Tracer, roots: &mut Vec<(String, Origin)>) -> Vec<ImagePath> {
        let name = match (&self.args.module, &self.args.script) {
            (Some(m), _) => m.split('.').next().unwrap_or(m).to_string(),
            (None, Some(s)) => s.rsplit('/').next().unwrap_or(s).to_string(),
            _ => return Vec::new(),
        };
        let env = |k: &str| t.run().env_var(k).map(str::to_string);
        let Some(launch) = apps::launch(&name, &self.args.rest, &env) else {
            return Vec::new();
        };
        let dirs: Vec<ImagePath> = launch
            .dirs
            .iter()
            .filter_map(|d| t.real(&t.absolute(d)))
            .collect();
        let why = Reason::runtime(
            format!("module named by {}, run by", launch.what),
            self.real,
        );
        for module in &launch.modules {
            for file in module_files(t, &dirs, module) {
                t.keep(&file, why.clone());
            }
            roots.push((module.clone(), Origin::Named(launch.what.clone())));
        }
        let mut sources = Vec::new();
        let why_config = Reason::runtime(format!("configuration of {name}, run by"), self.real);
        for f in &launch.files {
            if let Some(r) = t.real(&t.absolute(f)).filter(|r| t.is_file(r)) {
                t.keep(&r, why_config.clone());
                sources.push(r);
            }
        }
        let why_dir = Reason::runtime(format!("on sys.path of {name}, run by"), self.real);
        for d in &dirs {
            if t.keep_app_dir(d, &why_dir, &|_| false) {
                sources.extend(python_files(t, d));
            }
        }
        sources
    }

    /// A Django project: the settings module (DJANGO_SETTINGS_MODULE in Env,
    /// or the one the app's code sets as the default) names, as strings, the
    /// installed apps, middleware, URL configuration, template and database
    /// backends it imports by name.
    fn django_settings(
        &self,
        t: &mut Tracer,
        roots: &mut Vec<(String, Origin)>,
        sources: &mut Vec<ImagePath>,
    ) {
        let named = t
            .run()
            .env_var("DJANGO_SETTINGS_MODULE")
            .map(str::to_string)
            .or_else(|| {
                sources
                    .iter()
                    .filter_map(|f| t.read_text(f.as_str()))
                    .find_map(|text| apps::django_settings_in(&text))
            });
        let Some(module) = named else {
            return;
        };
        let dirs: Vec<ImagePath> = sources.iter().map(|s| s.parent()).collect();
        let mut files = module_files(t, &dirs, &module);
        files.dedup();
        for file in files {
            let Some(text) = t.read_text(file.as_str()) else {
                continue;
            };
            let what = format!("the Django settings {module}");
            t.keep(
                &file,
                Reason::runtime(
                    format!("{what} named by DJANGO_SETTINGS_MODULE, run by"),
                    self.real,
                ),
            );
            for m in apps::module_strings(&text) {
                roots.push((m, Origin::Named(what.clone())));
            }
            sources.push(file);
        }
    }

    /// `.pth` files: kept, their `import` lines are roots, their directory
    /// lines are kept trees whose sources count as app code.
    fn path_files(
        &self,
        t: &mut Tracer,
        site: &site::Site,
        roots: &mut Vec<(String, Origin)>,
        sources: &mut Vec<ImagePath>,
    ) {
        for pth in &site.pth {
            t.keep(pth, Reason::runtime("path configuration of", self.real));
            let Some(text) = t.read_text(pth.as_str()) else {
                continue;
            };
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with("import ") || line.starts_with("import\t") {
                    roots.extend(
                        imported_modules(line)
                            .into_iter()
                            .map(|n| (n, Origin::File(pth.clone()))),
                    );
                } else if !line.is_empty() && !line.starts_with('#') {
                    let named = if line.starts_with('/') {
                        line.to_string()
                    } else {
                        format!("{}/{line}", pth.parent())
                    };
                    if let Some(dir) = t.real(&named) {
                        t.keep_tree_where(&dir, &Reason::runtime("named in", pth), &|_| false);
                        sources.extend(python_files(t, &dir));
                    }
                }
            }
        }
    }
}

/// Where `module` (dotted) is in `dirs` (or their ancestors, for a
/// settings module named from a subpackage): `a/b.py`, or the package's
/// `a/b/__init__.py` with each parent package's `__init__.py`.
fn module_files(t: &Tracer, dirs: &[ImagePath], module: &str) -> Vec<ImagePath> {
    let rel = module.replace('.', "/");
    let mut out = Vec::new();
    for dir in dirs {
        for base in std::iter::once(dir.clone()).chain(dir.ancestors()) {
            let file = base.join(&format!("{rel}.py"));
            let package = base.join(&format!("{rel}/__init__.py"));
            let found = [file, package].into_iter().find(|f| t.is_file(f));
            if let Some(f) = found {
                // The parent packages' __init__.py run first.
                let mut parts: Vec<&str> = rel.split('/').collect();
                parts.pop();
                let mut pkg = base.clone();
                for p in parts {
                    pkg = pkg.join(p);
                    let init = pkg.join("__init__.py");
                    if t.is_file(&init) {
                        out.push(init);
                    }
                }
                out.push(f);
                return out;
            }
            if base.is_root() {
                break;
            }
        }
    }
    out
}

/// The `.py` files below `dir` (or `dir` itself).
fn python_files(t: &Tracer, dir: &ImagePath) -> Vec<ImagePath> {
    t.fs()
        .descendants(dir)
        .filter(|(p, _)| p.as_str().ends_with(".py"))
        .map(|(p, _)| p.clone())
        .collect()
}
