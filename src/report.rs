//! The run's results: the stderr summary and the `--report` JSON file.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::files::PathError;
use crate::image_path::ImagePath;
use crate::keep::KeepSet;
use crate::layer::Kind;
use crate::packages::Packages;
use crate::platform::Platform;
use crate::rootfs::{Node, RootFs};
use crate::trace::ProbeFound;
use crate::units::human;

/// `12.3x smaller`; under 1.1x a percentage (`4.0% smaller`), which says
/// more than `1.0x`; `nothing removed` when all the content is still there.
fn how_much_smaller(before: u64, after: u64) -> String {
    if after >= before {
        "nothing removed".into()
    } else if after == 0 {
        "all removed".into()
    } else if (before as f64) < after as f64 * 1.1 {
        let saved = 100.0 * (before - after) as f64 / before as f64;
        format!("{saved:.1}% smaller")
    } else {
        format!("{:.1}x smaller", before as f64 / after as f64)
    }
}

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
    /// For an engine image: how it was read (in place, or through
    /// `docker save` and why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    /// What writing the target did, when worth saying (a push's uploads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For an index: the platforms slimmed (sizes are their sums).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Platform>,
    /// What `--probe`'s run did and added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeSummary>,
    /// What `--verify` found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySummary>,
    /// Packages (distribution and language) with a kept file: the slim
    /// image's package list, as in the report's `packages` and the SBOM.
    pub package_count: usize,
}

/// The probe's run, and what it added to static tracing.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ProbeSummary {
    pub seconds: f64,
    pub exit: i32,
    pub timed_out: bool,
    /// (access, path) pairs the recorder wrote.
    pub recorded: usize,
    /// Paths of the image the run touched (real paths and links on the way).
    pub touched: usize,
    /// Files the run opened or executed, and their content bytes (each
    /// inode once): what the run read, a floor for the slim image's size.
    pub opened_paths: usize,
    pub opened_bytes: u64,
    /// Kept paths that static tracing had not found, and their content bytes.
    pub added_paths: usize,
    pub added_bytes: u64,
}

/// `--verify`'s verdict.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifySummary {
    pub same: bool,
    /// One line per difference between the fat and the slim run.
    pub differences: Vec<String>,
    /// Paths the slim run's errors name, with the `--include` that keeps each.
    pub missing: Vec<String>,
    pub seconds: f64,
}

/// Whether static tracing had found `path` (or something below it): the
/// keep set before the probe's paths were added, with their parents.
pub fn found_statically(found: &ProbeFound, path: &ImagePath) -> bool {
    holds_or_below(&found.static_kept, path)
}

/// Whether `set` holds `path` or a path below it.
fn holds_or_below(set: &BTreeSet<ImagePath>, path: &ImagePath) -> bool {
    if set.contains(path) {
        return true;
    }
    let prefix = format!("{}/", path.as_str());
    set.range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
        .next()
        .is_some_and(|p| p.as_str().starts_with(&prefix))
}

/// `static`, `probe` or `both`: which evidence found a kept path.
fn found_by(found: &ProbeFound, path: &ImagePath) -> &'static str {
    match (
        found_statically(found, path),
        holds_or_below(&found.touched, path),
    ) {
        (true, true) => "both",
        (true, false) => "static",
        // Kept for a probed path (a library of a program the run loaded).
        (false, _) => "probe",
    }
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
        if part.probe.is_some() {
            self.probe = part.probe.clone();
        }
        self.package_count += part.package_count;
    }

    /// One line for stderr.
    pub fn line(&self) -> String {
        let (before, after) = (&self.before, &self.after);
        // A dry run writes no layer: its stored size would be a false 0 B.
        let stored = if self.dry_run {
            String::new()
        } else {
            format!(
                ", {} -> {} layer bytes stored",
                human(before.stored_bytes),
                human(after.stored_bytes)
            )
        };
        let packages = match self.package_count {
            0 => String::new(),
            1 => ", 1 package".into(),
            n => format!(", {n} packages"),
        };
        let mut line = format!(
            "slimify{}: {} -> {}: {} -> {} content ({}){stored}, {} -> {} paths{packages}, {:.2} s",
            if self.dry_run {
                " (dry run, nothing written)"
            } else {
                ""
            },
            self.source,
            self.target,
            human(before.content_bytes),
            human(after.content_bytes),
            how_much_smaller(before.content_bytes, after.content_bytes),
            before.paths,
            after.paths,
            self.seconds
        );
        if let Some(n) = &self.note {
            line += &format!("; {n}");
        }
        if let Some(p) = &self.probe {
            line += &format!(
                "; probe: {} paths touched ({} files opened, {}) in {:.1} s (exit {}{}), {} kept paths ({}) static tracing had not found",
                p.touched,
                p.opened_paths,
                human(p.opened_bytes),
                p.seconds,
                p.exit,
                if p.timed_out { ", stopped at --timeout" } else { "" },
                p.added_paths,
                human(p.added_bytes)
            );
        }
        if let Some(v) = &self.verify {
            line += &if v.same {
                format!(
                    "; verified: the slim image behaves like the source ({:.1} s)",
                    v.seconds
                )
            } else {
                format!(
                    "; verify: the slim image behaves differently ({} differences)",
                    v.differences.len()
                )
            };
        }
        if !self.platforms.is_empty() {
            let names: Vec<String> = self.platforms.iter().map(|p| p.to_string()).collect();
            line += &format!("; index of {}", names.join(", "));
        }
        // What to pin the image by.
        if !self.dry_run && !self.manifest_digest.is_empty() {
            line += &format!("; digest {}", self.manifest_digest);
        }
        line
    }

    /// `--format json`: the summary as one JSON object, with the report's
    /// schema version.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Versioned<'a> {
            schema_version: u32,
            #[serde(flatten)]
            summary: &'a Summary,
        }
        let v = Versioned {
            schema_version: REPORT_SCHEMA_VERSION,
            summary: self,
        };
        serde_json::to_string(&v).expect("a summary serializes")
    }
}

