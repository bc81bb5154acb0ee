//! The local Docker engine as a target: a docker-archive handed to `docker load`.
//!
//! `docker load` either imports the whole image and tags it or fails, so the
//! engine never sees a half-written image.

use std::path::Path;

use super::archive::{write_atomic, Flavor};
use super::{Output, SinkError};
use crate::docker;

pub fn write(name: &str, out: &Output, spool_dir: &Path) -> Result<(), SinkError> {
    let archive = spool_dir.join("docker-load.tar");
    write_atomic(&archive, out, Flavor::Docker(Some(name)))?;
    let out = docker::run(&["load", "-i", &archive.to_string_lossy()])?;
    if !out.contains(name) {
        return Err(SinkError::NotLoaded {
            by: "docker load",
            name: name.into(),
            said: out.trim().into(),
        });
    }
    Ok(())
}
