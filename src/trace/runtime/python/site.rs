//! The site directories: which ones `sys.path` gets, what they hold
//! (top-level modules, `.pth` files, and the distributions that installed
//! them, from dist-info RECORD and METADATA or egg-info), and the import
//! graph over them: from the app's imports, transitively through the
//! packages kept and the distributions they require.

use std::collections::{BTreeMap, BTreeSet};

use super::imports::{module_refs, ModuleRefs};
use super::{Origin, Run};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

/// File types in installed packages that only a build or a type checker reads.
const BUILD_ONLY: &[&str] = &[
    ".h", ".hpp", ".c", ".cc", ".cpp", ".a", ".pxd", ".pyx", ".pyi",
];

/// Import hooks that a `.pth` line installs, and the name whose import
/// sets them off: until the app imports that name, what the hook's code
/// imports is not imported. setuptools' `_distutils_hack` (in every venv
/// and image with setuptools before Python 3.12) loads all of setuptools
/// when `distutils` is imported, and nothing otherwise.
const IMPORT_HOOKS: &[(&str, &str)] = &[("_distutils_hack", "distutils")];

/// One installed distribution in a site directory (`*.dist-info` / `*.egg-info`).
#[derive(Debug)]
struct Dist {
    /// Image path of the metadata directory.
    meta_dir: ImagePath,
    /// Image paths of its files, from RECORD or installed-files.txt (may be empty).
    files: Vec<ImagePath>,
    /// Top-level module names it provides.
    tops: BTreeSet<String>,
    /// Normalized names of the distributions it requires (extras left out).
    requires: Vec<String>,
}

/// What the import graph read: every top-level name imported, and what
/// each source it read names (for the standard library's closure).
#[derive(Default)]
pub(super) struct Imported {
    pub tops: BTreeSet<String>,
    pub sources: Vec<(ImagePath, ModuleRefs)>,
}

/// What the site directories hold: top-level names and the distributions providing them.
#[derive(Default)]
pub(super) struct Site {
    /// Top-level module name → image paths of its package dir / module files.
    tops: BTreeMap<String, Vec<ImagePath>>,
    dists: Vec<Dist>,
    /// Normalized distribution name → index in `dists`.
    by_name: BTreeMap<String, usize>,
    /// `.pth` files, in site-directory order.
    pub(super) pth: Vec<ImagePath>,
    /// The site directories themselves.
    dirs: Vec<ImagePath>,
}

/// PEP 503 normalization: `Charset_Normalizer` and `charset-normalizer` are one name.
fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['-', '.'], "_")
}

/// The top-level module name a site directory entry provides, if any.
fn top_name(entry: &str) -> Option<String> {
    if entry.ends_with(".dist-info")
        || entry.ends_with(".egg-info")
        || entry == "__pycache__"
        || entry.starts_with('.')
    {
        return None;
    }
    let stem = entry.split('.').next()?;
    let is_module = entry.ends_with(".py")
        || entry.ends_with(".so")
        || entry.ends_with(".pyc")
        || !entry.contains('.');
    (is_module && !stem.is_empty()).then(|| stem.to_string())
}

