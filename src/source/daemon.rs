//! The local Docker engine as a source.
//!
//! We stream `docker save` rather than speak the Engine API ourselves: the CLI
//! already honours everything users configure for it (DOCKER_HOST, contexts,
//! TLS, ssh:// hosts), and `docker save` is the engine's only export of image
//! contents anyway, so an API client would buy no speed, only code. The stream
//! is spooled to a temporary file because its `manifest.json` comes last and
//! layers are then read in parallel from that file without extracting it.

use std::path::Path;

use super::store::{BlobStore, TarIndex};
use super::{docker_archive, Result, SourceError, SourceImage};
use crate::docker::{self, DockerError};

pub fn open(name: &str, spool_dir: &Path) -> Result<SourceImage> {
    // `inspect` first: its "No such image" is clearer than what `save` says.
    match docker::run(&["image", "inspect", "--format", "{{.Id}}", name]) {
        Err(DockerError::Failed { message, .. })
            if message.to_ascii_lowercase().contains("no such image") =>
        {
            return Err(SourceError::NoSuchImage { name: name.into() })
        }
        other => other?,
    };
    let tar = spool_dir.join("docker-save.tar");
    docker::run(&["save", "-o", &tar.to_string_lossy(), name])?;
    let store = BlobStore::Tar(TarIndex::scan(&tar)?);
    docker_archive::open(&store, None, &format!("docker-daemon:{name}"))
}
