//! Writing the slim image to its target. Every sink is atomic: it writes
//! beside the target and renames into place, so a failure leaves no partial
//! archive or layout behind, and the source is never touched.

mod archive;
mod containerd;
mod daemon;
mod layout;
mod registry;
mod storage;

pub use registry::Pushed;

use std::path::{Path, PathBuf};

use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::docker::DockerError;
use crate::files::PathError;
use crate::reference::ImageRef;
use crate::registry::RegistryError;
use crate::write::{ImageBlobs, IndexBlob, WriteError};

/// One slim image: its layer blob plus config and manifest.
pub struct OutputImage<'a> {
    pub blobs: &'a ImageBlobs,
    pub layer: &'a BlobFile,
    pub layer_digest: &'a Digest,
}

/// Everything a sink writes: one image, or the images of an index and the index.
pub struct Output<'a> {
    pub images: Vec<OutputImage<'a>>,
    pub index: Option<&'a IndexBlob>,
}

/// The bytes of one blob to store: small JSON in memory, or a file (a layer).
#[derive(Clone, Copy)]
enum Payload<'a> {
    Bytes(&'a [u8]),
    File(&'a BlobFile),
}

impl Payload<'_> {
    fn len(&self) -> u64 {
        match self {
            Payload::Bytes(b) => b.len() as u64,
            Payload::File(f) => f.len(),
        }
    }

    fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Payload::Bytes(b) => w.write_all(b),
            Payload::File(f) => std::io::copy(&mut f.reader(), w).map(drop),
        }
    }
}

impl<'a> Output<'a> {
    /// Every blob once, `(digest, payload)`: configs, manifests, layers, the index.
    fn blobs(&self) -> Vec<(&'a Digest, Payload<'a>)> {
        let mut out = Vec::new();
        for image in &self.images {
            let b = image.blobs;
            out.push((&b.config_digest, Payload::Bytes(&b.config)));
            out.push((&b.manifest_digest, Payload::Bytes(&b.manifest)));
            out.push((image.layer_digest, Payload::File(image.layer)));
        }
        if let Some(i) = self.index {
            out.push((&i.digest, Payload::Bytes(&i.bytes)));
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }
}

/// Whether `target` can hold an image index: registries and OCI layouts
/// can; `docker load` archives and the engine take one image.
pub fn holds_index(target: &ImageRef) -> bool {
    matches!(
        target,
        ImageRef::Registry { .. } | ImageRef::Oci { .. } | ImageRef::OciArchive { .. }
    )
}

/// Why the slim image could not be written to its target.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{target} holds one image, not the {count} platforms of an index; choose one with --platform")]
    OneImageOnly { target: String, count: usize },
    #[error("{}: exists and is not an OCI image layout; refusing to write into it", dir.display())]
    NotALayout { dir: PathBuf },
    #[error("{}: its index.json is invalid", dir.display())]
    InvalidIndex {
        dir: PathBuf,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("{}: is a directory, expected an archive file path", path.display())]
    IsADirectory { path: PathBuf },
    #[error("{name}: the slim image's digest is {slim}, not the {pinned} the target names")]
    DigestPinned {
        name: String,
        slim: String,
        pinned: String,
    },
    #[error("`{by}` did not report loading {name}: {said}")]
    NotLoaded {
        /// `docker load`, `podman load`, `ctr images import`.
        by: &'static str,
        name: String,
        said: String,
    },
    #[error("cannot write to {}", path.display())]
    NotWritable {
        path: PathBuf,
        #[source]
        source: PathError,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Io(#[from] PathError),
}

impl SinkError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SinkError::Registry(e) => e.hint(),
            SinkError::Docker(e) => e.hint(),
            _ => None,
        }
    }
}

/// Check, before any work, that `target` can be written: a registry is
/// reachable and accepts our credentials for pushing, the engine answers,
/// a directory or archive path can be created.
pub fn check(target: &ImageRef, settings: &crate::registry::Settings) -> Result<(), SinkError> {
    match target {
        ImageRef::Registry { reference } => {
            crate::registry::Repo::connect(reference, settings, crate::registry::Role::Target)?
                .check_push()?;
        }
        ImageRef::Daemon { .. } => crate::docker::check_engine()?,
        ImageRef::Storage { store, .. } => storage::check(store.as_deref())?,
        ImageRef::Containerd { .. } => containerd::check()?,
        ImageRef::Oci { dir, .. } => {
            if dir.exists() && !dir.join("index.json").is_file() {
                let empty = std::fs::read_dir(dir).map(|mut d| d.next().is_none());
                if !matches!(empty, Ok(true)) {
                    return Err(SinkError::NotALayout { dir: dir.clone() });
                }
            }
            writable_beside(dir)?;
        }
        ImageRef::DockerArchive { path, .. } | ImageRef::OciArchive { path, .. } => {
            if path.is_dir() {
                return Err(SinkError::IsADirectory { path: path.clone() });
            }
            writable_beside(path)?;
        }
    }
    Ok(())
}

/// Whether a file can be created beside `path` (where its temporary goes).
fn writable_beside(path: &Path) -> Result<(), SinkError> {
    let parent = crate::files::parent_of(path);
    crate::files::check_writable_dir(&parent).map_err(|source| SinkError::NotWritable {
        path: path.to_path_buf(),
        source,
    })
}

/// Write `out` to `target`; `spool_dir` holds temporary files (the archive
/// handed to `docker load`). Returns what a push did, for the summary.
pub fn write(
    target: &ImageRef,
    out: &Output,
    spool_dir: &Path,
    settings: &crate::registry::Settings,
) -> Result<Option<Pushed>, SinkError> {
    if (out.index.is_some() || out.images.len() != 1) && !holds_index(target) {
        return Err(SinkError::OneImageOnly {
            target: target.to_string(),
            count: out.images.len(),
        });
    }
    match target {
        ImageRef::Registry { reference } => {
            return Ok(Some(registry::write(reference, out, settings)?))
        }
        ImageRef::Daemon { name } => daemon::write(name, out, spool_dir),
        ImageRef::Storage { store, name } => storage::write(store.as_deref(), name, out, spool_dir),
        ImageRef::Containerd { name } => containerd::write(name, out, spool_dir),
        ImageRef::DockerArchive { path, name } => {
            archive::write_atomic(path, out, archive::Flavor::Docker(name.as_deref()))
        }
        ImageRef::Oci { dir, tag } => layout::write_dir(dir, out, tag.as_deref()),
        ImageRef::OciArchive { path, tag } => {
            archive::write_atomic(path, out, archive::Flavor::Oci(tag.as_deref()))
        }
    }?;
    Ok(None)
}