impl Run<'_> {
    /// The site directories: a virtualenv's, or the system's (upstream
    /// `site-packages`, Debian's `dist-packages`), and the user's.
    pub(super) fn site_dirs(&self, t: &mut Tracer) -> Vec<ImagePath> {
        let mut dirs: Vec<ImagePath> = Vec::new();
        let version = &self.version;
        let invoked = self.inv.program_path().parent();
        let invoked = t.real(invoked.as_str()).unwrap_or(invoked);
        let venv = [invoked.clone(), invoked.parent()]
            .into_iter()
            .find(|d| t.is_file(&d.join("pyvenv.cfg")));
        let mut system = true;
        if let Some(venv) = &venv {
            let cfg = venv.join("pyvenv.cfg");
            t.keep(
                &cfg,
                Reason::runtime("virtual environment of", &self.inv.program_path()),
            );
            let text = t.read_text(cfg.as_str()).unwrap_or_default();
            system = text.lines().any(|l| {
                let l = l.replace(' ', "").to_ascii_lowercase();
                l == "include-system-site-packages=true"
            });
            for lib in ["lib", "lib64"] {
                dirs.push(venv.join(&format!("{lib}/python{version}/site-packages")));
            }
        }
        if system {
            let prefix = &self.prefix;
            let local = if prefix.as_str() == "usr" {
                ImagePath::root().join("usr/local")
            } else {
                prefix.clone()
            };
            dirs.extend([
                prefix.join(&format!("lib/python{version}/site-packages")),
                prefix.join(&format!("lib64/python{version}/site-packages")),
                local.join(&format!("lib/python{version}/dist-packages")),
                prefix.join("lib/python3/dist-packages"),
                prefix.join(&format!("lib/python{version}/dist-packages")),
            ]);
            let user_site = venv.is_none()
                && !self.args.no_user_site
                && t.run().env_var("PYTHONNOUSERSITE").is_none();
            if user_site {
                // PYTHONUSERBASE, else ~/.local (`pip install --user`).
                let base = self
                    .env(t, "PYTHONUSERBASE")
                    .and_then(|b| ImagePath::parse(b).ok())
                    .unwrap_or_else(|| t.home_dir().join(".local"));
                dirs.push(base.join(&format!("lib/python{version}/site-packages")));
            }
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for d in dirs {
            let Some(r) = t.real(d.as_str()) else {
                continue;
            };
            if t.is_dir(&r) && seen.insert(r.clone()) {
                t.keep_links(d.as_str());
                out.push(r);
            }
        }
        out
    }
}

impl Site {
    pub(super) fn index(t: &Tracer, dirs: &[ImagePath]) -> Site {
        let mut site = Site {
            dirs: dirs.to_vec(),
            ..Default::default()
        };
        for dir in dirs {
            for entry in t.children(dir) {
                let path = dir.join(&entry);
                if entry.ends_with(".pth") {
                    site.pth.push(path);
                } else if entry.ends_with(".dist-info") || entry.ends_with(".egg-info") {
                    let dist = read_dist(t, dir, &path, &entry);
                    let name = normalize(
                        entry
                            .split('-')
                            .next()
                            .unwrap_or(&entry)
                            .trim_end_matches(".egg"),
                    );
                    site.by_name.insert(name, site.dists.len());
                    site.dists.push(dist);
                } else if let Some(top) = top_name(&entry) {
                    // A module or regular package (with __init__.py) shadows
                    // the same name in later site directories; only namespace
                    // packages merge across directories.
                    let paths = site.tops.entry(top).or_default();
                    let shadowed = paths
                        .iter()
                        .any(|p| !t.is_dir(p) || t.is_file(&p.join("__init__.py")));
                    if !shadowed {
                        paths.push(path);
                    }
                }
            }
        }
        site
    }

