//! Which package installed a file, from the metadata the image carries:
//! the distribution's database (Debian's dpkg, Alpine's apk: [`dpkg`],
//! [`apk`]) and the language package managers' own records (Python
//! `*.dist-info`, npm `node_modules/*/package.json`, Maven `pom.properties`
//! inside jars: [`language`]).
//!
//! Scanners (Trivy, Grype, Syft) find packages only through that metadata,
//! so a slim image that drops it looks clean while it still carries the
//! libraries. [`metadata`] keeps the part of it that describes what is kept;
//! the report and the SBOM list the same packages, [`Packages::kept`].

mod apk;
mod dpkg;
mod language;
pub mod metadata;
mod purl;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::image_path::ImagePath;
use crate::keep::KeepSet;
use crate::rootfs::RootFs;

pub use metadata::keep_metadata;

/// Which package manager installed a package: the purl type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Apk,
    Pypi,
    Npm,
    Maven,
}

impl Ecosystem {
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Maven => "maven",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// The purl namespace: the distribution (`debian`), the npm scope
    /// (`@types`) or the Maven groupId.
    pub namespace: Option<String>,
    pub name: String,
    pub version: String,
    /// The CPU architecture a distribution package was built for.
    pub arch: Option<String>,
    /// `debian-12`, `alpine-3.19.1`: from the image's os-release.
    pub distro: Option<String>,
}

impl Package {
    /// `libc6 2.36-9+deb12u10`, as the report names a file's package.
    pub fn label(&self) -> String {
        format!("{} {}", self.full_name(), self.version)
    }

    /// The name as its ecosystem writes it: an npm scope is part of it
    /// (`@types/node`).
    pub fn full_name(&self) -> String {
        match (&self.namespace, self.ecosystem) {
            (Some(scope), Ecosystem::Npm) => format!("{scope}/{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// The package URL (github.com/package-url/purl-spec) scanners match
    /// advisories against.
    pub fn purl(&self) -> String {
        purl::purl(self)
    }
}

/// Every package the image's metadata lists, and the files each owns by
/// their real image path.
#[derive(Default)]
pub struct Packages {
    list: Vec<Package>,
    /// Files of distribution packages (dpkg, apk).
    system: BTreeMap<ImagePath, usize>,
    /// Files of language packages (a file may also be a distribution's;
    /// a shaded jar holds several packages).
    language: BTreeMap<ImagePath, Vec<usize>>,
    dpkg: dpkg::Database,
    apk: apk::Database,
    /// What the metadata of a language package is: its dist-info files or
    /// its package.json, by package.
    language_metadata: BTreeMap<usize, Vec<ImagePath>>,
    /// The RECORD of each Python package, kept trimmed to kept files.
    records: BTreeMap<usize, ImagePath>,
}

impl Packages {
    /// Read every database the image has (empty when it has none), and
    /// the metadata of language packages; jars only when `keep` has them.
    pub fn read(fs: &RootFs, keep: &KeepSet) -> Packages {
        let mut p = Packages::default();
        let distro = purl::distro(fs);
        p.dpkg = dpkg::Database::read(fs, &mut p, distro.as_deref());
        p.apk = apk::Database::read(fs, &mut p, distro.as_deref());
        language::read(fs, keep, &mut p);
        p
    }

    /// The distribution package that installed `path`, else the language
    /// package it belongs to.
    pub fn owner(&self, path: &str) -> Option<&Package> {
        self.owners(path).next()
    }

    /// Every package `path` belongs to: its distribution package first.
    pub fn owners<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a Package> + 'a {
        self.owner_indices(path).map(|i| &self.list[i])
    }

    /// The indexes of the packages `path` belongs to: its distribution
    /// package first.
    fn owner_indices<'a>(&'a self, path: &str) -> impl Iterator<Item = usize> + 'a {
        let system = self.system.get(path).copied();
        let language = self.language.get(path).into_iter().flatten().copied();
        system.into_iter().chain(language)
    }

