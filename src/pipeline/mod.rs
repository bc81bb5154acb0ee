//! One image through the pipeline: check the target, open the source, read
//! and flatten its layers, select what to keep (tracing or `--keep`), write
//! the slim image, store it in the target, write the report. With
//! `--probe` the image also runs first ([`probing`]); with `--verify` the
//! slim image runs beside the fat one after it is stored.

mod probing;
mod select;

pub use select::Select;

pub(crate) use probing::PendingProbe;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::files::IoContext;
use crate::keep::{KeepGlobs, KeepSet};
use crate::layer::cache::LayerCache;
use crate::limits::{Budget, Limits};
use crate::packages::Packages;
use crate::platform::Platform;
use crate::probe::Workload;
use crate::reference::ImageRef;
use crate::report::{kept_sizes, Sizes, Summary};
use crate::rootfs::RootFs;
use crate::sbom::SbomFormat;
use crate::sink::{holds_index, Output, OutputImage};
use crate::source::{Blob, EngineRead, Opened, SourceImage, Want};
use crate::ui::Ui;
use crate::units::{human, seconds};
use crate::write::{self, ImageBlobs, WrittenLayer};

/// How a run works, the same for every image it slims.
#[derive(Clone)]
pub struct Settings {
    pub select: Select,
    /// Trace and report, write nothing.
    pub dry_run: bool,
    /// gzip level of the output layer (libdeflate's, 0-12).
    pub compression_level: u32,
    /// Where temporary spools go (default: the system temporary directory).
    pub tmp_dir: Option<PathBuf>,
    /// How much a (possibly hostile) source may make slimify read and hold.
    pub limits: Limits,
    /// Credentials and TLS settings for `docker://` sources and targets.
    pub registry: crate::registry::Settings,
    /// `--cache-dir`: uncompressed layers kept by diff_id across runs.
    pub cache_dir: Option<PathBuf>,
    /// Read engine images in place from the engine's layer store when it
    /// can be (`--no-in-place`: false).
    pub in_place: bool,
    /// `--platform`: which images of an index to slim (empty: see [`wanted`]).
    pub platforms: Vec<Platform>,
    /// `--force-overwrite-source`: a target that is the source is written anyway.
    pub overwrite_source: bool,
    /// `--probe`: run the source under `workload` with the recorder and
    /// keep what the run touched, beside what tracing keeps.
    pub probe: bool,
    /// `--verify`: run source and target under `workload` and compare them.
    pub verify: Option<crate::verify::VerifyOptions>,
    /// What `--probe` and `--verify` runs do.
    pub workload: Workload,
    /// Keep the package metadata of kept packages (`--no-package-metadata`: false).
    pub package_metadata: bool,
    /// `--sbom-format`: how a job's `--sbom` is written.
    pub sbom_format: SbomFormat,
    pub ui: Ui,
}

impl Settings {
    /// The defaults of the command line, with `select`.
    pub fn new(select: Select) -> Self {
        Settings {
            select,
            dry_run: false,
            compression_level: 1,
            tmp_dir: None,
            limits: Limits::default(),
            registry: Default::default(),
            cache_dir: None,
            in_place: true,
            platforms: Vec::new(),
            overwrite_source: false,
            probe: false,
            verify: None,
            workload: Workload::default(),
            package_metadata: true,
            sbom_format: SbomFormat::default(),
            ui: Ui::silent(),
        }
    }

    /// The checks that need no image: a batch makes them once.
    pub fn check(&self) -> Result<()> {
        if self.compression_level > write::MAX_LEVEL {
            return Err(Error::CompressionLevel {
                level: self.compression_level,
                max: write::MAX_LEVEL,
            });
        }
        KeepGlobs::new("--keep", &self.select.keep)?;
        KeepGlobs::new("--exclude", &self.select.exclude)?;
        KeepGlobs::new("--include", &self.select.trace.include)?;
        if self.probe && !self.select.keep.is_empty() {
            return Err(Error::ProbeWithKeep);
        }
        if self.verify.is_some() && self.dry_run {
            return Err(Error::VerifyDryRun);
        }
        if let Some(v) = &self.verify {
            v.check()?;
        }
        Ok(())
    }
}

/// One image to slim.
#[derive(Clone, Debug)]
pub struct Job {
    pub source: ImageRef,
    pub target: ImageRef,
    /// `--report FILE.json`.
    pub report: Option<PathBuf>,
    /// `--sbom FILE.json`.
    pub sbom: Option<PathBuf>,
}

