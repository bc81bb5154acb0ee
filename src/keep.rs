//! The keep set: which paths of the flattened image go into the output, and why.

use std::collections::BTreeMap;
use std::fmt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::image_path::ImagePath;
use crate::rootfs::RootFs;

/// Why a path is kept. The report prints the chain of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Matched a pattern: `--keep /usr/**` or `--include /app/**`.
    Glob(String),
    /// A directory kept because something below it is.
    ParentOf(ImagePath),
    /// A program the image runs: `entrypoint`, `healthcheck`, `--include-exe ls`, ...
    Root(String),
    /// A shared library that the object at the path loads.
    Library { soname: String, of: ImagePath },
    /// The dynamic loader (PT_INTERP) of the object at the path.
    Interpreter(ImagePath),
    /// A symlink on the way to the path.
    LinkTo(ImagePath),
    /// A CPU-specific variant (glibc-hwcaps) of the library at the path.
    Variant(ImagePath),
    /// A script's interpreter, named by its `#!` line.
    Shebang(ImagePath),
    /// Something every process of the image may need (certificates, user database, ...).
    Essential(String),
    /// Needed by what a runtime does with the file at `of`: `imported by`,
    /// `Python standard library of`, `run by the script`, ...
    Runtime { what: String, of: ImagePath },
    /// A path a word of a command line names (`entrypoint`, `the script /x.sh`).
    CommandLine(String),
    /// A path written in the file at the path: a string in a program's
    /// read-only data, or a word of a configuration file.
    NamedIn(ImagePath),
    /// The nearest existing directory of a path that is named but not in
    /// the image: the program creates it there.
    DirectoryOf { named: String, reason: Box<Reason> },
    /// A path a process touched while `--probe` ran the image: `opened`,
    /// `executed`, ... by the program at `by`.
    Probed { access: &'static str, by: String },
    /// Package metadata that describes kept files to scanners: `dpkg
    /// status of 12 kept packages`, `the pypi record of idna 3.10`.
    PackageMetadata(String),
}

impl Reason {
    pub fn runtime(what: impl Into<String>, of: &ImagePath) -> Self {
        Reason::Runtime {
            what: what.into(),
            of: of.clone(),
        }
    }

    /// The kept path this reason derives from, if any: the next link of the chain.
    pub fn because_of(&self) -> Option<&ImagePath> {
        match self {
            Reason::ParentOf(p)
            | Reason::Library { of: p, .. }
            | Reason::Interpreter(p)
            | Reason::LinkTo(p)
            | Reason::Variant(p)
            | Reason::Shebang(p)
            | Reason::NamedIn(p)
            | Reason::Runtime { of: p, .. } => Some(p),
            Reason::DirectoryOf { reason, .. } => reason.because_of(),
            Reason::Glob(_)
            | Reason::Root(_)
            | Reason::Essential(_)
            | Reason::CommandLine(_)
            | Reason::Probed { .. }
            | Reason::PackageMetadata(_) => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Glob(g) => write!(f, "matches {g}"),
            Reason::ParentOf(p) => write!(f, "parent of {p}"),
            Reason::Root(what) => write!(f, "{what}"),
            Reason::Library { soname, of } => write!(f, "needed as {soname} by {of}"),
            Reason::Interpreter(of) => write!(f, "dynamic loader of {of}"),
            Reason::LinkTo(to) => write!(f, "symlink on the way to {to}"),
            Reason::Variant(of) => write!(f, "CPU-specific variant of {of}"),
            Reason::Shebang(of) => write!(f, "interpreter of the script {of}"),
            Reason::Essential(what) => write!(f, "runtime essential: {what}"),
            Reason::Runtime { what, of } => write!(f, "{what} {of}"),
            Reason::CommandLine(what) => write!(f, "named on the command line of {what}"),
            Reason::NamedIn(of) => write!(f, "named in {of}"),
            Reason::DirectoryOf { named, reason } => {
                write!(f, "directory of {named} (not in the image), {reason}")
            }
            Reason::Probed { access, by } => write!(f, "{access} while probing by {by}"),
            Reason::PackageMetadata(what) => write!(f, "package metadata: {what}"),
        }
    }
}

/// Kept paths (sorted: parents before children) with a reason each.
#[derive(Default)]
pub struct KeepSet {
    kept: BTreeMap<ImagePath, Reason>,
    /// Kept files whose slim content differs from the source's: a package
    /// database trimmed to the kept packages.
    replaced: BTreeMap<ImagePath, Vec<u8>>,
}

impl KeepSet {
    pub fn iter(&self) -> impl Iterator<Item = (&ImagePath, &Reason)> {
        self.kept.iter()
    }

    pub fn paths(&self) -> impl Iterator<Item = &ImagePath> {
        self.kept.keys()
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.kept.contains_key(path)
    }

