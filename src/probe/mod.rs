//! Running an image: the dynamic evidence of `--probe` and the runs that
//! `verify` compares.
//!
//! Both start the image through the Docker engine the CLI points at
//! (`DOCKER_HOST`, the docker context), drive it with the same [`Workload`]
//! (a command that runs once, or a server that is sent HTTP requests and
//! commands), stop it and read what it did ([`Observed`]). A probe run also
//! has slimify's recorder (`recorder/`, a static ptrace helper bind-mounted
//! read-only) as its entrypoint: it starts the image's own command line as
//! its child and writes every path the process tree opened, executed,
//! stat'ed, read as a link or listed ([`Record`]). Containers are always
//! removed afterwards, also on errors, timeouts and Ctrl-C.

mod container;
mod recorder;
mod run;
mod spec;
mod workload;

pub use recorder::{Access, Record};
#[cfg(test)]
pub use run::HttpAnswer;
pub use run::{run, Exec, Mode, Observed};
pub use spec::RunSpec;
pub use workload::{Network, Workload};

use crate::docker::DockerError;
use crate::files::PathError;

/// Why an image could not be run and observed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("this slimify was built without its recorder ({why})")]
    NoRecorder { why: String },
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Io(#[from] PathError),
    #[error("{image} has no Entrypoint or Cmd: there is nothing to run")]
    NothingToRun { image: String },
    #[error("{image} exposes {exposed} ports: which one answers HTTP?")]
    WhichPort { image: String, exposed: usize },
    #[error("--http-get needs a port, and {image} exposes none")]
    NoPort { image: String },
    #[error("{image} is for {arch}, and this machine cannot run {arch} programs")]
    ForeignArch { image: String, arch: String },
    #[error("{image} did not answer on port {port} within {seconds} s{}", logs_tail(.logs))]
    NeverReady {
        image: String,
        port: u16,
        seconds: u64,
        logs: String,
    },
    #[error("{image} exited with status {exit} before it answered on port {port}{}", logs_tail(.logs))]
    ExitedEarly {
        image: String,
        port: u16,
        exit: i32,
        logs: String,
    },
    #[error("the recorder's file {path} is not one it writes: {why}")]
    BadRecords { path: String, why: String },
    #[error("interrupted by a signal")]
    Interrupted,
}

impl ProbeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ProbeError::Docker(e) => e.hint(),
            ProbeError::NoRecorder { .. } => Some(
                "build slimify where glibc's static libraries are installed (Debian: libc6-dev)"
                    .into(),
            ),
            ProbeError::WhichPort { .. } | ProbeError::NoPort { .. } => {
                Some("name the port with --port N".into())
            }
            ProbeError::ForeignArch { .. } => Some(
                "register qemu-user-static with binfmt_misc (Debian: apt-get install qemu-user-static), or probe on a machine of that architecture"
                    .into(),
            ),
            ProbeError::NeverReady { .. } => Some(
                "give a longer --timeout, another --port, or the path of a page that answers with --http-get"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// The last lines a container printed, for an error that says it failed.
fn logs_tail(logs: &str) -> String {
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = &lines[lines.len().saturating_sub(3)..];
    format!("; it printed: {}", tail.join(" / "))
}
