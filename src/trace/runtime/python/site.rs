//! The site directories' contents (top-level modules, `.pth` files, and the
//! distributions that installed them, from dist-info RECORD and METADATA or
//! egg-info), and the import graph over them: from the app's imports,
//! transitively through the packages kept and the distributions they require.

use std::collections::{BTreeMap, BTreeSet};

use super::super::{join, Tracer};
use super::imports::imported_modules;
use crate::keep::Reason;

/// File types in installed packages that only a build or a type checker reads.
const BUILD_ONLY: &[&str] = &[
    ".h", ".hpp", ".c", ".cc", ".cpp", ".a", ".pxd", ".pyx", ".pyi",
];

/// One installed distribution in a site directory (`*.dist-info` / `*.egg-info`).
#[derive(Debug, Default)]
pub(super) struct Dist {
    /// Image path of the metadata directory.
    pub(super) meta_dir: String,
    /// Image paths of its files, from RECORD or installed-files.txt (may be empty).
    pub(super) files: Vec<String>,
    /// Top-level module names it provides.
    pub(super) tops: BTreeSet<String>,
    /// Normalized names of the distributions it requires (extras left out).
    pub(super) requires: Vec<String>,
}

/// What the site directories hold: top-level names and the distributions providing them.
#[derive(Default)]
pub(super) struct Site {
    /// Top-level module name → image paths of its package dir / module files.
    pub(super) tops: BTreeMap<String, Vec<String>>,
    pub(super) dists: Vec<Dist>,
    /// Normalized distribution name → index in `dists`.
    pub(super) by_name: BTreeMap<String, usize>,
    /// `.pth` files, in site-directory order.
    pub(super) pth: Vec<String>,
    /// The site directories themselves.
    pub(super) dirs: Vec<String>,
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

impl Tracer<'_> {
    pub(super) fn index_site(&self, dirs: &[String]) -> Site {
        let mut site = Site {
            dirs: dirs.to_vec(),
            ..Default::default()
        };
        for dir in dirs {
            for entry in self.children(dir) {
                let path = format!("{dir}/{entry}");
                if entry.ends_with(".pth") {
                    site.pth.push(path);
                } else if entry.ends_with(".dist-info") || entry.ends_with(".egg-info") {
                    let dist = self.read_dist(dir, &path, &entry);
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
                        .any(|p| !self.is_dir(p) || self.is_file(&format!("{p}/__init__.py")));
                    if !shadowed {
                        paths.push(path);
                    }
                }
            }
        }
        site
    }

