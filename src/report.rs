//! The run's results: the stderr summary and the `--report` JSON file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::keep::{KeepSet, Reason};
use crate::packages::Packages;
use crate::rootfs::{Node, NodeKind, RootFs};

/// Sizes of one side (source or slim image).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Sizes {
    /// Paths in the filesystem (files, directories, links, ...), the root excluded.
    pub paths: usize,
    /// Bytes of regular-file content, each hard-linked inode counted once.
    pub content_bytes: u64,
    /// Bytes of the layer blobs as stored (compressed for gzip/zstd layers).
    pub stored_bytes: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub source: String,
    pub target: String,
    pub before: Sizes,
    pub after: Sizes,
    pub seconds: f64,
    pub layer_digest: String,
    pub manifest_digest: String,
    /// Trace and report only: nothing was written.
    pub dry_run: bool,
    /// What the tracer could not resolve (names, not values: Env is never printed).
    pub warnings: Vec<String>,
    /// What writing the target did, when worth saying (a push's uploads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For an index: the platforms slimmed (sizes are their sums).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

impl Sizes {
    fn add(&mut self, other: &Sizes) {
        self.paths += other.paths;
        self.content_bytes += other.content_bytes;
        self.stored_bytes += other.stored_bytes;
    }
}

impl Summary {
    /// Add one platform image's figures to an index's summary.
    pub fn add(&mut self, part: &Summary) {
        self.before.add(&part.before);
        self.after.add(&part.after);
        self.platforms.extend(part.platforms.iter().cloned());
        self.layer_digest = part.layer_digest.clone();
        self.manifest_digest = part.manifest_digest.clone();
        let prefix = part
            .platforms
            .first()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        self.warnings
            .extend(part.warnings.iter().map(|w| format!("{prefix}{w}")));
    }

    /// One line for stderr.
    pub fn line(&self) -> String {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        format!(
            "slimify{}: {} -> {}: {} -> {} content ({:.1}x smaller), {} -> {} layer bytes stored, {} -> {} paths, {:.2} s",
            if self.dry_run { " (dry run, nothing written)" } else { "" },
            self.source,
            self.target,
            human(self.before.content_bytes),
            human(self.after.content_bytes),
            ratio(self.before.content_bytes, self.after.content_bytes),
            human(self.before.stored_bytes),
            human(self.after.stored_bytes),
            self.before.paths,
            self.after.paths,
            self.seconds
        ) + &self.note.as_ref().map(|n| format!("; {n}")).unwrap_or_default()
            + &if self.platforms.is_empty() {
                String::new()
            } else {
                format!("; index of {}", self.platforms.join(", "))
            }
    }
}

pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Sizes of what `keep` selects from `fs`.
pub fn kept_sizes(fs: &RootFs, keep: &KeepSet, stored: u64) -> Sizes {
    Sizes {
        paths: keep.len(),
        content_bytes: fs.content_size_of(keep.iter().map(|(p, _)| p.as_str())),
        stored_bytes: stored,
    }
}

#[derive(Serialize)]
struct Kept<'a> {
    path: String,
    kind: &'static str,
    size: u64,
    mode: String,
    /// Why it is kept, nearest reason first: `parent of /a/b`, then why /a/b is kept.
    reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    /// The distribution package that installed it (`libc6 2.36-9+deb12u10`),
    /// when the image has a dpkg or apk database that lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<String>,
}

/// A package some kept files came from, and how much of it is kept.
#[derive(Serialize)]
struct KeptPackage<'a> {
    name: &'a str,
    version: &'a str,
    files: usize,
    bytes: u64,
}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    dropped: Dropped,
    /// Packages the kept files came from (empty without a package database).
    packages: Vec<KeptPackage<'a>>,
    kept: Vec<Kept<'a>>,
}

#[derive(Serialize)]
struct Dropped {
    paths: usize,
    content_bytes: u64,
}

fn kind_name(n: &Node) -> &'static str {
    match n.kind {
        NodeKind::File { .. } => "file",
        NodeKind::Dir => "dir",
        NodeKind::Symlink(_) => "symlink",
        NodeKind::CharDevice { .. } => "char-device",
        NodeKind::BlockDevice { .. } => "block-device",
        NodeKind::Fifo => "fifo",
    }
}

/// The reason for a kept path, then the reasons of what it derives from.
pub fn reason_chain(keep: &KeepSet, first: &Reason) -> Vec<String> {
    let mut chain = vec![first.to_string()];
    let mut r = first;
    while let Some(next_path) = r.because_of() {
        match keep.reason(next_path) {
            Some(next) if chain.len() < 256 => {
                chain.push(next.to_string());
                r = next;
            }
            _ => break,
        }
    }
    chain
}

/// `report.json` becomes `report.linux-arm64-v8.json` for one platform of an index.
pub fn path_for_platform(path: &Path, platform: &crate::source::platform::Platform) -> PathBuf {
    let tag = platform.to_string().replace('/', "-");
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{tag}"),
    };
    path.with_file_name(name)
}

/// Write the JSON report (atomically, like every other output).
pub fn write_report(path: &Path, summary: &Summary, fs: &RootFs, keep: &KeepSet) -> Result<()> {
    let db = Packages::read(fs);
    let mut packages: BTreeMap<(&str, &str), (usize, u64)> = BTreeMap::new();
    for (p, _) in keep.iter() {
        if let (Some(pkg), Some(n)) = (db.owner(p), fs.get(p)) {
            let e = packages.entry((&pkg.name, &pkg.version)).or_default();
            e.0 += 1;
            if let NodeKind::File { size, .. } = n.kind {
                e.1 += size;
            }
        }
    }
    let kept = keep
        .iter()
        .filter_map(|(p, r)| {
            let n = fs.get(p)?;
            Some(Kept {
                path: format!("/{p}"),
                kind: kind_name(n),
                size: match n.kind {
                    NodeKind::File { size, .. } => size,
                    _ => 0,
                },
                mode: format!("{:04o}", n.meta.mode),
                reasons: reason_chain(keep, r),
                target: match &n.kind {
                    NodeKind::Symlink(t) => Some(t.as_str()),
                    _ => None,
                },
                package: db.owner(p).map(|k| format!("{} {}", k.name, k.version)),
            })
        })
        .collect();
    let report = Report {
        summary,
        dropped: Dropped {
            paths: summary.before.paths.saturating_sub(summary.after.paths),
            content_bytes: summary
                .before
                .content_bytes
                .saturating_sub(summary.after.content_bytes),
        },
        packages: packages
            .into_iter()
            .map(|((name, version), (files, bytes))| KeptPackage {
                name,
                version,
                files,
                bytes,
            })
            .collect(),
        kept,
    };
    let json = serde_json::to_vec_pretty(&report)
        .map_err(|e| Error::image(format!("serializing report: {e}")))?;
    crate::sink::replace_file(path, &json)
}

pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}
