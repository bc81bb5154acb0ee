//! Podman's and Buildah's image store as a target: a docker-archive handed
//! to `podman load`, which (like `docker load`) imports the whole image and
//! tags it, or fails. slimify never writes into the store itself.

use std::path::Path;

use super::archive::load_into_engine;
use super::{Output, SinkError};
use crate::docker;
use crate::reference::StoreSpec;
use crate::source::podman_store_flags;

/// Podman answers, with this store.
pub fn check(store: Option<&StoreSpec>) -> Result<(), SinkError> {
    docker::run_podman(&podman_store_flags(store), &["image", "ls", "--quiet"])?;
    Ok(())
}

pub fn write(
    store: Option<&StoreSpec>,
    name: &str,
    out: &Output,
    spool_dir: &Path,
) -> Result<(), SinkError> {
    load_into_engine("podman load", name, out, spool_dir, |archive| {
        docker::run_podman(&podman_store_flags(store), &["load", "-i", archive])
    })
}