/// Sizes of what `keep` selects from `fs`.
pub fn kept_sizes(fs: &RootFs, keep: &KeepSet, stored: u64) -> Sizes {
    Sizes {
        paths: keep.len(),
        content_bytes: keep.content_size(fs),
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
    /// With `--probe`: `static`, `probe` or `both`, the evidence that found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    found_by: Option<&'static str>,
}

/// A package some kept files came from, and how much of it is kept.
#[derive(Serialize)]
struct KeptPackage<'a> {
    /// The package manager: deb, apk, pypi, npm or maven.
    #[serde(rename = "type")]
    ecosystem: &'static str,
    name: String,
    version: &'a str,
    purl: String,
    files: usize,
    bytes: u64,
}

/// The report's format: raised when a field changes meaning or goes away
/// (docs/report.schema.json describes this version).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
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
    /// Every path of the source not kept, for review.
    list: Vec<DroppedPath>,
}

#[derive(Serialize)]
struct DroppedPath {
    path: String,
    kind: &'static str,
    size: u64,
}

fn kind_name(n: &Node) -> &'static str {
    match n.kind {
        Kind::File { .. } => "file",
        Kind::Dir => "dir",
        Kind::Symlink(_) => "symlink",
        Kind::CharDevice { .. } => "char-device",
        Kind::BlockDevice { .. } => "block-device",
        Kind::Fifo => "fifo",
    }
}

/// `report.json` becomes `report.linux-arm64-v8.json` for one platform of an index.
pub fn path_for_platform(path: &Path, platform: &Platform) -> PathBuf {
    let tag = platform.file_tag();
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{tag}"),
    };
    path.with_file_name(name)
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("serializing the report")]
    Json(#[source] serde_json::Error),
    #[error(transparent)]
    Io(#[from] PathError),
}

/// Write the JSON report (atomically, like every other output).
pub fn write_report(
    path: &Path,
    summary: &Summary,
    fs: &RootFs,
    keep: &KeepSet,
    db: &Packages,
    found: Option<&ProbeFound>,
) -> Result<(), ReportError> {
    let size = |p: &ImagePath, n: &Node| {
        keep.replacement(p.as_str())
            .map_or(n.size(), |r| r.len() as u64)
    };
    let packages = db
        .kept(keep)
        .into_iter()
        .map(|(pkg, files)| KeptPackage {
            ecosystem: pkg.ecosystem.name(),
            name: pkg.full_name(),
            version: &pkg.version,
            purl: pkg.purl(),
            files: files.len(),
            bytes: files
                .iter()
                .filter_map(|p| Some(size(p, fs.get(p.as_str())?)))
                .sum(),
        })
        .collect();
    let kept = keep
        .iter()
        .filter_map(|(p, r)| {
            let n = fs.get(p.as_str())?;
            Some(Kept {
                path: p.to_string(),
                kind: kind_name(n),
                size: size(p, n),
                mode: format!("{:04o}", n.meta.mode),
                reasons: keep.reason_chain(r),
                target: match &n.kind {
                    Kind::Symlink(t) => Some(t.as_str()),
                    _ => None,
                },
                package: db.owner(p.as_str()).map(|k| k.label()),
                found_by: found.map(|f| found_by(f, p)),
            })
        })
        .collect();
    let list = fs
        .descendants(&ImagePath::root())
        .filter(|(p, _)| !keep.contains(p.as_str()))
        .map(|(p, n)| DroppedPath {
            path: p.to_string(),
            kind: kind_name(n),
            size: n.size(),
        })
        .collect();
    let report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        summary,
        dropped: Dropped {
            paths: summary.before.paths.saturating_sub(summary.after.paths),
            content_bytes: summary
                .before
                .content_bytes
                .saturating_sub(summary.after.content_bytes),
            list,
        },
        packages,
        kept,
    };
    let json = serde_json::to_vec_pretty(&report).map_err(ReportError::Json)?;
    Ok(crate::files::replace_file(path, &json)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_much_went_in_words_that_fit() {
        assert_eq!(how_much_smaller(100, 100), "nothing removed");
        assert_eq!(how_much_smaller(100, 96), "4.0% smaller");
        assert_eq!(how_much_smaller(1000, 80), "12.5x smaller");
        assert_eq!(how_much_smaller(100, 0), "all removed");
        let mut s = Summary {
            source: "a".into(),
            target: "b".into(),
            dry_run: true,
            ..Summary::default()
        };
        s.before.content_bytes = 1000;
        s.after.content_bytes = 1000;
        let line = s.line();
        assert!(line.contains("(nothing removed)"), "{line}");
        assert!(!line.contains("stored"), "{line}");
        s.dry_run = false;
        assert!(s.line().contains("0 B -> 0 B layer bytes stored"));
    }
}
