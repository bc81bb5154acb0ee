//! The error a run ends with: one variant per step of the pipeline, each
//! carrying that step's own error type (with the path, digest, layer or
//! reference it is about, and its cause kept as `source`), plus the usage
//! errors the pipeline finds before it starts.
//!
//! `main` prints the error, then each cause on its own line
//! (`caused by: ...`), then a `hint:` when one of them knows what to try
//! next ([`Error::hint`]).

use std::path::PathBuf;

use crate::docker::DockerError;
use crate::files::PathError;
use crate::image_path::DotDot;
use crate::keep::BadGlob;
use crate::layer::LayerError;
use crate::probe::ProbeError;
use crate::reference::{ImageRef, RefError};
use crate::registry::{BadCreds, RegistryError};
use crate::report::ReportError;
use crate::rootfs::ApplyError;
use crate::sbom::SbomError;
use crate::sink::SinkError;
use crate::source::SourceError;
use crate::trace::TraceError;
use crate::verify::VerifyError;
use crate::write::WriteError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] RefError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("cannot write the report {}", path.display())]
    Report {
        path: PathBuf,
        #[source]
        source: ReportError,
    },
    #[error("cannot write the SBOM {}", path.display())]
    Sbom {
        path: PathBuf,
        #[source]
        source: SbomError,
    },
    #[error(transparent)]
    Io(#[from] PathError),
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("--probe could not run the image")]
    Probe(#[source] ProbeError),
    #[error(transparent)]
    Verify(#[from] VerifyError),

    // Usage: what the command line asks cannot be done.
    #[error(transparent)]
    Glob(#[from] BadGlob),
    #[error(transparent)]
    Creds(#[from] BadCreds),
    #[error("--compression-level {level} is out of range 0-{max}")]
    CompressionLevel { level: u32, max: u32 },
    #[error("--jobs must be at least 1")]
    NoJobs,
    #[error("nothing to keep: no path of {image} matches {patterns}")]
    NothingKept { image: String, patterns: String },
    #[error("explain reads one image: give at most one --platform")]
    ExplainPlatforms,
    #[error("the path to explain: {0}")]
    ExplainPath(#[from] DotDot),
    #[error("{target} is the source image: writing it would replace the image being read")]
    TargetIsSource { target: ImageRef },
    #[error("{flag} runs images in the Docker engine, and {image} is not an engine image")]
    NeedsEngine { flag: &'static str, image: ImageRef },
    #[error("{flag} runs images in a Docker engine, and none answers")]
    NoEngine {
        flag: &'static str,
        #[source]
        source: DockerError,
    },
    #[error("--verify runs the written image, and --dry-run writes none")]
    VerifyDryRun,
    #[error("--probe adds to what tracing keeps, and --keep turns tracing off")]
    ProbeWithKeep,
    #[error("--sbom describes the written image by its digest, and --dry-run writes none")]
    SbomDryRun,
    #[error("{flag} {}: its directory does not exist or is not writable", path.display())]
    OutputNotWritable {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: PathError,
    },
}

impl Error {
    /// What to try next, when the error (or a cause of it) knows.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Source(e) => e.hint(),
            Error::Layer(e) => e.hint(),
            Error::Trace(e) => e.hint(),
            Error::Sink(e) => e.hint(),
            Error::Docker(e) => e.hint(),
            Error::Registry(e) => e.hint(),
            Error::Probe(e) => e.hint(),
            Error::Verify(e) => e.hint(),
            Error::NoEngine { source, .. } => source.hint(),
            Error::NeedsEngine { .. } => Some(
                "load the image into the engine first (`docker load`, `skopeo copy ... docker-daemon:NAME:TAG`) and name it as NAME:TAG"
                    .into(),
            ),
            Error::TargetIsSource { .. } => Some(
                "write to another tag or path, or pass --force-overwrite-source to replace it"
                    .into(),
            ),
            _ => None,
        }
    }

    /// Whether the command line asked for something impossible (exit 2, as clap does).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Reference(_)
                | Error::Glob(_)
                | Error::Creds(_)
                | Error::CompressionLevel { .. }
                | Error::NoJobs
                | Error::ExplainPlatforms
                | Error::ExplainPath(_)
                | Error::TargetIsSource { .. }
                | Error::NeedsEngine { .. }
                | Error::VerifyDryRun
                | Error::ProbeWithKeep
                | Error::SbomDryRun
                | Error::Verify(VerifyError::BadIgnore { .. })
        )
    }
}

/// An error and its causes on one line (`a: b: c`), each said once: for
/// tables and logs that hold one line per failure.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    causes(e).join(": ")
}

/// An error and its causes, outermost first, with repeats dropped (a
/// wrapper whose message already includes its cause's adds nothing).
pub fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string().replace('\n', " ");
        if !text.is_empty() && !out.iter().any(|o| o.contains(&text)) {
            out.push(text);
        }
        next = err.source();
    }
    out
}
