//! slimify: turn a fat container image into a minimal one after it was built.
//!
//! The data flow is the architecture; each box is a folder or file of the
//! same name, and a box imports only boxes above it in this picture (and the
//! ground floor), never one below it (`tests/architecture.rs` checks):
//!
//! ```text
//! ground floor  error · digest · blob · files · units · limits · platform · image_path · interrupt · ui
//! beside        reference (image names) · registry/ (OCI distribution client) · docker (engine CLI)
//!
//! source/   read an image from any transport: verified config + layer blobs
//!    ▼
//! layer/    inflate, verify and index each layer's tar entries (cache: shared by diff_id)
//!    ▼
//! rootfs/   flatten the layers into one in-memory filesystem; resolve paths inside it
//!    ▼
//! probe/    run an engine image under a workload (optionally under the recorder:
//!    │      the paths it touched); what it printed and answered
//!    ▼
//! keep      the keep set: path → reason (the nouns trace, write and report speak)
//!    ▼
//! trace/    what the image runs needs: roots → ELF/ld.so → runtimes → essentials → named paths
//!           (→ what a probe run touched)
//!    ▼
//! packages/ which package (dpkg, apk, pypi, npm, maven) each path came from;
//!    │      keep the package metadata of what is kept, trimmed to it
//!    ▼
//! write/    one deterministic layer, the config, the manifest (and index)
//!    ▼
//! sink/     the target transport
//!    ▼
//! verify/   run fat and slim under one workload and compare what they did
//!    ▼
//! report    summary line and JSON report  ·  sbom/ (CycloneDX or SPDX of the slim image)
//!    ▼
//! pipeline  one image: source → … → report  ·  explain  ·  batch/ (many images, one layer cache)
//! ```
//!
//! `main.rs` (with `cli/`, one file per subcommand) only parses arguments
//! into [`Settings`] and [`Job`], calls [`slim`], [`explain()`] or
//! [`batch::run`], and prints; errors are [`Error`], printed with their causes.

pub mod batch;
mod blob;
mod digest;
mod docker;
mod error;
mod explain;
mod files;
mod image_path;
pub mod interrupt;
mod keep;
mod layer;
mod limits;
mod packages;
mod pipeline;
mod platform;
mod probe;
mod reference;
mod registry;
mod report;
mod rootfs;
mod sbom;
mod sink;
mod source;
mod trace;
mod ui;
mod units;
mod verify;
mod write;

#[cfg(test)]
mod testutil;

pub use docker::check_engine;
pub use error::{causes, one_line, Error, Result};
pub use explain::{explain, Explanation};
pub use image_path::ImagePath;
pub use limits::Limits;
pub use pipeline::{slim, Job, Select, Settings};
pub use platform::Platform;
pub use probe::{Network, Workload};
pub use reference::ImageRef;
pub use registry::Settings as RegistrySettings;
pub use report::{Sizes, Summary};
pub use sbom::SbomFormat;
pub use trace::TraceOptions;
pub use ui::{Progress, Ui};
pub use units::{human, parse_human_size, parse_size};
pub use verify::{verify, Verdict, VerifyOptions};
pub use write::MAX_LEVEL as MAX_COMPRESSION_LEVEL;

/// Every error a run can end with, by the step it comes from: the causes
/// under [`Error`].
pub mod errors {
    pub use crate::batch::ListError;
    pub use crate::blob::SmallReadError;
    pub use crate::digest::{InvalidDigest, Mismatch};
    pub use crate::docker::DockerError;
    pub use crate::files::PathError;
    pub use crate::image_path::DotDot;
    pub use crate::keep::BadGlob;
    pub use crate::layer::{EntryError, InflateError, LayerCause, LayerError, ReadError};
    pub use crate::limits::Exceeded;
    pub use crate::platform::NotAPlatform;
    pub use crate::probe::ProbeError;
    pub use crate::reference::RefError;
    pub use crate::registry::{BadCreds, RegistryError};
    pub use crate::report::ReportError;
    pub use crate::rootfs::{ApplyCause, ApplyError, WalkError};
    pub use crate::sbom::SbomError;
    pub use crate::sink::SinkError;
    pub use crate::source::SourceError;
    pub use crate::trace::TraceError;
    pub use crate::units::SizeError;
    pub use crate::verify::VerifyError;
    pub use crate::write::WriteError;
}

/// The inner steps, for the fuzz targets and benchmarks in this repository
/// (not a stable interface).
#[doc(hidden)]
pub mod internals {
    pub use crate::blob::BlobFile;
    pub use crate::digest::Digest;
    pub use crate::keep::KeepSet;
    pub use crate::layer::{index_layer, LayerIndex};
    pub use crate::limits::Budget;
    pub use crate::rootfs::RootFs;
    pub use crate::source::{open as open_source, Blob, Compression, ImageConfig, LayerBlob, Want};
    pub use crate::trace::{abi_flags, trace_image, ElfInfo, LdCache};
    pub use crate::write::ParallelGz;
}