    /// Keep what the app's imports reach, transitively through the packages
    /// kept and their declared requirements. `roots` are names imported by
    /// name (by the command line, a `.pth` file, an app server's argument).
    /// Returns every top-level name imported and what each source read names.
    pub(super) fn import_graph(
        &self,
        t: &mut Tracer,
        roots: &[(String, Origin)],
        sources: Vec<ImagePath>,
        run: &Run,
    ) -> Imported {
        let mut by_top: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, d) in self.dists.iter().enumerate() {
            for top in &d.tops {
                by_top.entry(top.as_str()).or_default().push(i);
            }
        }
        let mut imported = Imported::default();
        let top = |dotted: &str| dotted.split('.').next().unwrap_or("").to_string();
        let mut wanted: Vec<(String, Origin)> =
            roots.iter().map(|(n, o)| (top(n), o.clone())).collect();
        let mut scanned: BTreeSet<ImagePath> = BTreeSet::new();
        let mut queue = sources;
        let mut kept_dists: BTreeSet<usize> = BTreeSet::new();
        let mut kept_tops: BTreeSet<String> = BTreeSet::new();
        // Packages whose own tests/ some non-test code imports (rare): those keep them.
        let mut tests_used: BTreeSet<String> = BTreeSet::new();
        let mut keep: Vec<(ImagePath, Reason)> = Vec::new();
        // Sources of import hooks not set off yet, by the name that would.
        let mut hooks: Vec<(&str, ImagePath)> = Vec::new();
        loop {
            while let Some(file) = queue.pop() {
                if let Some(trigger) = self.hook_trigger(&file) {
                    if !imported.tops.contains(trigger) {
                        hooks.push((trigger, file));
                        continue;
                    }
                }
                if !scanned.insert(file.clone()) {
                    continue;
                }
                let Some(text) = t.read_text(file.as_str()) else {
                    continue;
                };
                let refs = module_refs(&text, None);
                for dotted in refs.all_modules() {
                    let mut parts = dotted.split('.');
                    let top = parts.next().unwrap_or("").to_string();
                    if parts.any(|c| c == "tests" || c == "test") {
                        tests_used.insert(top.clone());
                    }
                    wanted.push((top, Origin::File(file.clone())));
                }
                imported.sources.push((file, refs));
            }
            let Some((name, by)) = wanted.pop() else {
                let (set_off, waiting) = hooks
                    .drain(..)
                    .partition(|(trigger, _)| imported.tops.contains(*trigger));
                hooks = waiting;
                if set_off.is_empty() {
                    break;
                }
                queue.extend(set_off.into_iter().map(|(_, f)| f));
                continue;
            };
            imported.tops.insert(name.clone());
            if !kept_tops.insert(name.clone()) {
                continue;
            }
            let by_pth = matches!(&by, Origin::File(f) if f.as_str().ends_with(".pth"));
            let reason = by.reason(run);
            // A `.pth` import line (setuptools' `_distutils_hack`) needs that
            // module only, not the whole distribution shipping it.
            let dists = if by_pth {
                None
            } else {
                by_top.get(name.as_str())
            };
            // (path, reason): the distributions providing the name, those
            // they require, and the name's own files.
            let mut paths: Vec<(ImagePath, Reason)> = Vec::new();
            for &i in dists.into_iter().flatten() {
                let mut stack = vec![(i, reason.clone())];
                while let Some((i, why_dist)) = stack.pop() {
                    if !kept_dists.insert(i) {
                        continue;
                    }
                    let d = &self.dists[i];
                    paths.push((d.meta_dir.clone(), why_dist.clone()));
                    paths.extend(d.files.iter().map(|f| (f.clone(), why_dist.clone())));
                    for top in &d.tops {
                        wanted.push((top.clone(), Origin::File(d.meta_dir.clone())));
                    }
                    for r in &d.requires {
                        if let Some(&j) = self.by_name.get(r) {
                            let required = Reason::runtime(
                                "required by the installed distribution",
                                &d.meta_dir,
                            );
                            stack.push((j, required));
                        }
                    }
                }
            }
            paths.extend(
                self.tops
                    .get(&name)
                    .into_iter()
                    .flatten()
                    .map(|p| (p.clone(), reason.clone())),
            );
            for (p, reason) in paths {
                queue.extend(
                    std::iter::once(p.clone())
                        .chain(t.fs().descendants(&p).map(|(d, _)| d.clone()))
                        .filter(|f| {
                            (f.as_str().ends_with(".py") || f.as_str().ends_with(".pth"))
                                && self.package_tests(f).is_none()
                        }),
                );
                keep.push((p, reason));
            }
        }
        // A package's test suite is no part of what it does at run time, nor
        // are C headers, static libraries, Cython sources and type stubs: the
        // slim image has no compiler or type checker to use them.
        let skip = |p: &ImagePath| {
            self.package_tests(p)
                .is_some_and(|top| !tests_used.contains(top))
                || BUILD_ONLY.iter().any(|x| p.as_str().ends_with(x))
        };
        for (p, reason) in keep {
            if !skip(&p) {
                t.keep_tree_where(&p, &reason, &skip);
            }
        }
        imported
    }

    /// The name that sets off the import hook `file` belongs to, if it does.
    fn hook_trigger(&self, file: &ImagePath) -> Option<&'static str> {
        let inner = self
            .dirs
            .iter()
            .find_map(|d| file.relative_to(d).filter(|r| !r.is_empty()))?;
        let top = inner.split('/').next()?;
        let top = top.strip_suffix(".py").unwrap_or(top);
        IMPORT_HOOKS
            .iter()
            .find(|(hook, _)| *hook == top)
            .map(|(_, trigger)| *trigger)
    }

    /// For a path inside a package of a site directory, whether it is in a
    /// `tests`/`test` directory of that package: returns the package's name.
    fn package_tests<'p>(&self, path: &'p ImagePath) -> Option<&'p str> {
        let inner = self
            .dirs
            .iter()
            .find_map(|d| path.relative_to(d).filter(|r| !r.is_empty()))?;
        let mut comps = inner.split('/');
        let top = comps.next()?;
        comps.any(|c| c == "tests" || c == "test").then_some(top)
    }
}

