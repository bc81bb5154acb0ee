//! The Docker CLI, our one door to the engine (see `source/daemon.rs` for why).

use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Run `docker ARGS`, returning stdout; a failure becomes one line naming the
/// engine's own message.
pub fn run(args: &[&str]) -> Result<String> {
    let out = Command::new(docker_cli())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::Docker(format!(
                "cannot run `{} {}`: {e} (is the docker CLI installed?)",
                docker_cli(),
                args.first().unwrap_or(&"")
            ))
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let msg = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed without a message")
        .trim_start_matches("Error: ")
        .trim_start_matches("Error response from daemon: ");
    Err(Error::Docker(format!(
        "`docker {}` failed: {msg}",
        args.first().unwrap_or(&"")
    )))
}

/// The CLI to call; `SLIMIFY_DOCKER` lets tests and unusual setups pick another.
fn docker_cli() -> String {
    std::env::var("SLIMIFY_DOCKER").unwrap_or_else(|_| "docker".to_string())
}