    fn read_dist(&self, site_dir: &str, meta_dir: &str, entry: &str) -> Dist {
        let mut d = Dist {
            meta_dir: meta_dir.to_string(),
            ..Default::default()
        };
        if self.is_file(meta_dir) {
            // An old single-file PKG-INFO egg-info: the distribution's name is its module.
            d.tops
                .insert(entry.split('-').next().unwrap_or(entry).to_string());
            d.files.push(meta_dir.to_string());
            return d;
        }
        let read = |name: &str| self.read_text(&format!("/{meta_dir}/{name}"));
        let listed: Vec<String> = if let Some(record) = read("RECORD") {
            record
                .lines()
                .filter_map(|l| l.rsplitn(3, ',').nth(2))
                .map(|p| p.trim_matches('"').to_string())
                .collect()
        } else if let Some(files) = read("installed-files.txt") {
            files.lines().map(|p| join(entry, p)).collect()
        } else {
            Vec::new()
        };
        for p in listed {
            let normal = normalize_rel(&join(site_dir, &p));
            // Console scripts in ../../bin are entry points, not importable code.
            if let Some(path) = normal.filter(|n| n.starts_with(&format!("{site_dir}/"))) {
                let inner = &path[site_dir.len() + 1..];
                if let Some(top) = top_name(inner.split('/').next().unwrap_or("")) {
                    d.tops.insert(top);
                }
                d.files.push(path);
            }
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

    /// Keep what the app's imports reach, transitively through the packages
    /// kept and their declared requirements.
    pub(super) fn import_graph(
        &mut self,
        site: &Site,
        roots: Vec<(String, String)>,
        sources: Vec<String>,
        stdlib: &str,
    ) {
        let mut by_top: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, d) in site.dists.iter().enumerate() {
            for t in &d.tops {
                by_top.entry(t.as_str()).or_default().push(i);
            }
        }
        let mut wanted: Vec<(String, String)> = roots;
        let mut scanned: BTreeSet<String> = BTreeSet::new();
        let mut queue = sources;
        let mut kept_dists: BTreeSet<usize> = BTreeSet::new();
        let mut kept_tops: BTreeSet<String> = BTreeSet::new();
        // Packages whose own tests/ some non-test code imports (rare): those keep them.
        let mut tests_used: BTreeSet<String> = BTreeSet::new();
        let mut keep: Vec<(String, Reason)> = Vec::new();
        loop {
            while let Some(file) = queue.pop() {
                if !scanned.insert(file.clone()) {
                    continue;
                }
                let Some(text) = self.read_text(&format!("/{file}")) else {
                    continue;
                };
                for dotted in imported_modules(&text) {
                    let mut parts = dotted.split('.');
                    let top = parts.next().unwrap_or("").to_string();
                    if parts.any(|c| c == "tests" || c == "test") {
                        tests_used.insert(top.clone());
                    }
                    wanted.push((top, file.clone()));
                }
            }
            let Some((name, by)) = wanted.pop() else {
                break;
            };
            self.python_imports.insert(name.clone());
            if !kept_tops.insert(name.clone()) {
                continue;
            }
            let why = |what: &str| match by.as_str() {
                "" => Reason::runtime(what, stdlib),
                f => Reason::runtime(what, f),
            };
            // A `.pth` import line (setuptools' `_distutils_hack`) needs that
            // module only, not the whole distribution shipping it.
            let dists = if by.ends_with(".pth") {
                None
            } else {
                by_top.get(name.as_str())
            };
            let reason = match by.as_str() {
                "" => why("imported (by name) by"),
                f if f.ends_with("-info") => why("part of the installed distribution"),
                _ => why("imported by"),
            };
            // (path, reason): the distributions providing the name, those
            // they require, and the name's own files.
            let mut paths: Vec<(String, Reason)> = Vec::new();
            for &i in dists.into_iter().flatten() {
                let mut stack = vec![(i, reason.clone())];
                while let Some((i, why_dist)) = stack.pop() {
                    if !kept_dists.insert(i) {
                        continue;
                    }
                    let d = &site.dists[i];
                    paths.push((d.meta_dir.clone(), why_dist.clone()));
                    paths.extend(d.files.iter().map(|f| (f.clone(), why_dist.clone())));
                    for t in &d.tops {
                        wanted.push((t.clone(), d.meta_dir.clone()));
                    }
                    for r in &d.requires {
                        if let Some(&j) = site.by_name.get(r) {
                            let required = Reason::runtime(
                                "required by the installed distribution",
                                d.meta_dir.as_str(),
                            );
                            stack.push((j, required));
                        }
                    }
                }
            }
            paths.extend(
                site.tops
                    .get(&name)
                    .into_iter()
                    .flatten()
                    .map(|p| (p.clone(), reason.clone())),
            );
            for (p, reason) in paths {
                queue.extend(
                    std::iter::once(p.clone())
                        .chain(self.fs.descendants(&p).map(|(d, _)| d.clone()))
                        .filter(|f| {
                            (f.ends_with(".py") || f.ends_with(".pth"))
                                && package_tests(f, &site.dirs).is_none()
                        }),
                );
                keep.push((p, reason.clone()));
            }
        }
        // A package's test suite is no part of what it does at run time, nor
        // are C headers, static libraries, Cython sources and type stubs: the
        // slim image has no compiler or type checker to use them.
        let skip = |p: &str| {
            package_tests(p, &site.dirs).is_some_and(|top| !tests_used.contains(top))
                || BUILD_ONLY.iter().any(|x| p.ends_with(x))
        };
        for (p, reason) in keep {
            if !skip(&p) {
                self.keep_tree_where(&p, &reason, &skip);
            }
        }
    }
}

/// For a path inside a package of a site directory, whether it is in a
/// `tests`/`test` directory of that package: returns the package's name.
fn package_tests<'p>(path: &'p str, site_dirs: &[String]) -> Option<&'p str> {
    let dir = site_dirs
        .iter()
        .find(|d| path.starts_with(d.as_str()) && path[d.len()..].starts_with('/'))?;
    let mut comps = path[dir.len() + 1..].split('/');
    let top = comps.next()?;
    comps.any(|c| c == "tests" || c == "test").then_some(top)
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

/// Resolve `.` and `..` in an image-relative path; `None` if it leaves the root.
fn normalize_rel(path: &str) -> Option<String> {
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
    Some(out.join("/"))
}
