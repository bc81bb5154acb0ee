//! slimify: turn a fat container image into a minimal one after it was built.
//!
//! The pipeline, one module per step, in the order data flows:
//!
//! ```text
//! source/  → layer/   → rootfs/  → keep    → write/  → sink/
//! (read)     (index)    (flatten)  (select)  (layer,   (target
//!                                             config)   transport)
//! ```
//! [`slim`] wires them together; `main.rs` only parses arguments and prints.
//! Beside the line: `registry/` is the OCI distribution client that the
//! `docker://` source and sink share, `layer/cache.rs` shares layer indexes
//! between images by diff_id, and `batch/` runs [`slim_with`] over a list of
//! images on one such cache.

pub mod batch;
pub mod digest;
pub mod docker;
pub mod error;
pub mod interrupt;
pub mod keep;
pub mod layer;
pub mod limits;
pub mod packages;
pub mod reference;
pub mod registry;
pub mod report;
pub mod rootfs;
pub mod sink;
pub mod source;
pub mod trace;
pub mod ui;
pub mod write;

#[cfg(test)]
mod testutil;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use error::{Error, IoContext, Result};
use keep::KeepGlobs;
use layer::cache::LayerCache;
use reference::ImageRef;
use report::{kept_sizes, Sizes, Summary};
use rootfs::RootFs;
use source::platform::{Platform, Want};
use ui::Ui;

/// What to keep: exact `--keep` globs, or tracing (the default), then `--exclude`.
#[derive(Clone, Debug, Default)]
pub struct Select {
    /// `--keep` patterns (absolute image paths; `*`, `**`, `?`, `[...]`, `{a,b}`).
    /// When given, exactly what they match is kept and nothing is traced.
    pub keep: Vec<String>,
    /// How to trace when no `--keep` is given.
    pub trace: trace::TraceOptions,
    /// `--exclude` patterns, removed from whatever was selected.
    pub exclude: Vec<String>,
}

/// What one run does.
#[derive(Clone)]
pub struct Options {
    pub source: ImageRef,
    pub target: ImageRef,
    pub select: Select,
    /// Trace and report, write nothing.
    pub dry_run: bool,
    /// gzip level of the output layer (libdeflate's, 0-12).
    pub compression_level: u32,
    pub report: Option<PathBuf>,
    /// Where temporary spools go (default: the system temporary directory).
    pub tmp_dir: Option<PathBuf>,
    /// How much a (possibly hostile) source may make slimify read and hold.
    pub limits: limits::Limits,
    /// Credentials and TLS settings for `docker://` sources and targets.
    pub registry: registry::Settings,
    /// `--cache-dir`: uncompressed layers kept by diff_id across runs.
    pub cache_dir: Option<PathBuf>,
    /// `--platform`: which images of an index to slim (empty: see [`wanted`]).
    pub platforms: Vec<Platform>,
    pub ui: Ui,
}

/// A source image read, flattened and selected from, before anything is written.
struct Prepared {
    image: source::SourceImage,
    fs: RootFs,
    keep: keep::KeepSet,
    warnings: Vec<String>,
    before: Sizes,
}

/// Where images are read from and how, shared by `slim` and `explain`.
struct Reading<'a> {
    source: &'a ImageRef,
    select: &'a Select,
    limits: &'a limits::Limits,
    registry: &'a registry::Settings,
    tmp_dir: Option<&'a PathBuf>,
    ui: Ui,
}

/// A run's temporary directory: decompressed layers, downloads, the written
/// layer. Removed when dropped; a killed run's is removed by the next run.
fn spool_dir(tmp_dir: Option<&PathBuf>) -> Result<tempfile::TempDir> {
    let tmp_root = tmp_dir.cloned().unwrap_or_else(std::env::temp_dir);
    sink::leftovers::remove_stale(&tmp_root, sink::leftovers::SPOOL);
    tempfile::Builder::new()
        .prefix(&sink::leftovers::prefix(sink::leftovers::SPOOL))
        .tempdir_in(&tmp_root)
        .at(&tmp_root)
}

/// Open the source: one image, or the images of an index that `want` selects.
fn open_source(r: &Reading, spool: &Path, want: &Want) -> Result<source::Opened> {
    let opening = r.ui.spinner(format!("opening {}", r.source));
    let opened = source::open(r.source, spool, r.registry, want)?;
    opening.finish_and_clear();
    Ok(opened)
}

