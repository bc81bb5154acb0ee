//! One container of a run: started detached, asked questions with `docker
//! exec`, stopped the way `docker stop` does, and always removed (on drop:
//! errors, timeouts and Ctrl-C included).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::recorder::MOUNT;
use super::ProbeError;
use crate::docker::{self, DockerError};

/// How long a stopped app may take to exit before it is killed. Shorter than
/// `docker stop`'s 10 s: both runs of a comparison are stopped alike.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct Container {
    pub id: String,
    /// Set by whoever waits for this run when it no longer wants it.
    cancel: Option<Arc<AtomicBool>>,
}

/// What a `GET` found.
pub enum Get {
    /// Nothing listens (yet).
    Refused,
    /// Something listens, and did not answer HTTP.
    Connected,
    /// The raw response: status line, headers, body.
    Answered(String),
}

/// What a command inside the container printed and how it ended.
pub struct ExecOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Container {
    /// `docker run -d ARGS`.
    pub fn start(
        args: &[String],
        cancel: Option<Arc<AtomicBool>>,
    ) -> Result<Container, ProbeError> {
        // Labelled with our PID: whoever cleans up after a crash (or a
        // test) can tell slimify's containers, and which run's they are.
        let mut all = vec!["run".to_string(), "-d".into(), "--label".into()];
        all.push(format!("org.slimify.run={}", std::process::id()));
        all.extend(args.iter().cloned());
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let id = docker::run(&refs)?.trim().to_string();
        Ok(Container { id, cancel })
    }

    /// The exit status, or `None` while it runs.
    pub fn exit_code(&self) -> Result<Option<i32>, ProbeError> {
        let state = docker::run(&[
            "inspect",
            "--format",
            "{{.State.Running}} {{.State.ExitCode}}",
            &self.id,
        ])?;
        let mut words = state.split_whitespace();
        Ok(match (words.next(), words.next()) {
            (Some("false"), Some(code)) => Some(code.parse().unwrap_or(-1)),
            _ => None,
        })
    }

    /// Wait until it exits or `limit` passes; `Some(code)` when it exited.
    pub fn wait(&self, limit: Duration) -> Result<Option<i32>, ProbeError> {
        let start = Instant::now();
        loop {
            if let Some(code) = self.exit_code()? {
                return Ok(Some(code));
            }
            if start.elapsed() >= limit {
                return Ok(None);
            }
            self.check()?;
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `docker exec ARGV` (as the image's user, in its working directory).
    pub fn exec(&self, argv: &[String]) -> Result<ExecOutput, ProbeError> {
        let mut args = vec!["exec", &self.id];
        args.extend(argv.iter().map(String::as_str));
        let out = docker::output(&args)?;
        Ok(ExecOutput {
            code: out.code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// `GET path` on the container's own loopback, sent by the mounted
    /// recorder (so it works with `--network none` and needs no client in
    /// the image).
    pub fn http_get(&self, port: u16, path: &str, timeout: Duration) -> Result<Get, ProbeError> {
        let out = self.exec(&[
            format!("{MOUNT}/recorder"),
            "http-get".into(),
            "--port".into(),
            port.to_string(),
            "--timeout".into(),
            timeout.as_secs().max(1).to_string(),
            path.to_string(),
        ])?;
        Ok(match out.code {
            Some(0) if out.stdout.starts_with("HTTP/") => Get::Answered(out.stdout),
            // The recorder's (curl's) codes: 28 timed out, 56 the
            // connection closed or failed after it was made, 0 something
            // that is not HTTP: a server listens, and speaks another protocol.
            Some(0) | Some(28) | Some(56) => Get::Connected,
            _ => Get::Refused,
        })
    }

    /// The PIDs inside the container now (to recognise them in its output).
    pub fn pids(&self) -> Result<Vec<u32>, ProbeError> {
        let out = self.exec(&[format!("{MOUNT}/recorder"), "pids".into()])?;
        Ok(out
            .stdout
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect())
    }

    /// Stop it as `docker stop` does: `signal` to PID 1, then SIGKILL after
    /// the grace time. Returns the exit status.
    pub fn stop(&self, signal: &str) -> Result<i32, ProbeError> {
        if let Some(code) = self.exit_code()? {
            return Ok(code);
        }
        // The container may end between the check and the signal.
        let _ = docker::run(&["kill", "--signal", signal, &self.id]);
        if let Some(code) = self.wait(STOP_GRACE)? {
            return Ok(code);
        }
        let _ = docker::run(&["kill", &self.id]);
        Ok(self.wait(STOP_GRACE)?.unwrap_or(137))
    }

    /// Its stdout and stderr so far.
    pub fn logs(&self) -> Result<(String, String), ProbeError> {
        let out = docker::output(&["logs", &self.id])?;
        if out.code != Some(0) {
            return Err(DockerError::Failed {
                cli: "docker",
                verb: "logs".into(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }
            .into());
        }
        Ok((
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

impl Container {
    /// An error once Ctrl-C arrived or the run was cancelled.
    pub fn check(&self) -> Result<(), ProbeError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(ProbeError::Interrupted);
        }
        crate::interrupt::check().map_err(|_| ProbeError::Interrupted)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker::output(&["rm", "--force", "--volumes", &self.id]);
    }
}