    pub fn reason(&self, path: &str) -> Option<&Reason> {
        self.kept.get(path)
    }

    /// Keep the regular file `path` with `content` instead of its own.
    pub fn replace(&mut self, path: &ImagePath, content: Vec<u8>, reason: Reason) {
        self.kept.insert(path.clone(), reason);
        self.replaced.insert(path.clone(), content);
    }

    /// The content `path` has in the slim image when it is not the source's.
    pub fn replacement(&self, path: &str) -> Option<&[u8]> {
        self.replaced.get(path).map(Vec::as_slice)
    }

    /// Bytes of regular-file content kept (each hard-linked inode counted
    /// once, a replaced file by its new size).
    pub fn content_size(&self, fs: &RootFs) -> u64 {
        let unchanged = self.paths().filter(|p| !self.replaced.contains_key(*p));
        let replaced: u64 = self
            .replaced
            .iter()
            .filter(|(p, _)| self.kept.contains_key(*p))
            .map(|(_, c)| c.len() as u64)
            .sum();
        fs.content_size_of(unchanged) + replaced
    }

    /// Drop paths matching `globs` (`--exclude`).
    pub fn exclude(&mut self, globs: &KeepGlobs) {
        if globs.patterns.is_empty() {
            return;
        }
        self.kept.retain(|p, _| !globs.is_match(p));
    }

    /// Keep `path` for `reason` unless it is already kept (the first reason wins).
    pub fn insert(&mut self, path: &ImagePath, reason: Reason) {
        if !self.kept.contains_key(path) {
            self.kept.insert(path.clone(), reason);
        }
    }

    /// Keep every directory above a kept path, so the output tar lists each
    /// parent with its original mode and owner before its children.
    pub fn add_parents(&mut self) {
        let paths: Vec<ImagePath> = self.kept.keys().cloned().collect();
        for path in paths {
            let mut child = path;
            while !child.is_root() {
                let parent = child.parent();
                if parent.is_root() || self.kept.contains_key(&parent) {
                    break;
                }
                self.kept.insert(parent.clone(), Reason::ParentOf(child));
                child = parent;
            }
        }
    }

    /// The reason for a kept path, then the reasons of what it derives from.
    pub fn reason_chain(&self, first: &Reason) -> Vec<String> {
        let mut chain = vec![first.to_string()];
        let mut r = first;
        while let Some(next_path) = r.because_of() {
            match self.reason(next_path.as_str()) {
                Some(next) if chain.len() < 256 => {
                    chain.push(next.to_string());
                    r = next;
                }
                _ => break,
            }
        }
        chain
    }
}

/// A `--keep`, `--include` or `--exclude` pattern that is not a glob.
#[derive(Debug, thiserror::Error)]
#[error("{flag} {pattern:?} is not a valid pattern")]
pub struct BadGlob {
    pub flag: &'static str,
    pub pattern: String,
    #[source]
    pub source: globset::Error,
}

/// Patterns given with `--keep` (or `--include`, `--exclude`), matched
/// against absolute image paths.
pub struct KeepGlobs {
    set: GlobSet,
    patterns: Vec<String>,
}

impl KeepGlobs {
    /// `*` stays within one path component, `**` crosses them; a pattern
    /// without a leading `/` is taken from the image root.
    pub fn new(flag: &'static str, patterns: &[String]) -> Result<Self, BadGlob> {
        let mut builder = GlobSetBuilder::new();
        let mut normalized = Vec::new();
        for p in patterns {
            let abs = if p.starts_with('/') {
                p.clone()
            } else {
                format!("/{p}")
            };
            let glob = GlobBuilder::new(&abs)
                .literal_separator(true)
                .build()
                .map_err(|source| BadGlob {
                    flag,
                    pattern: p.clone(),
                    source,
                })?;
            builder.add(glob);
            normalized.push(abs);
        }
        let set = builder.build().map_err(|source| BadGlob {
            flag,
            pattern: patterns.join(" "),
            source,
        })?;
        Ok(KeepGlobs {
            set,
            patterns: normalized,
        })
    }

    pub fn is_match(&self, path: &ImagePath) -> bool {
        self.set.is_match(path.to_string())
    }

    /// The pattern that matches `path` first, if any.
    pub fn first_match(&self, path: &ImagePath) -> Option<&str> {
        let i = *self.set.matches(path.to_string()).first()?;
        Some(&self.patterns[i])
    }

    /// Keep every path of `fs` that a pattern matches, plus its parents.
    pub fn select(&self, fs: &RootFs) -> KeepSet {
        let mut keep = KeepSet::default();
        for (path, _) in fs.iter().filter(|(p, _)| !p.is_root()) {
            if let Some(pattern) = self.first_match(path) {
                keep.insert(path, Reason::Glob(format!("--keep {pattern}")));
            }
        }
        keep.add_parents();
        keep
    }
}
