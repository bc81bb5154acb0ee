//! The local Docker engine as a target: a docker-archive handed to `docker load`.
//!
//! `docker load` either imports the whole image and tags it or fails, so the
//! engine never sees a half-written image.

use std::path::Path;

use super::archive::load_into_engine;
use super::{Output, SinkError};
use crate::docker;

pub fn write(name: &str, out: &Output, spool_dir: &Path) -> Result<(), SinkError> {
    load_into_engine("docker load", name, out, spool_dir, |archive| {
        docker::run(&["load", "-i", archive])
    })
}
