//! Keep the package metadata that describes what is kept, so scanners
//! still see every package the slim image carries (and none it does not):
//! the distribution's database trimmed to packages with a kept file (their
//! file lists trimmed to kept files) and their copyright files, the release
//! file that tells scanners which distribution to match against, and the
//! dist-info or package.json of each kept language package. An RPM
//! database cannot be trimmed here, so it is kept whole, with a warning. A record that is kept already (by
//! `--keep`, or as something a program of the image reads) is never
//! trimmed: it stays as the image has it.

use std::collections::BTreeSet;

use super::{Ecosystem, Packages};
use crate::image_path::ImagePath;
use crate::keep::{KeepSet, Reason};
use crate::rootfs::RootFs;

/// One metadata file of the slim image: kept as it is, or with new content.
pub struct Metadata {
    pub path: ImagePath,
    /// `None`: the file as it is in the image.
    pub content: Option<Vec<u8>>,
    /// What it is, for the report: `file list of libc6 2.36-9`.
    pub what: String,
}

impl Metadata {
    pub fn whole(path: &ImagePath, what: String) -> Self {
        Metadata {
            path: path.clone(),
            content: None,
            what,
        }
    }

    /// `path` with only the lines `keep_line` accepts.
    pub fn trimmed(
        fs: &RootFs,
        path: &ImagePath,
        of: &str,
        keep_line: impl Fn(&str) -> bool,
    ) -> Self {
        let text = super::read_record(fs, path.as_str(), super::MAX_RECORD)
            .map(|(_, t)| t)
            .unwrap_or_default();
        let mut out = String::new();
        for line in String::from_utf8_lossy(&text).lines() {
            if keep_line(line) {
                out += line;
                out.push('\n');
            }
        }
        Metadata {
            path: path.clone(),
            content: Some(out.into_bytes()),
            what: format!("{} of {of}, trimmed to kept files", path.file_name()),
        }
    }

    pub fn replaced(path: &ImagePath, content: String, what: String) -> Self {
        Metadata {
            path: path.clone(),
            content: Some(content.into_bytes()),
            what,
        }
    }
}

/// Whether a path as a database lists it (`/lib/x86_64-linux-gnu/libc.so.6`,
/// `/.`) is in the slim image: its parents resolve inside the image.
pub fn line_is_kept(fs: &RootFs, keep: &KeepSet, listed: &str) -> bool {
    match fs.lookup(&format!("/{}", listed.trim_start_matches('/')), false) {
        Ok(Some(real)) => real.is_root() || keep.contains(real.as_str()),
        _ => false,
    }
}

/// The files that tell scanners which distribution (and release) the
/// packages come from; Trivy and Grype match no OS package without one.
const RELEASE_FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
    "etc/redhat-release",
    "etc/system-release",
];

/// Where RPM keeps its database (BerkeleyDB, NDB or SQLite).
const RPM_DIRS: &[&str] = &["var/lib/rpm", "usr/lib/sysimage/rpm"];

/// Keep the metadata of every package with a kept file; returns warnings.
pub fn keep_metadata(fs: &RootFs, keep: &mut KeepSet, packages: &Packages) -> Vec<String> {
    keep.add_parents();
    let mut warnings = Vec::new();
    let mut kept: Vec<usize> = packages.kept_indices(keep).into_keys().collect();
    let distribution = kept
        .iter()
        .any(|&i| matches!(packages.list[i].ecosystem, Ecosystem::Deb | Ecosystem::Apk));
    let rpm = RPM_DIRS
        .iter()
        .filter_map(|d| fs.lookup(d, true).ok().flatten())
        .find(|d| !fs.children(d).is_empty());
    if distribution || rpm.is_some() {
        for file in RELEASE_FILES {
            keep_resolved(fs, keep, file, "identifies the distribution to scanners");
        }
        // A release file can belong to a package not otherwise kept (base-files).
        kept = packages.kept_indices(keep).into_keys().collect();
    }
    if let Some(dir) = rpm {
        let mut bytes = 0;
        for (path, node) in fs.descendants(&dir) {
            bytes += node.size();
            keep.insert(
                path,
                Reason::PackageMetadata("the RPM database, kept whole".into()),
            );
        }
        warnings.push(format!(
            "the RPM database {dir} is kept whole ({}): slimify cannot trim it, so a scanner lists every RPM package, also those whose files were dropped",
            crate::units::human(bytes)
        ));
    }
    // Debian's copyright file of each kept package: the licence texts a
    // distributor of its binaries must pass on, and what license scanners
    // (Syft, Trivy) read. Before the file lists, which then name it. A doc
    // directory can link to another package's (libgcc-s1's is gcc-12-base's),
    // which then has a kept file too: repeat until no package is added.
    loop {
        for &i in &kept {
            let p = &packages.list[i];
            if p.ecosystem == Ecosystem::Deb {
                let what = format!("the copyright and licence of {}", p.label());
                let copyright = format!("usr/share/doc/{}/copyright", p.name);
                keep_resolved(fs, keep, &copyright, &what);
            }
        }
        let now: Vec<usize> = packages.kept_indices(keep).into_keys().collect();
        if now == kept {
            break;
        }
        kept = now;
    }
    let mut records = packages.dpkg.metadata(fs, keep, &kept);
    records.extend(packages.apk.metadata(fs, keep, &kept));
    let kept: BTreeSet<usize> = kept.into_iter().collect();
    for (i, files) in &packages.language_metadata {
        if kept.contains(i) {
            let what = format!(
                "the {} record of {}",
                packages.list[*i].ecosystem.name(),
                packages.list[*i].label()
            );
            for f in files {
                keep_resolved(fs, keep, f.as_str(), &what);
            }
        }
    }
    records.extend(super::language::trimmed_records(fs, keep, packages, &kept));
    for m in records {
        let reason = Reason::PackageMetadata(m.what);
        match m.content {
            // Kept already (`--keep '/**'`, or a program that reads it):
            // it stays as the image has it.
            Some(_) if keep.contains(m.path.as_str()) => {}
            Some(content) => keep.replace(&m.path, content, reason),
            None => keep.insert(&m.path, reason),
        }
    }
    warnings
}

/// Keep `path` and the symlinks on the way to it, when it exists.
fn keep_resolved(fs: &RootFs, keep: &mut KeepSet, path: &str, what: &str) {
    if let Ok(Some(r)) = fs.resolve(path, true) {
        if fs.get(r.real.as_str()).is_some_and(|n| !n.is_dir()) {
            keep.insert(&r.real, Reason::PackageMetadata(what.to_string()));
            for l in r.links {
                keep.insert(&l, Reason::LinkTo(r.real.clone()));
            }
        }
    }
}
