//! Podman's and Buildah's image store as a target: a docker-archive handed
//! to `podman load`, which (like `docker load`) imports the whole image and
//! tags it, or fails. slimify never writes into the store itself.

use std::path::Path;

use super::archive::{write_atomic, Flavor};
use super::{Output, SinkError};
use crate::docker;
use crate::reference::{store_flags, StoreSpec};

/// Podman answers, with this store.
pub fn check(store: Option<&StoreSpec>) -> Result<(), SinkError> {
    docker::run_podman(&store_flags(store), &["image", "ls", "--quiet"])?;
    Ok(())
}

pub fn write(
    store: Option<&StoreSpec>,
    name: &str,
    out: &Output,
    spool_dir: &Path,
) -> Result<(), SinkError> {
    let archive = spool_dir.join("podman-load.tar");
    write_atomic(&archive, out, Flavor::Docker(Some(name)))?;
    let said = docker::run_podman(
        &store_flags(store),
        &["load", "-i", &archive.to_string_lossy()],
    )?;
    // Podman puts an unqualified name under localhost/.
    if !said.contains(name) {
        return Err(SinkError::NotLoaded {
            by: "podman load",
            name: name.into(),
            said: said.trim().into(),
        });
    }
    Ok(())
}
