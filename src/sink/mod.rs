//! Writing the slim image to its target. Every sink is atomic: it writes
//! beside the target and renames into place, so a failure leaves no partial
//! archive or layout behind, and the source is never touched.

mod archive;
mod daemon;
mod layout;
pub mod leftovers;
pub mod registry;

pub use layout::{replace_file, write_atomically};

use std::path::Path;

use crate::error::{Error, Result};
use crate::reference::ImageRef;
use crate::source::BlobFile;
use crate::write::{ImageBlobs, IndexBlob};

/// One slim image: its layer blob plus config and manifest.
pub struct OutputImage<'a> {
    pub blobs: &'a ImageBlobs,
    pub layer: &'a BlobFile,
    pub layer_digest: &'a crate::digest::Digest,
}

/// Everything a sink writes: one image, or the images of an index and the index.
pub struct Output<'a> {
    pub images: Vec<OutputImage<'a>>,
    pub index: Option<&'a IndexBlob>,
}

impl Output<'_> {
    /// Whether `target` can hold an image index: registries and OCI layouts
    /// can; `docker load` archives and the engine take one image.
    pub fn fits(target: &ImageRef) -> bool {
        matches!(
            target,
            ImageRef::Registry { .. } | ImageRef::Oci { .. } | ImageRef::OciArchive { .. }
        )
    }
}

/// Write `image` to `target`; `spool_dir` holds temporary files (the archive
/// handed to `docker load`). Returns a note for the summary (what a push uploaded).
pub fn write(
    target: &ImageRef,
    out: &Output,
    spool_dir: &Path,
    settings: &crate::registry::Settings,
) -> Result<Option<String>> {
    if (out.index.is_some() || out.images.len() != 1) && !Output::fits(target) {
        return Err(Error::Usage(format!(
            "{target} holds one image, not the {} platforms of an index; choose one with --platform",
            out.images.len()
        )));
    }
    match target {
        ImageRef::Registry { reference } => {
            return Ok(Some(registry::write(reference, out, settings)?.describe()))
        }
        ImageRef::Daemon { name } => daemon::write(name, out, spool_dir),
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
