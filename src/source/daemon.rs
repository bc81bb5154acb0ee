//! The local Docker engine as a source.
//!
//! We stream `docker save` rather than speak the Engine API ourselves: the CLI
//! already honours everything users configure for it (DOCKER_HOST, contexts,
//! TLS, ssh:// hosts), and `docker save` is the engine's only export of image
//! contents anyway, so an API client would buy no speed, only code. The stream
//! is spooled to a temporary file because its `manifest.json` comes last and
//! layers are then read in parallel from that file without extracting it.

use std::path::Path;

use super::{docker_archive, BlobStore, SourceImage, TarIndex};
use crate::docker;
use crate::error::Result;

pub fn open(name: &str, spool_dir: &Path) -> Result<SourceImage> {
    // `inspect` first: its "No such image" is clearer than what `save` says.
    docker::run(&["image", "inspect", "--format", "{{.Id}}", name])?;
    let tar = spool_dir.join("docker-save.tar");
    docker::run(&["save", "-o", &tar.to_string_lossy(), name])?;
    let store = BlobStore::Tar(TarIndex::scan(&tar)?);
    docker_archive::open(&store, None, &format!("docker-daemon:{name}"))
}
