//! `slimify batch`: many images in one run, sharing what they share.
//!
//! Jobs run on `--jobs` worker threads (each image's own work is parallel
//! too, on the shared rayon pool). All of them read layers through one
//! [`LayerCache`], so a base layer that twenty images share is downloaded,
//! decompressed and indexed once. One failing image does not stop the
//! others; the run reports every outcome and fails if any image failed.

pub mod list;
mod table;

pub use list::{Job, Shard};
pub use table::{summary_json, table};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{IoContext, Result};
use crate::layer::cache::LayerCache;
use crate::report::{seconds, Summary};
use crate::ui::Ui;
use crate::Options;

/// How a batch runs, besides each image's own [`Options`].
pub struct Batch {
    /// Options every image gets; source, target and report are set per job.
    pub template: Options,
    pub jobs: usize,
    /// `--report DIR`: one JSON report per image, plus `summary.json`.
    pub report_dir: Option<PathBuf>,
    /// Most uncompressed layer bytes kept indexed for reuse within the run.
    pub cache_capacity: u64,
    pub ui: Ui,
}

/// What happened to one image.
pub struct Outcome {
    pub job: Job,
    pub result: std::result::Result<Summary, String>,
    pub seconds: f64,
    /// The reports written for it (one per platform of an index), relative
    /// to the report directory.
    pub reports: Vec<String>,
}

/// What a whole batch did.
pub struct Finished {
    pub outcomes: Vec<Outcome>,
    pub seconds: f64,
    pub layers_read: u64,
    pub layers_shared: u64,
    pub layers_from_cache_dir: u64,
}

impl Finished {
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_err()).count()
    }
}

pub fn run(batch: &Batch, jobs: Vec<Job>) -> Result<Finished> {
    let started = Instant::now();
    let tmp_root = batch
        .template
        .tmp_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    crate::sink::leftovers::remove_stale(&tmp_root, crate::sink::leftovers::SPOOL);
    let spool = tempfile::Builder::new()
        .prefix(&crate::sink::leftovers::prefix(
            crate::sink::leftovers::SPOOL,
        ))
        .tempdir_in(&tmp_root)
        .at(&tmp_root)?;
    if let Some(dir) = &batch.report_dir {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    let cache = LayerCache::new(
        spool.path(),
        batch.template.cache_dir.clone(),
        batch.cache_capacity,
    )?;
    let bar = batch.ui.count("images", jobs.len() as u64);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let workers = batch.jobs.clamp(1, jobs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(k) else { break };
                let outcome = one(batch, job, &cache);
                if !batch.ui.quiet() {
                    let line = table::progress_line(&outcome);
                    if bar.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        bar.println(line);
                    }
                }
                bar.inc(1);
                done.lock().unwrap_or_else(|p| p.into_inner())[k] = Some(outcome);
            });
        }
    });
    bar.finish_and_clear();
    let outcomes = done
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|o| o.expect("every job ran"))
        .collect();
    let stats = &cache.stats;
    let finished = Finished {
        outcomes,
        seconds: seconds(started.elapsed()),
        layers_read: stats.misses.load(Ordering::Relaxed),
        layers_shared: stats.hits.load(Ordering::Relaxed),
        layers_from_cache_dir: stats.disk_hits.load(Ordering::Relaxed),
    };
    if let Some(dir) = &batch.report_dir {
        let path = dir.join("summary.json");
        crate::sink::replace_file(&path, &summary_json(&finished))?;
    }
    Ok(finished)
}

fn one(batch: &Batch, job: &Job, cache: &LayerCache) -> Outcome {
    let started = Instant::now();
    let report = batch
        .report_dir
        .as_ref()
        .map(|_| report_name(job.line, &job.source.to_string()));
    let mut opts = batch.template.clone();
    opts.source = job.source.clone();
    opts.target = job.target.clone();
    opts.report = report
        .as_ref()
        .zip(batch.report_dir.as_ref())
        .map(|(name, dir)| dir.join(name));
    opts.ui = Ui::silent();
    let result = crate::slim_with(&opts, Some(cache)).map_err(|e| e.to_string());
    // An index's images are reported one file per platform.
    let reports = match (&result, report) {
        (Ok(s), Some(name)) if !s.platforms.is_empty() => s
            .platforms
            .iter()
            .filter_map(|p| crate::source::platform::Platform::parse(p).ok())
            .map(|p| {
                crate::report::path_for_platform(Path::new(&name), &p)
                    .display()
                    .to_string()
            })
            .collect(),
        (Ok(_), Some(name)) => vec![name],
        _ => vec![],
    };
    Outcome {
        job: job.clone(),
        reports,
        result,
        seconds: seconds(started.elapsed()),
    }
}

/// `0007-myapp_1.2.json` for line 7's source `myapp:1.2`: the line number
/// keeps names unique and in list order; the rest is for humans.
fn report_name(line: usize, source: &str) -> String {
    let tail = Path::new(source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = tail
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{line:04}-{clean}.json")
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_names_are_unique_by_line_and_safe() {
        assert_eq!(
            super::report_name(7, "docker://127.0.0.1:5000/team/app:1.2"),
            "0007-app_1.2.json"
        );
        assert_eq!(super::report_name(12, "../../x y"), "0012-x_y.json");
    }
}
