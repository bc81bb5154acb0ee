//! `slimify batch`: many images in one run, sharing what they share.
//!
//! Entries run on `--jobs` worker threads (each image's own work is parallel
//! too, on the shared rayon pool). All of them read layers through one
//! [`LayerCache`], so a base layer that twenty images share is downloaded,
//! decompressed and indexed once. One failing image does not stop the
//! others; the run reports every outcome and fails if any image failed.

mod list;
mod table;

pub use list::{parse, BadShard, Entry, LineError, ListError, Shard};
pub use table::{summary_json, table};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::layer::cache::LayerCache;
use crate::pipeline::{slim_with, Job, Settings};
use crate::report::Summary;
use crate::ui::Ui;
use crate::units::seconds;

/// How a batch runs, besides the [`Settings`] every image gets.
pub struct Batch {
    pub jobs: usize,
    /// `--report DIR`: one JSON report per image, plus `summary.json`.
    pub report_dir: Option<PathBuf>,
    /// `--sbom DIR`: one SBOM per image (`0007-myapp_1.2.sbom.json`).
    pub sbom_dir: Option<PathBuf>,
    /// Most uncompressed layer bytes kept indexed for reuse within the run.
    pub cache_capacity: u64,
    /// What the batch itself shows (a line per image, a bar); images run silently.
    pub ui: Ui,
}

/// What happened to one image.
pub struct Outcome {
    pub entry: Entry,
    pub result: Result<Summary>,
    pub seconds: f64,
    /// The reports written for it (one per platform of an index), relative
    /// to the report directory.
    pub reports: Vec<String>,
    /// The SBOMs written for it, relative to the SBOM directory.
    pub sboms: Vec<String>,
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

pub fn run(settings: &Settings, batch: &Batch, entries: Vec<Entry>) -> Result<Finished> {
    let started = Instant::now();
    if batch.jobs == 0 {
        return Err(Error::NoJobs);
    }
    settings.check()?;
    let spool = crate::files::spool_dir(settings.tmp_dir.as_deref())?;
    for dir in batch.report_dir.iter().chain(&batch.sbom_dir) {
        std::fs::create_dir_all(dir).map_err(|e| crate::files::PathError::new(dir, e))?;
    }
    let cache = LayerCache::new(
        spool.path(),
        settings.cache_dir.clone(),
        batch.cache_capacity,
    )?;
    let settings = Settings {
        ui: Ui::silent(),
        ..settings.clone()
    };
    let bar = batch.ui.count("images", entries.len() as u64);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..entries.len()).map(|_| None).collect());
    let workers = batch.jobs.clamp(1, entries.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(entry) = entries.get(k) else { break };
                let outcome = one(&settings, batch, entry, &cache);
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
        .map(|o| o.expect("every entry ran"))
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
        crate::files::replace_file(&dir.join("summary.json"), &summary_json(&finished))?;
    }
    Ok(finished)
}

fn one(settings: &Settings, batch: &Batch, entry: &Entry, cache: &LayerCache) -> Outcome {
    let started = Instant::now();
    let name = report_name(entry.line, &entry.source.to_string());
    let sbom_name = format!("{}.sbom.json", name.trim_end_matches(".json"));
    let report = batch.report_dir.as_ref().map(|_| name.clone());
    let sbom = batch.sbom_dir.as_ref().map(|_| sbom_name.clone());
    let job = Job {
        source: entry.source.clone(),
        target: entry.target.clone(),
        report: batch.report_dir.as_ref().map(|dir| dir.join(&name)),
        sbom: batch.sbom_dir.as_ref().map(|dir| dir.join(&sbom_name)),
    };
    let own;
    let settings = match &entry.select {
        Some(select) => {
            own = Settings {
                select: select.clone(),
                ..settings.clone()
            };
            &own
        }
        None => settings,
    };
    let result = slim_with(settings, &job, Some(cache));
    // An index's images are reported one file per platform.
    let written = |name: Option<String>| match (&result, name) {
        (Ok(s), Some(name)) if !s.platforms.is_empty() => s
            .platforms
            .iter()
            .map(|p| {
                crate::report::path_for_platform(Path::new(&name), p)
                    .display()
                    .to_string()
            })
            .collect(),
        (Ok(_), Some(name)) => vec![name],
        _ => vec![],
    };
    Outcome {
        entry: entry.clone(),
        reports: written(report),
        sboms: written(sbom),
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