/// A source image read, flattened and selected from, before anything is written.
pub(crate) struct Prepared {
    pub image: SourceImage,
    pub fs: RootFs,
    pub keep: KeepSet,
    /// The packages of the source, and which files each owns.
    pub packages: Packages,
    pub warnings: Vec<String>,
    pub before: Sizes,
    /// What `--probe` saw and added.
    pub probe: Option<crate::report::ProbeSummary>,
    /// Which kept paths the probe found, and which static tracing had.
    pub found: Option<crate::trace::ProbeFound>,
}

/// Read `job.source`, flatten it, keep what was selected, write `job.target`.
pub fn slim(settings: &Settings, job: &Job) -> Result<Summary> {
    slim_with(settings, job, None)
}

/// [`slim`], reading layers through `cache` when given (a batch shares one).
pub(crate) fn slim_with(
    settings: &Settings,
    job: &Job,
    cache: Option<&LayerCache>,
) -> Result<Summary> {
    let started = Instant::now();
    settings.check()?;
    preflight(settings, job)?;
    let spool = crate::files::spool_dir(settings.tmp_dir.as_deref())?;
    let own_cache;
    let cache = match cache {
        Some(c) => c,
        None => {
            own_cache = LayerCache::new(spool.path(), settings.cache_dir.clone(), 0)?;
            &own_cache
        }
    };
    let mut probe = if settings.probe {
        Some(probing::PendingProbe::start(settings, &job.source)?)
    } else {
        None
    };
    let opened = open_source(settings, &job.source, spool.path(), &wanted(settings, job))?;
    let multi = opened.from_index && holds_index(&job.target);
    let mut summary = Summary {
        source: job.source.to_string(),
        target: job.target.to_string(),
        dry_run: settings.dry_run,
        read: opened.engine_read.as_ref().map(|r| r.to_string()),
        ..Summary::default()
    };
    let mut slimmed: Vec<(WrittenLayer, ImageBlobs)> = Vec::new();
    let mut parts: Vec<(Summary, Prepared)> = Vec::new();
    for image in opened.images {
        let p = prepare(settings, &job.source, image, cache, probe.take())?;
        let platform = p.image.config.platform();
        let mut part = Summary {
            source: summary.source.clone(),
            target: summary.target.clone(),
            before: p.before,
            after: kept_sizes(&p.fs, &p.keep, 0),
            dry_run: settings.dry_run,
            warnings: p.warnings.clone(),
            platforms: if multi {
                vec![platform.clone()]
            } else {
                vec![]
            },
            probe: p.probe.clone(),
            read: summary.read.clone(),
            package_count: p.packages.kept(&p.keep).len(),
            ..Summary::default()
        };
        if !settings.dry_run {
            let (layer, blobs) = write_image(settings, &p, platform.clone(), spool.path())?;
            part.after.stored_bytes = layer.size;
            part.layer_digest = layer.digest.to_string();
            part.manifest_digest = blobs.manifest_digest.to_string();
            slimmed.push((layer, blobs));
        }
        summary.add(&part);
        // Reports are written last, when the verdict of --verify is known.
        if job.report.is_some() || job.sbom.is_some() {
            parts.push((part, p));
        }
    }
    if !settings.dry_run {
        store(settings, job, &slimmed, multi, spool.path(), &mut summary)?;
    }
    if settings.verify.is_some() {
        let verdict = probing::verify_stored(settings, &job.source, &job.target)?;
        summary.verify = Some(probing::verify_summary(&verdict));
    }
    summary.seconds = seconds(started.elapsed());
    for (mut part, p) in parts {
        let for_platform = |path: &PathBuf| match multi {
            true => crate::report::path_for_platform(path, &p.image.config.platform()),
            false => path.clone(),
        };
        if let Some(path) = job.report.as_ref().map(for_platform) {
            part.seconds = summary.seconds;
            part.verify = summary.verify.clone();
            crate::report::write_report(
                &path,
                &part,
                &p.fs,
                &p.keep,
                &p.packages,
                p.found.as_ref(),
            )
            .map_err(|source| Error::Report {
                path: path.clone(),
                source,
            })?;
        }
        if let Some(path) = job.sbom.as_ref().map(for_platform) {
            let subject = crate::sbom::Subject {
                name: &part.target,
                digest: &part.manifest_digest,
            };
            crate::sbom::write_sbom(
                &path,
                settings.sbom_format,
                &p.fs,
                &p.keep,
                &p.packages,
                &subject,
            )
            .map_err(|source| Error::Sbom {
                path: path.clone(),
                source,
            })?;
        }
    }
    Ok(summary)
}

