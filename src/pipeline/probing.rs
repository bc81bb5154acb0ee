//! `--probe` and `--verify` around one image's run: the probe starts
//! before the layers are read (a run of a few seconds hides behind reading
//! them), its records join the trace; verify runs fat and slim after the
//! slim image is stored.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::Settings;
use crate::error::{Error, Result};
use crate::keep::KeepSet;
use crate::probe::{self, Mode, Observed, ProbeError, RunSpec};
use crate::reference::ImageRef;
use crate::report::{ProbeSummary, VerifySummary};
use crate::rootfs::RootFs;
use crate::trace::ProbeFound;
use crate::units::seconds;
use crate::verify::{self, Verdict};

/// A probe run going on in its own thread. Dropped before it is finished
/// (the pipeline failed), it stops the container and waits for its removal.
pub(crate) struct PendingProbe {
    image: String,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<std::result::Result<Observed, ProbeError>>>,
}

impl PendingProbe {
    /// Start running the engine image `source` under the recorder.
    pub fn start(settings: &Settings, source: &ImageRef) -> Result<PendingProbe> {
        let image = engine_name(source, "--probe")?;
        let trace = &settings.select.trace;
        let spec = RunSpec::inspect(&image, trace.entrypoint.as_deref(), trace.cmd.as_deref())
            .map_err(probe_error)?;
        let workload = settings.workload.clone();
        let tmp: Option<PathBuf> = settings.tmp_dir.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let handle = std::thread::spawn(move || {
            probe::run(&spec, &workload, Mode::Record, tmp.as_deref(), Some(flag))
        });
        Ok(PendingProbe {
            image,
            cancel,
            handle: Some(handle),
        })
    }

    /// Wait for the run; an error when it could not exercise the image.
    pub fn finish(mut self) -> Result<Observed> {
        let handle = self.handle.take().expect("finished once");
        let seen = match handle.join() {
            Ok(r) => r.map_err(probe_error)?,
            Err(_) => {
                return Err(probe_error(ProbeError::Interrupted));
            }
        };
        if seen.never_answered() {
            return Err(probe_error(ProbeError::NeverReady {
                image: self.image.clone(),
                port: seen.port.unwrap_or_default(),
                seconds: seen.seconds.round() as u64,
                logs: format!("{}{}", seen.stdout, seen.stderr),
            }));
        }
        Ok(seen)
    }
}

impl Drop for PendingProbe {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.cancel.store(true, Ordering::Relaxed);
            let _ = h.join();
        }
    }
}

fn probe_error(source: ProbeError) -> Error {
    Error::Probe(source)
}

/// The engine's name for an image `--probe` or `--verify` must run.
pub(crate) fn engine_name(image: &ImageRef, flag: &'static str) -> Result<String> {
    match image {
        ImageRef::Daemon { name } => Ok(name.clone()),
        other => Err(Error::NeedsEngine {
            flag,
            image: other.clone(),
        }),
    }
}

/// The summary's account of the probe: what the run did, and what it added.
pub(crate) fn probe_summary(
    seen: &Observed,
    found: &ProbeFound,
    fs: &RootFs,
    keep: &KeepSet,
) -> ProbeSummary {
    let added: Vec<_> = keep
        .paths()
        .filter(|p| !crate::report::found_statically(found, p))
        .collect();
    ProbeSummary {
        seconds: seconds(std::time::Duration::from_secs_f64(seen.seconds)),
        exit: seen.exit,
        timed_out: seen.timed_out,
        recorded: seen.records.len(),
        touched: found.touched.len(),
        opened_paths: found.opened.len(),
        opened_bytes: fs.content_size_of(found.opened.iter()),
        added_paths: added.len(),
        added_bytes: fs.content_size_of(added.into_iter()),
    }
}

/// What the probe's run says the user should know.
pub(crate) fn probe_warnings(seen: &Observed) -> Vec<String> {
    let mut w = Vec::new();
    if seen.timed_out {
        w.push(format!(
            "the probed run of {} was still running at --timeout and was stopped: what it would have loaded later is not in the probe's evidence",
            seen.image
        ));
    } else if seen.exit != 0 && seen.http.is_empty() {
        w.push(format!(
            "the probed run of {} exited with status {}: what a successful run loads may be missing from the probe's evidence",
            seen.image, seen.exit
        ));
    }
    w
}

/// Run the fat and the slim image with the settings' workload and compare.
pub(crate) fn verify_stored(
    settings: &Settings,
    source: &ImageRef,
    target: &ImageRef,
) -> Result<Verdict> {
    let fat = engine_name(source, "--verify")?;
    let slim = engine_name(target, "--verify")?;
    let trace = &settings.select.trace;
    let options = settings.verify.clone().unwrap_or_default();
    let verifying = settings.ui.phase(format!("verifying {slim} against {fat}"));
    let verdict = verify::verify(
        &fat,
        &slim,
        trace.entrypoint.as_deref(),
        trace.cmd.as_deref(),
        &settings.workload,
        &options,
        settings.tmp_dir.as_deref(),
    )?;
    verifying.finish(if verdict.same() {
        "they behave the same"
    } else {
        "they differ"
    });
    Ok(verdict)
}

/// The summary's account of a verdict.
pub(crate) fn verify_summary(v: &Verdict) -> VerifySummary {
    VerifySummary {
        same: v.same(),
        differences: v.differences.clone(),
        missing: v.missing.iter().map(|m| m.to_string()).collect(),
        seconds: v.seconds,
    }
}
