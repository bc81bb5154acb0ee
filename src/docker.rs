//! The Docker CLI, our one door to the engine (see `source/daemon.rs` for why).

use std::process::{Command, Stdio};

/// The engine or its CLI refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot run `{cli} {verb}` (is it installed?)")]
    Spawn {
        cli: String,
        verb: String,
        #[source]
        source: std::io::Error,
    },
    /// The command ran and failed; `message` is the engine's own first line.
    #[error("`{cli} {verb}` failed: {message}")]
    Failed {
        /// `docker` or `podman`.
        cli: &'static str,
        verb: String,
        message: String,
    },
}

impl DockerError {
    /// What to try next, for errors that have an obvious remedy.
    pub fn hint(&self) -> Option<String> {
        match self {
            DockerError::Failed { message, .. } if message.contains("Cannot connect to the Docker daemon") || message.contains("docker daemon running") => Some(
                "start the Docker engine (`dockerd`), or point DOCKER_HOST or `docker context use` at a running one".into(),
            ),
            DockerError::Spawn { cli, .. } if cli.contains("podman") => Some(
                "install podman, or set SLIMIFY_PODMAN to its path".into(),
            ),
            DockerError::Spawn { .. } => Some(
                "install the docker CLI, or set SLIMIFY_DOCKER to its path".into(),
            ),
            _ => None,
        }
    }
}

/// Run `docker ARGS`, returning stdout; a failure becomes one line naming the
/// engine's own message.
pub fn run(args: &[&str]) -> Result<String, DockerError> {
    run_cli(Cli::Docker, args)
}

/// The engine CLIs slimify drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cli {
    Docker,
    /// Podman, for `containers-storage:` images.
    Podman,
    /// containerd's `ctr`, for `containerd:` images (it reads
    /// CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE itself).
    Ctr,
}

impl Cli {
    fn name(self) -> &'static str {
        match self {
            Cli::Docker => "docker",
            Cli::Podman => "podman",
            Cli::Ctr => "ctr",
        }
    }

    /// The program to run: `SLIMIFY_DOCKER` / `SLIMIFY_PODMAN` let tests and
    /// unusual setups pick another.
    fn program(self) -> String {
        let var = match self {
            Cli::Docker => "SLIMIFY_DOCKER",
            Cli::Podman => "SLIMIFY_PODMAN",
            Cli::Ctr => "SLIMIFY_CTR",
        };
        std::env::var(var).unwrap_or_else(|_| self.name().to_string())
    }
}

/// Run `podman GLOBAL ARGS` (GLOBAL: the flags that select a store),
/// returning stdout.
pub fn run_podman(global: &[String], args: &[&str]) -> Result<String, DockerError> {
    let all: Vec<&str> = global
        .iter()
        .map(String::as_str)
        .chain(args.iter().copied())
        .collect();
    run_cli(Cli::Podman, &all)
}

/// Run `CLI ARGS`, returning stdout; a failure becomes one line naming the
/// CLI's own message.
pub fn run_cli(cli: Cli, args: &[&str]) -> Result<String, DockerError> {
    let out = output_cli(cli, args)?;
    if out.code == Some(0) {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let verb = args.first().copied().unwrap_or("").to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed without a message")
        .trim_start_matches("Error: ")
        .trim_start_matches("Error response from daemon: ");
    Err(DockerError::Failed {
        cli: cli.name(),
        verb,
        message: without_repeats(message),
    })
}

/// The engine sometimes says one thing twice (`no such image: x: No such
/// image: x`): keep each `: `-separated part once.
fn without_repeats(message: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let split: Vec<&str> = message.split(": ").collect();
    let mut i = 0;
    while i < split.len() {
        // A run of parts equal (ignoring case) to the run just before it.
        let mut skipped = false;
        for n in (1..=parts.len().min(split.len() - i)).rev() {
            let before = &parts[parts.len() - n..];
            let here = &split[i..i + n];
            if before
                .iter()
                .zip(here)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
            {
                i += n;
                skipped = true;
                break;
            }
        }
        if !skipped {
            parts.push(split[i]);
            i += 1;
        }
    }
    parts.join(": ")
}

/// What a docker command printed and how it ended, whatever that was: for
/// `docker exec`, `docker logs` and `docker wait`, whose output is the
/// container's own (a non-zero exit is an answer, not an engine failure).
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Run `docker ARGS` and return what it printed; only a CLI that cannot be
/// started is an error.
pub fn output(args: &[&str]) -> Result<Output, DockerError> {
    output_cli(Cli::Docker, args)
}

fn output_cli(cli: Cli, args: &[&str]) -> Result<Output, DockerError> {
    let out = Command::new(cli.program())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| DockerError::Spawn {
            cli: cli.program(),
            verb: args.first().copied().unwrap_or("").to_string(),
            source,
        })?;
    Ok(Output {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// Whether the engine answers (`docker version` reaches the server).
pub fn check_engine() -> Result<(), DockerError> {
    run(&["version", "--format", "{{.Server.Version}}"]).map(drop)
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_engine_messages_are_said_once() {
        assert_eq!(
            super::without_repeats("no such image: x:1: No such image: x:1"),
            "no such image: x:1"
        );
        assert_eq!(super::without_repeats("a: b: c"), "a: b: c");
    }
}