/// Which images of an index to slim: `--platform`'s, else every platform
/// when the target can hold an index, else the one this machine runs.
fn wanted(settings: &Settings, job: &Job) -> Want {
    if !settings.platforms.is_empty() {
        Want::These(settings.platforms.clone())
    } else if holds_index(&job.target) {
        Want::All
    } else {
        Want::Host
    }
}

/// What can be checked before the source is read, so a run that cannot
/// succeed fails in a second instead of after all the work: the target is
/// not the source, it can be written (a registry is reachable and takes our
/// credentials, a directory is writable), the report's directory is writable.
pub(crate) fn preflight(settings: &Settings, job: &Job) -> Result<()> {
    if !settings.overwrite_source && !settings.dry_run && job.target.same_image_as(&job.source) {
        return Err(Error::TargetIsSource {
            target: job.target.clone(),
        });
    }
    if job.sbom.is_some() && settings.dry_run {
        return Err(Error::SbomDryRun);
    }
    for (flag, file) in [("--report", &job.report), ("--sbom", &job.sbom)] {
        if let Some(file) = file {
            let dir = crate::files::parent_of(file);
            crate::files::check_writable_dir(&dir).map_err(|source| Error::OutputNotWritable {
                flag,
                path: file.clone(),
                source,
            })?;
        }
    }
    if !settings.dry_run {
        crate::sink::check(&job.target, &settings.registry)?;
    }
    if settings.verify.is_some() {
        probing::engine_name(&job.target, "--verify")?;
    }
    engine_preflight(settings, &job.source)
}

/// `--probe` and `--verify` run the source in an engine: it must be an
/// engine image, and an engine must answer.
pub(crate) fn engine_preflight(settings: &Settings, source: &ImageRef) -> Result<()> {
    let flag = match (settings.probe, settings.verify.is_some()) {
        (true, _) => "--probe",
        (false, true) => "--verify",
        (false, false) => return Ok(()),
    };
    probing::engine_name(source, flag)?;
    crate::docker::check_engine().map_err(|source| Error::NoEngine { flag, source })?;
    Ok(())
}

/// Open the source: one image, or the images of an index that `want` selects.
pub(crate) fn open_source(
    settings: &Settings,
    source: &ImageRef,
    spool: &Path,
    want: &Want,
) -> Result<Opened> {
    let opening = settings.ui.phase(format!("opening {source}"));
    let opened = crate::source::open(source, spool, &settings.registry, want, settings.in_place)?;
    if let Some(
        read @ EngineRead::Saved {
            fallback: Some(_), ..
        },
    ) = &opened.engine_read
    {
        if !settings.ui.quiet() {
            opening.note(&format!("info: reading {source} {read}"));
        }
    }
    let layers: usize = opened.images.iter().map(|i| i.layers.len()).sum();
    let stored: u64 = opened.images.iter().map(|i| i.stored_size()).sum();
    opening.finish(&match opened.images.len() {
        1 => format!("{}, {} stored", count(layers, "layer"), human(stored)),
        n => format!("{n} images, {layers} layers, {} stored", human(stored)),
    });
    Ok(opened)
}