fn read_dist(t: &Tracer, site_dir: &ImagePath, meta_dir: &ImagePath, entry: &str) -> Dist {
    let mut d = Dist {
        meta_dir: meta_dir.clone(),
        files: Vec::new(),
        tops: BTreeSet::new(),
        requires: Vec::new(),
    };
    if t.is_file(meta_dir) {
        // An old single-file PKG-INFO egg-info: the distribution's name is its module.
        d.tops
            .insert(entry.split('-').next().unwrap_or(entry).to_string());
        d.files.push(meta_dir.clone());
        return d;
    }
    let read = |name: &str| t.read_text(meta_dir.join(name).as_str());
    let listed: Vec<String> = if let Some(record) = read("RECORD") {
        record
            .lines()
            .filter_map(|l| l.rsplitn(3, ',').nth(2))
            .map(|p| p.trim_matches('"').to_string())
            .collect()
    } else if let Some(files) = read("installed-files.txt") {
        files.lines().map(|p| join_listed(entry, p)).collect()
    } else {
        Vec::new()
    };
    for p in listed {
        // Console scripts in ../../bin are entry points, not importable code.
        let Some(path) = normalize_rel(&join_listed(site_dir.as_str(), &p)) else {
            continue;
        };
        let Some(inner) = path.relative_to(site_dir).filter(|i| !i.is_empty()) else {
            continue;
        };
        if let Some(top) = top_name(inner.split('/').next().unwrap_or("")) {
            d.tops.insert(top);
        }
        d.files.push(path);
    }
    if let Some(tl) = read("top_level.txt") {
        d.tops.extend(
            tl.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    let metadata = read("METADATA")
        .or_else(|| read("PKG-INFO"))
        .unwrap_or_default();
    for line in metadata.lines() {
        if let Some(req) = line.strip_prefix("Requires-Dist:") {
            if !req.contains("extra ==") && !req.contains("extra==") {
                d.requires.push(requirement_name(req));
            }
        }
    }
    if let Some(reqs) = read("requires.txt") {
        for line in reqs.lines().map(str::trim) {
            if line.starts_with('[') {
                break; // extras and markers follow
            }
            if !line.is_empty() {
                d.requires.push(requirement_name(line));
            }
        }
    }
    d
}

/// `requests (>=2.0) ; python_version < "3.8"` → `requests`.
fn requirement_name(req: &str) -> String {
    let name: String = req
        .trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || "-_.".contains(*c))
        .collect();
    normalize(&name)
}

/// A path a RECORD lists, relative to `dir` unless it is absolute.
fn join_listed(dir: &str, listed: &str) -> String {
    if listed.starts_with('/') {
        listed.to_string()
    } else {
        format!("{dir}/{listed}")
    }
}

/// Resolve `.` and `..` in an image-relative path; `None` if it leaves the root.
fn normalize_rel(path: &str) -> Option<ImagePath> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(ImagePath::root().join(&out.join("/")))
}