    /// The packages with at least one kept file, in a stable order
    /// (ecosystem, name, version), each with the kept paths it owns.
    pub fn kept<'a>(&'a self, keep: &'a KeepSet) -> Vec<(&'a Package, Vec<&'a ImagePath>)> {
        let mut out: Vec<_> = self
            .kept_indices(keep)
            .into_iter()
            .map(|(i, files)| (&self.list[i], files))
            .collect();
        out.sort_by(|(a, _), (b, _)| {
            (a.ecosystem, &a.namespace, &a.name, &a.version).cmp(&(
                b.ecosystem,
                &b.namespace,
                &b.name,
                &b.version,
            ))
        });
        out
    }

    /// The kept paths of each package with any, by package index.
    fn kept_indices<'a>(&self, keep: &'a KeepSet) -> BTreeMap<usize, Vec<&'a ImagePath>> {
        let mut by_index: BTreeMap<usize, Vec<&ImagePath>> = BTreeMap::new();
        for path in keep.paths() {
            for i in self.owner_indices(path.as_str()) {
                by_index.entry(i).or_default().push(path);
            }
        }
        by_index
    }

    /// Add a package; its files are recorded with [`Packages::own`].
    fn add(&mut self, package: Package) -> usize {
        self.list.push(package);
        self.list.len() - 1
    }

    /// Record that `listed` (an absolute path as a database writes it)
    /// belongs to package `i`. Parents resolve inside the image (usrmerge:
    /// /lib is usr/lib), the file itself stays as named; directories are
    /// shared between packages, so owned by none.
    fn own(&mut self, fs: &RootFs, listed: &str, i: usize) {
        let Some(real) = real_file(fs, listed) else {
            return;
        };
        match self.list[i].ecosystem {
            Ecosystem::Deb | Ecosystem::Apk => {
                self.system.entry(real).or_insert(i);
            }
            _ => self.language.entry(real).or_default().push(i),
        }
    }
}

/// The real path of `listed` when it is a file, a symlink or another
/// non-directory. A symlink to a directory is a directory the package
/// shipped that the image links elsewhere (usrmerge's /lib): not owned.
fn real_file(fs: &RootFs, listed: &str) -> Option<ImagePath> {
    let real = fs.lookup(listed, false).ok()??;
    let is_dir = |p: &str| fs.get(p).is_some_and(|n| n.is_dir());
    let to_dir = || matches!(fs.lookup(listed, true), Ok(Some(t)) if is_dir(t.as_str()));
    (!is_dir(real.as_str()) && !to_dir()).then_some(real)
}

/// The most a package record may hold (a real dpkg status of 5,000
/// packages is about 10 MB), and a jar read for its pom.properties: a
/// hostile image cannot make slimify hold gigabytes for them.
const MAX_RECORD: u64 = 64 << 20;
const MAX_JAR: u64 = 512 << 20;

/// The content of the regular file `path` resolves to, unless it is larger
/// than `max` (then it is treated as absent).
fn read_record(fs: &RootFs, path: &str, max: u64) -> Option<(ImagePath, Vec<u8>)> {
    let real = fs.lookup(path, true).ok()??;
    if fs.get(real.as_str())?.size() > max {
        return None;
    }
    fs.read(real.as_str())
}

/// `Key: value` stanzas separated by blank lines (dpkg status; apk uses
/// `K:value`), with their raw text. Continuation lines (a leading space)
/// belong to the field above and are skipped.
fn stanzas(text: &str) -> impl Iterator<Item = (&str, Vec<(&str, &str)>)> {
    text.split("\n\n")
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let fields = s
                .lines()
                .filter(|l| !l.starts_with(' '))
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k, v.trim()))
                .collect();
            (s.trim_matches('\n'), fields)
        })
}

/// The value of `key` in a stanza.
fn field<'a>(stanza: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    stanza.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests;