/// `1 layer`, `3 layers`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Read, verify and flatten one image, then select what to keep.
pub(crate) fn prepare(
    settings: &Settings,
    source: &ImageRef,
    image: SourceImage,
    cache: &LayerCache,
    probe: Option<probing::PendingProbe>,
) -> Result<Prepared> {
    let mut select = std::borrow::Cow::Borrowed(&settings.select);
    let reading = settings.ui.phase_bytes(
        format!("reading {}", count(image.layers.len(), "layer")),
        image.stored_size(),
    );
    let budget = Budget::new(settings.limits);
    let layers = image
        .layers
        .par_iter()
        .enumerate()
        .map(|(i, l)| cache.index(i, l, &reading, &budget))
        .collect::<Result<Vec<_>, _>>()?;
    let mut fs = RootFs::from_layers(layers.iter().map(|l| &**l))?;
    let before = Sizes {
        paths: fs.len(),
        content_bytes: fs.content_size(),
        // A layer read in place is stored as its files: count its tar, as
        // `docker save` would have written it.
        stored_bytes: image
            .layers
            .iter()
            .zip(&layers)
            .map(|(l, index)| match l.blob {
                Blob::Store(_) => index.tar_size,
                _ => l.blob.stored_size(),
            })
            .sum(),
    };
    reading.finish(&format!(
        "{} stored, {} of files in {} paths",
        human(before.stored_bytes),
        human(before.content_bytes),
        before.paths
    ));
    let mut warnings = Vec::new();
    let mut seen = None;
    if let Some(pending) = probe {
        let probing = settings.ui.phase("waiting for the probe's run");
        let observed = pending.finish()?;
        probing.finish(&format!(
            "{} file accesses recorded",
            observed.records.len()
        ));
        warnings.extend(probing::probe_warnings(&observed));
        select.to_mut().trace.probed = Some(observed.records.clone());
        seen = Some(observed);
    }
    let selecting = settings.ui.phase(if select.keep.is_empty() {
        "tracing"
    } else {
        "selecting --keep"
    });
    let (mut keep, found) = if select.keep.is_empty() {
        let traced = crate::trace::trace_image(&mut fs, &image.config, &select.trace)?;
        warnings.splice(0..0, traced.warnings);
        (traced.keep, traced.probe)
    } else {
        (KeepGlobs::new("--keep", &select.keep)?.select(&fs), None)
    };
    let exclude = KeepGlobs::new("--exclude", &select.exclude)?;
    keep.exclude(&exclude);
    keep.add_parents();
    let packages = Packages::read(&fs, &keep);
    if settings.package_metadata {
        warnings.extend(crate::packages::keep_metadata(&fs, &mut keep, &packages));
        keep.exclude(&exclude);
        keep.add_parents();
    }
    selecting.finish(&format!("{} of {} paths kept", keep.len(), fs.len()));
    if keep.is_empty() {
        return Err(Error::NothingKept {
            image: source.to_string(),
            patterns: select.keep.join(" "),
        });
    }
    let probe = match (&seen, &found) {
        (Some(seen), Some(found)) => Some(probing::probe_summary(seen, found, &fs, &keep)),
        _ => None,
    };
    Ok(Prepared {
        image,
        fs,
        keep,
        packages,
        warnings,
        before,
        probe,
        found,
    })
}

/// Write one slim image's layer, config and manifest into the spool.
fn write_image(
    settings: &Settings,
    p: &Prepared,
    platform: Platform,
    spool: &Path,
) -> Result<(WrittenLayer, ImageBlobs)> {
    let size = p.keep.content_size(&p.fs);
    let writing = settings.ui.phase_bytes("writing the layer", size);
    let out = tempfile::tempfile_in(spool).at(spool)?;
    let layer = write::write_layer(&p.fs, &p.keep, out, settings.compression_level, &writing)?;
    writing.finish(&format!(
        "{} of files, {} gzip",
        human(size),
        human(layer.size)
    ));
    let blobs = write::slim_config(&p.image.config_json, platform, &layer, p.image.layers.len())?;
    Ok((layer, blobs))
}

/// Store the slim image(s), with an index for several platforms, in the target.
fn store(
    settings: &Settings,
    job: &Job,
    slimmed: &[(WrittenLayer, ImageBlobs)],
    multi: bool,
    spool: &Path,
    summary: &mut Summary,
) -> Result<()> {
    let index = if multi {
        let blobs: Vec<&ImageBlobs> = slimmed.iter().map(|(_, b)| b).collect();
        Some(write::index_of(&blobs)?)
    } else {
        None
    };
    let out = Output {
        images: slimmed
            .iter()
            .map(|(layer, blobs)| OutputImage {
                blobs,
                layer: &layer.blob,
                layer_digest: &layer.digest,
            })
            .collect(),
        index: index.as_ref(),
    };
    let storing = settings.ui.phase(format!("storing {}", job.target));
    let pushed = crate::sink::write(&job.target, &out, spool, &settings.registry)?;
    summary.note = pushed.map(|p| p.describe());
    storing.finish(summary.note.as_deref().unwrap_or_default());
    if let Some(index) = &index {
        summary.manifest_digest = index.digest.to_string();
        summary.layer_digest.clear();
    }
    Ok(())
}
