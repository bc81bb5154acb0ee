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

use super::engine::{about_image, Engine, Placement};
use super::{containerd, engine_store, EngineRead, Result, SourceError, SourceImage};
use crate::docker;

/// Open `name`, in place unless `in_place` is false or impossible.
pub fn open(
    name: &str,
    spool_dir: &Path,
    read_in_place: bool,
) -> Result<(SourceImage, EngineRead)> {
    let run = |args: &[&str]| engine(name, args);
    let in_place = |p: &Placement| match engine_store::open(p) {
        Ok(image) => Ok((image, "engine's overlay2")),
        // The containerd image store (Docker 24+ with the containerd
        // snapshotter) names the image by its manifest digest, whose blobs
        // are in containerd's content store.
        Err(why) if p.driver.name != "overlay2" => containerd::docker_image(&p.id)
            .map(|image| (image, "containerd content"))
            .map_err(|_| why),
        Err(why) => Err(why),
    };
    Engine {
        cli: "docker",
        save: &["save"],
        saved_by: "docker save",
        run: &run,
        in_place: &in_place,
    }
    .open(
        name,
        &format!("docker-daemon:{name}"),
        spool_dir,
        read_in_place,
    )
}

/// Run `docker ARGS` about the image `name`: an engine that no longer has it
/// says so in one of two ways, both of which become [`SourceError::NoSuchImage`].
fn engine(name: &str, args: &[&str]) -> Result<String> {
    about_image(
        docker::run(args),
        &["no such image", "reference does not exist"],
        || SourceError::NoSuchImage { name: name.into() },
    )
}
