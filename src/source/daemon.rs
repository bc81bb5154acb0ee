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

use super::engine_store::{self, Placement, INSPECT_FORMAT};
use super::store::{BlobStore, TarIndex};
use super::{docker_archive, EngineRead, Result, SourceError, SourceImage};
use crate::docker::{self, DockerError};

/// Open `name`, in place unless `in_place` is false or impossible.
pub fn open(name: &str, spool_dir: &Path, in_place: bool) -> Result<(SourceImage, EngineRead)> {
    // `inspect` first: its "No such image" is clearer than what `save` says.
    let inspected = engine(
        name,
        &["image", "inspect", "--format", INSPECT_FORMAT, name],
    )?;
    let fallback = if in_place {
        let placement = serde_json::from_str::<Placement>(inspected.trim())
            .map_err(|e| format!("cannot read `docker image inspect`'s answer: {e}"));
        match placement.and_then(|p| engine_store::open(&p)) {
            Ok(image) => return Ok((image, EngineRead::InPlace)),
            Err(why) => Some(why),
        }
    } else {
        None
    };
    let tar = spool_dir.join("docker-save.tar");
    // The image may be gone by now (removed while slimify looked at it).
    engine(name, &["save", "-o", &tar.to_string_lossy(), name])?;
    let store = BlobStore::Tar(TarIndex::scan(&tar)?);
    let image = docker_archive::open(&store, None, &format!("docker-daemon:{name}"))?;
    Ok((image, EngineRead::Saved { fallback }))
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
