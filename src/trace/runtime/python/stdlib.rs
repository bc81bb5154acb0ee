//! The standard library: where it is, and which parts of it to keep.

use std::collections::BTreeSet;

use super::closure::{Closure, Stdlib};
use super::site::Imported;
use super::{Origin, Python, Run};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::program::is_shared_object;
use crate::trace::tracer::Tracer;

/// Parts of the standard library no app needs at run time unless it imports
/// them: the regression tests, IDLE, Tk, the turtle demos, the bundled pip
/// wheels and lib2to3.
pub(super) const UNUSED_STDLIB: &[&str] = &[
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "turtle",
];

/// Extension modules that only the test suite or Tk load.
pub(super) const UNUSED_DYNLOAD: &[&str] = &[
    "_test",
    "_ctypes_test",
    "_xxtestfuzz",
    "xxlimited",
    "_tkinter",
];

/// `(prefix, stdlib dir)`: the prefix holding lib/pythonX.Y/os.py — PYTHONHOME
/// first, then each ancestor of the real executable.
pub(super) fn find(
    t: &Tracer,
    real: &ImagePath,
    home: Option<ImagePath>,
    versions: &[String],
) -> Option<(ImagePath, ImagePath)> {
    let candidates = home.into_iter().chain(real.ancestors());
    for prefix in candidates {
        for lib in ["lib", "lib64"] {
            let libdir = prefix.join(lib);
            let mut names: Vec<String> = versions.iter().map(|v| format!("python{v}")).collect();
            if names.is_empty()
                || !names
                    .iter()
                    .any(|n| t.is_file(&libdir.join(n).join("os.py")))
            {
                // An unversioned `python3`: take the lib/python3.* that exists.
                names.extend(
                    t.children(&libdir)
                        .into_iter()
                        .filter(|n| n.starts_with("python3.")),
                );
            }
            for n in names {
                let stdlib = libdir.join(&n);
                if t.real(stdlib.join("os.py").as_str()).is_some() {
                    let stdlib = t.real(stdlib.as_str()).unwrap_or(stdlib);
                    return Some((prefix, stdlib));
                }
            }
        }
    }
    None
}

impl Python {
    /// The standard library, but tests, Tk and tools unless imported; once
    /// per interpreter and set of optional parts in use (another command of
    /// the same image rarely changes what to keep).
    pub(super) fn keep_stdlib(&self, t: &mut Tracer, run: &Run) {
        let used = self.imports.borrow().clone();
        let optional: Vec<String> = used
            .iter()
            .filter(|u| UNUSED_STDLIB.contains(&u.as_str()) || *u == "pydoc")
            .cloned()
            .collect();
        if !self
            .stdlibs
            .borrow_mut()
            .insert((run.stdlib.clone(), optional))
        {
            return;
        }
        let stdlib = &run.stdlib;
        let skip = |p: &ImagePath| -> bool {
            let inner = p.relative_to(stdlib).unwrap_or(p.as_str());
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
        let why = Reason::runtime("Python standard library of", run.real);
        t.keep_tree_where(stdlib, &why, &skip);
    }
}

impl Run<'_> {
    /// Keep the standard library's modules that this run may import: from
    /// the interpreter's startup, the names imported by name (`roots`),
    /// what the sources the import graph read name, and the names written
    /// in the extension modules of the packages kept. Returns the names of
    /// the modules reached.
    pub(super) fn stdlib_closure(
        &self,
        t: &mut Tracer,
        roots: &[(String, Origin)],
        imported: &Imported,
        site_dirs: &[ImagePath],
    ) -> BTreeSet<String> {
        let cpython = !self.real.file_name().starts_with("pypy");
        let stdlib = Stdlib::index(t, &self.stdlib, &self.version, cpython);
        let mut closure = Closure::new(&stdlib);
        // The standard streams' codec: PYTHONIOENCODING, else the locale's.
        let mut codecs: Vec<(&str, String)> = Vec::new();
        for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
            if let Some(v) = t.run().env_var(var) {
                codecs.push((var, v.to_string()));
            }
        }
        if let Some(v) = self.env(t, "PYTHONIOENCODING") {
            codecs.push(("PYTHONIOENCODING", v.to_string()));
        }
        closure.startup(self.real, !self.args.no_site, &codecs);
        for (name, origin) in roots {
            closure.import(name, origin.reason(self));
        }
        let mut code_dirs: Vec<ImagePath> = site_dirs.to_vec();
        for (file, refs) in &imported.sources {
            closure.follow(refs, file);
            code_dirs.push(file.parent());
        }
        code_dirs.sort();
        code_dirs.dedup();
        let binaries: Vec<ImagePath> = t
            .kept_paths()
            .into_iter()
            .filter(|p| is_shared_object(p) && code_dirs.iter().any(|d| p.starts_with(d)))
            .collect();
        for so in binaries {
            closure.binary(t, &so);
        }
        closure.keep(t)
    }
}
