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

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use error::{Error, IoContext, Result};
use keep::KeepGlobs;
use layer::cache::LayerCache;
use reference::ImageRef;
use report::{kept_sizes, Sizes, Summary};
use rootfs::RootFs;
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
    pub ui: Ui,
}

/// A source read, flattened and selected from, before anything is written.
struct Prepared {
    image: source::SourceImage,
    fs: RootFs,
    keep: keep::KeepSet,
    warnings: Vec<String>,
    before: Sizes,
    /// Holds the decompressed layer spools that `fs` reads file contents from.
    spool: tempfile::TempDir,
}

/// Where one image is read from and how, shared by `slim` and `explain`.
struct Reading<'a> {
    source: &'a ImageRef,
    select: &'a Select,
    limits: &'a limits::Limits,
    registry: &'a registry::Settings,
    tmp_dir: Option<&'a PathBuf>,
    /// A batch's shared layer cache; a single run makes its own.
    cache: Option<&'a LayerCache>,
    cache_dir: Option<&'a PathBuf>,
    ui: Ui,
}

/// Read, verify and flatten `source`, then select what to keep.
fn prepare(r: &Reading) -> Result<Prepared> {
    let Reading {
        source,
        select,
        limits,
        registry,
        tmp_dir,
        ui,
        ..
    } = *r;
    let globs = KeepGlobs::new(&select.keep)?;
    let exclude = KeepGlobs::new(&select.exclude)?;
    let tmp_root = tmp_dir.cloned().unwrap_or_else(std::env::temp_dir);
    sink::leftovers::remove_stale(&tmp_root, sink::leftovers::SPOOL);
    let spool = tempfile::Builder::new()
        .prefix(&sink::leftovers::prefix(sink::leftovers::SPOOL))
        .tempdir_in(&tmp_root)
        .at(&tmp_root)?;

    let opening = ui.spinner(format!("opening {source}"));
    let image = source::open(source, spool.path(), registry)?;
    opening.finish_and_clear();
    let reading = ui.bytes("reading layers", image.stored_size());
    let budget = limits::Budget::new(*limits);
    let own_cache;
    let cache = match r.cache {
        Some(c) => c,
        None => {
            own_cache = LayerCache::new(spool.path(), r.cache_dir.cloned(), 0)?;
            &own_cache
        }
    };
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
            "nothing to keep: no path of {source} matches {}",
            select.keep.join(" ")
        )));
    }
    Ok(Prepared {
        image,
        fs,
        keep,
        warnings,
        before,
        spool,
    })
}

/// Read `source`, flatten it, keep what was selected, write `target`.
pub fn slim(opts: &Options) -> Result<Summary> {
    slim_with(opts, None)
}

/// [`slim`], reading layers through `cache` when given (a batch shares one).
pub fn slim_with(opts: &Options, cache: Option<&LayerCache>) -> Result<Summary> {
    let started = Instant::now();
    if opts.compression_level > write::MAX_LEVEL {
        return Err(Error::Usage(format!(
            "--compression-level {} is out of range 0-{}",
            opts.compression_level,
            write::MAX_LEVEL
        )));
    }
    let Prepared {
        image,
        fs,
        keep,
        warnings,
        before,
        spool,
    } = prepare(&Reading {
        source: &opts.source,
        select: &opts.select,
        limits: &opts.limits,
        registry: &opts.registry,
        tmp_dir: opts.tmp_dir.as_ref(),
        cache,
        cache_dir: opts.cache_dir.as_ref(),
        ui: opts.ui,
    })?;
    let after = kept_sizes(&fs, &keep, 0);
    let mut summary = Summary {
        source: opts.source.to_string(),
        target: opts.target.to_string(),
        before,
        after,
        seconds: 0.0,
        layer_digest: String::new(),
        manifest_digest: String::new(),
        dry_run: opts.dry_run,
        warnings,
        note: None,
    };
    if opts.dry_run {
        summary.seconds = report::seconds(started.elapsed());
        if let Some(path) = &opts.report {
            report::write_report(path, &summary, &fs, &keep)?;
        }
        return Ok(summary);
    }
    let writing = opts.ui.bytes("writing layer", after.content_bytes);
    let out = tempfile::tempfile_in(spool.path()).at(spool.path())?;
    let layer = write::write_layer(&fs, &keep, out, opts.compression_level, &writing)?;
    writing.finish_and_clear();
    let blobs = write::slim_config(&image.config, &layer, image.layers.len())?;
    let storing = opts.ui.spinner(format!("writing {}", opts.target));
    summary.note = sink::write(
        &opts.target,
        &sink::OutputImage {
            blobs: &blobs,
            layer: &layer.blob,
            layer_digest: &layer.digest,
        },
        spool.path(),
        &opts.registry,
    )?;
    storing.finish_and_clear();

    summary.after.stored_bytes = layer.size;
    summary.layer_digest = layer.digest.to_string();
    summary.manifest_digest = blobs.manifest_digest.to_string();
    summary.seconds = report::seconds(started.elapsed());
    if let Some(path) = &opts.report {
        report::write_report(path, &summary, &fs, &keep)?;
    }
    Ok(summary)
}

/// `slimify explain`: whether `path` would be kept from `source`, and why.
/// Returns `(kept, text)`.
pub fn explain(
    source: &ImageRef,
    select: &Select,
    limits: &limits::Limits,
    registry: &registry::Settings,
    tmp_dir: Option<&PathBuf>,
    path: &str,
) -> Result<(bool, String)> {
    let p = prepare(&Reading {
        source,
        select,
        limits,
        registry,
        tmp_dir,
        cache: None,
        cache_dir: None,
        ui: Ui::silent(),
    })?;
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
