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

use crate::error::Result;
use crate::reference::ImageRef;
use crate::source::BlobFile;
use crate::write::ImageBlobs;

/// Everything a sink writes: one layer blob plus config and manifest.
pub struct OutputImage<'a> {
    pub blobs: &'a ImageBlobs,
    pub layer: &'a BlobFile,
    pub layer_digest: &'a crate::digest::Digest,
}

/// Write `image` to `target`; `spool_dir` holds temporary files (the archive
/// handed to `docker load`). Returns a note for the summary (what a push uploaded).
pub fn write(
    target: &ImageRef,
    image: &OutputImage,
    spool_dir: &Path,
    settings: &crate::registry::Settings,
) -> Result<Option<String>> {
    if let ImageRef::Registry { reference } = target {
        return Ok(Some(
            registry::write(reference, image, settings)?.describe(),
        ));
    }
    match target {
        ImageRef::Registry { .. } => unreachable!("handled above"),
        ImageRef::Daemon { name } => daemon::write(name, image, spool_dir),
        ImageRef::DockerArchive { path, name } => {
            archive::write_atomic(path, image, archive::Flavor::Docker(name.as_deref()))
        }
        ImageRef::Oci { dir, tag } => layout::write_dir(dir, image, tag.as_deref()),
        ImageRef::OciArchive { path, tag } => {
            archive::write_atomic(path, image, archive::Flavor::Oci(tag.as_deref()))
        }
    }?;
    Ok(None)
}