/// Read, verify and flatten one image, then select what to keep.
fn prepare(r: &Reading, image: source::SourceImage, cache: &LayerCache) -> Result<Prepared> {
    let select = r.select;
    let globs = KeepGlobs::new(&select.keep)?;
    let exclude = KeepGlobs::new(&select.exclude)?;
    let reading = r.ui.bytes("reading layers", image.stored_size());
    let budget = limits::Budget::new(*r.limits);
    let layers = image
        .layers
        .par_iter()
        .enumerate()
        .map(|(i, l)| cache.index(i, l, &reading, &budget))
        .collect::<Result<Vec<_>>>()?;
    reading.finish_and_clear();
    let mut fs = RootFs::from_layers(layers)?;
    let before = Sizes {
        paths: fs.len(),
        content_bytes: fs.content_size(),
        stored_bytes: image.stored_size(),
    };

    let (mut keep, warnings) = if select.keep.is_empty() {
        let mut keep = keep::KeepSet::default();
        let warnings = trace::trace_image(&mut fs, &image.config, &select.trace, &mut keep)?;
        (keep, warnings)
    } else {
        (globs.select(&fs), Vec::new())
    };
    if !select.exclude.is_empty() {
        keep.exclude(&exclude);
    }
    keep.add_parents();
    if keep.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to keep: no path of {} matches {}",
            r.source,
            select.keep.join(" ")
        )));
    }
    Ok(Prepared {
        image,
        fs,
        keep,
        warnings,
        before,
    })
}

/// Read `source`, flatten it, keep what was selected, write `target`.
pub fn slim(opts: &Options) -> Result<Summary> {
    slim_with(opts, None)
}

/// Which images of an index to slim: `--platform`'s, else every platform
/// when the target can hold an index, else the one this machine runs.
fn wanted(opts: &Options) -> Want {
    if !opts.platforms.is_empty() {
        Want::These(opts.platforms.clone())
    } else if sink::Output::fits(&opts.target) {
        Want::All
    } else {
        Want::Host
    }
}

/// One slim image, written to the spool, before it goes to the target.
struct Slimmed {
    layer: write::WrittenLayer,
    blobs: write::ImageBlobs,
}

/// `--compression-level` must be one libdeflate has; checked before any work
/// (a batch checks it once for all its images).
pub fn check_compression_level(level: u32) -> Result<()> {
    if level > write::MAX_LEVEL {
        return Err(Error::Usage(format!(
            "--compression-level {level} is out of range 0-{}",
            write::MAX_LEVEL
        )));
    }
    Ok(())
}

