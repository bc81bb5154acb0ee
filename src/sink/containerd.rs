//! containerd's image store as a target: a docker-archive handed to `ctr
//! images import` (in CONTAINERD_NAMESPACE, at CONTAINERD_ADDRESS), which
//! imports the whole image under its name, or fails.

use std::path::Path;

use super::archive::{write_atomic, Flavor};
use super::{Output, SinkError};
use crate::docker::{self, Cli};
use crate::reference::containerd_name;

/// containerd answers.
pub fn check() -> Result<(), SinkError> {
    docker::run_cli(Cli::Ctr, &["version"])?;
    Ok(())
}

pub fn write(name: &str, out: &Output, spool_dir: &Path) -> Result<(), SinkError> {
    // ctr stores the name the archive carries as it is: give it the full
    // name, which is what nerdctl and `ctr images pull` would store.
    let full = containerd_name(name);
    let archive = spool_dir.join("ctr-import.tar");
    write_atomic(&archive, out, Flavor::Docker(Some(&full)))?;
    docker::run_cli(Cli::Ctr, &["images", "import", &archive.to_string_lossy()])?;
    let listed = docker::run_cli(
        Cli::Ctr,
        &["images", "ls", "--quiet", &format!("name=={full}")],
    )?;
    if !listed.lines().any(|l| l.trim() == full) {
        return Err(SinkError::NotLoaded {
            by: "ctr images import",
            name: full,
            said: listed.trim().into(),
        });
    }
    Ok(())
}
