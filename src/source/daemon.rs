//! The local Docker engine as a source.
//!
//! Where it can, slimify reads the image where the engine keeps it
//! (`engine_store.rs`): only the layer headers and the kept files are read.
//! Otherwise it streams `docker save`, which works with any engine the CLI
//! reaches (DOCKER_HOST, contexts, TLS, ssh:// hosts) and any storage: the
//! stream is spooled to a temporary file because its `manifest.json` comes
//! last, and layers are then read in parallel from that file without
//! extracting it.

use std::path::Path;

use super::engine::Engine;
use super::{engine_store, EngineRead, Result, SourceError, SourceImage};
use crate::docker::{self, DockerError};

/// Open `name`, in place unless `in_place` is false or impossible.
pub fn open(name: &str, spool_dir: &Path, in_place: bool) -> Result<(SourceImage, EngineRead)> {
    let run = |args: &[&str]| engine(name, args);
    Engine {
        cli: "docker",
        store: "engine's overlay2",
        save: &["save"],
        run: &run,
        in_place: &engine_store::open,
    }
    .open(name, &format!("docker-daemon:{name}"), spool_dir, in_place)
}

/// Run `docker ARGS` about the image `name`: an engine that no longer has it
/// says so in one of two ways, both of which become [`SourceError::NoSuchImage`].
fn engine(name: &str, args: &[&str]) -> Result<String> {
    match docker::run(args) {
        Err(DockerError::Failed { message, .. })
            if ["no such image", "reference does not exist"]
                .iter()
                .any(|m| message.to_ascii_lowercase().contains(m)) =>
        {
            Err(SourceError::NoSuchImage { name: name.into() })
        }
        other => Ok(other?),
    }
}