/// [`slim`], reading layers through `cache` when given (a batch shares one).
pub fn slim_with(opts: &Options, cache: Option<&LayerCache>) -> Result<Summary> {
    let started = Instant::now();
    check_compression_level(opts.compression_level)?;
    let r = Reading {
        source: &opts.source,
        select: &opts.select,
        limits: &opts.limits,
        registry: &opts.registry,
        tmp_dir: opts.tmp_dir.as_ref(),
        ui: opts.ui,
    };
    let spool = spool_dir(r.tmp_dir)?;
    let own_cache;
    let cache = match cache {
        Some(c) => c,
        None => {
            own_cache = LayerCache::new(spool.path(), opts.cache_dir.clone(), 0)?;
            &own_cache
        }
    };
    let opened = open_source(&r, spool.path(), &wanted(opts))?;
    let multi = opened.from_index && sink::Output::fits(&opts.target);
    let mut summary = Summary {
        source: opts.source.to_string(),
        target: opts.target.to_string(),
        dry_run: opts.dry_run,
        ..Summary::default()
    };
    let mut slimmed: Vec<Slimmed> = Vec::new();
    for image in opened.images {
        let p = prepare(&r, image, cache)?;
        let platform = source::platform::Platform::of_config(&p.image.config);
        let mut part = Summary {
            source: summary.source.clone(),
            target: summary.target.clone(),
            before: p.before,
            after: kept_sizes(&p.fs, &p.keep, 0),
            dry_run: opts.dry_run,
            warnings: p.warnings.clone(),
            platforms: if multi {
                vec![platform.to_string()]
            } else {
                vec![]
            },
            ..Summary::default()
        };
        if !opts.dry_run {
            let writing = opts.ui.bytes("writing layer", part.after.content_bytes);
            let out = tempfile::tempfile_in(spool.path()).at(spool.path())?;
            let layer = write::write_layer(&p.fs, &p.keep, out, opts.compression_level, &writing)?;
            writing.finish_and_clear();
            let blobs = write::slim_config(&p.image.config, &layer, p.image.layers.len())?;
            part.after.stored_bytes = layer.size;
            part.layer_digest = layer.digest.to_string();
            part.manifest_digest = blobs.manifest_digest.to_string();
            slimmed.push(Slimmed { layer, blobs });
        }
        if let Some(path) = &opts.report {
            let path = if multi {
                report::path_for_platform(path, &platform)
            } else {
                path.clone()
            };
            part.seconds = report::seconds(started.elapsed());
            report::write_report(&path, &part, &p.fs, &p.keep)?;
        }
        summary.add(&part);
    }
    if !opts.dry_run {
        let index = if multi {
            let blobs: Vec<&write::ImageBlobs> = slimmed.iter().map(|s| &s.blobs).collect();
            Some(write::index_of(&blobs)?)
        } else {
            None
        };
        let out = sink::Output {
            images: slimmed
                .iter()
                .map(|s| sink::OutputImage {
                    blobs: &s.blobs,
                    layer: &s.layer.blob,
                    layer_digest: &s.layer.digest,
                })
                .collect(),
            index: index.as_ref(),
        };
        let storing = opts.ui.spinner(format!("writing {}", opts.target));
        summary.note = sink::write(&opts.target, &out, spool.path(), &opts.registry)?;
        storing.finish_and_clear();
        if let Some(index) = &index {
            summary.manifest_digest = index.digest.to_string();
            summary.layer_digest.clear();
        }
    }
    summary.seconds = report::seconds(started.elapsed());
    Ok(summary)
}

/// `slimify explain`: whether `path` would be kept from `source`, and why.
/// Returns `(kept, text)`.
pub fn explain(
    source: &ImageRef,
    select: &Select,
    limits: &limits::Limits,
    registry: &registry::Settings,
    platforms: &[Platform],
    tmp_dir: Option<&PathBuf>,
    path: &str,
) -> Result<(bool, String)> {
    let r = Reading {
        source,
        select,
        limits,
        registry,
        tmp_dir,
        ui: Ui::silent(),
    };
    let spool = spool_dir(tmp_dir)?;
    let cache = LayerCache::new(spool.path(), None, 0)?;
    let want = match platforms {
        [] => Want::Host,
        [one] => Want::These(vec![one.clone()]),
        _ => {
            return Err(Error::Usage(
                "explain reads one image: give at most one --platform".into(),
            ))
        }
    };
    let image = open_source(&r, spool.path(), &want)?
        .images
        .into_iter()
        .next()
        .expect("a source opens to at least one image");
    let p = prepare(&r, image, &cache)?;
    let rel = layer::normalize_path(path).map_err(Error::Usage)?;
    let excluded = KeepGlobs::new(&select.exclude)?.is_match(&format!("/{rel}"));
    if let Some(reason) = p.keep.reason(&rel) {
        let chain = report::reason_chain(&p.keep, reason).join("\n  <- ");
        return Ok((true, format!("/{rel} is kept: {chain}")));
    }
    let resolves_to_kept =
        p.fs.lookup(&rel, true)
            .ok()
            .flatten()
            .filter(|real| *real != rel && p.keep.contains(real));
    let text = if p.fs.lookup(&rel, false).ok().flatten().is_none() {
        format!("/{rel} is not in the image")
    } else if excluded {
        format!("/{rel} is in the image but excluded by --exclude")
    } else if let Some(real) = resolves_to_kept {
        format!(
            "/{rel} is not kept, but the file it resolves to, /{real}, is (a path through a symlink that nothing traced uses)"
        )
    } else if !select.keep.is_empty() {
        format!("/{rel} is in the image but matches no --keep pattern")
    } else {
        format!(
            "/{rel} is in the image but nothing traced needs it: not a root, not loaded by one, not an essential; keep it with --include /{rel}"
        )
    };
    Ok((false, text))
}
