//! How an engine image runs, read from the engine (`docker image inspect`):
//! its command line, healthcheck, stop signal, exposed ports and architecture.

use serde::Deserialize;

use super::ProbeError;
use crate::docker;

/// One image as `docker run IMAGE` would start it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// The engine's name for the image.
    pub image: String,
    /// Entrypoint + Cmd (or the overrides), never empty.
    pub argv: Vec<String>,
    /// Whether `argv` is the image's own (no `--entrypoint`/`--cmd`): then
    /// a plain run needs no overrides at all.
    pub own_argv: bool,
    /// The healthcheck as a command line (`CMD-SHELL x` is `/bin/sh -c x`).
    pub health: Option<Vec<String>>,
    /// STOPSIGNAL, else SIGTERM: what `docker stop` sends.
    pub stop_signal: String,
    /// Exposed TCP ports.
    pub ports: Vec<u16>,
    /// `amd64`, `arm64`, ... (the engine's name).
    pub arch: String,
}

#[derive(Deserialize)]
struct Inspect {
    #[serde(rename = "Config", default)]
    config: Option<Config>,
    #[serde(rename = "Architecture", default)]
    architecture: String,
}

#[derive(Deserialize, Default)]
struct Config {
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    cmd: Option<Vec<String>>,
    #[serde(rename = "Healthcheck", default)]
    healthcheck: Option<Health>,
    #[serde(rename = "StopSignal", default)]
    stop_signal: Option<String>,
    #[serde(rename = "ExposedPorts", default)]
    exposed_ports: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Health {
    #[serde(rename = "Test", default)]
    test: Option<Vec<String>>,
}

impl RunSpec {
    /// Read `image` from the engine; `entrypoint`/`cmd` override the image's
    /// as `docker run --entrypoint` does (a new entrypoint drops the Cmd
    /// unless a cmd is given).
    pub fn inspect(
        image: &str,
        entrypoint: Option<&[String]>,
        cmd: Option<&[String]>,
    ) -> Result<RunSpec, ProbeError> {
        let json = docker::run(&["image", "inspect", "--format", "{{json .}}", image])?;
        let inspect: Inspect =
            serde_json::from_str(json.trim()).map_err(|e| docker::DockerError::Failed {
                cli: "docker",
                verb: "image inspect".into(),
                message: format!("unexpected answer: {e}"),
            })?;
        let config = inspect.config.unwrap_or_default();
        let mut argv = entrypoint
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| config.entrypoint.clone().unwrap_or_default());
        argv.extend(match (entrypoint, cmd) {
            (_, Some(c)) => c.to_vec(),
            (Some(_), None) => Vec::new(),
            (None, None) => config.cmd.clone().unwrap_or_default(),
        });
        if argv.is_empty() {
            return Err(ProbeError::NothingToRun {
                image: image.to_string(),
            });
        }
        let health = config
            .healthcheck
            .and_then(|h| h.test)
            .and_then(|t| health_argv(&t));
        let mut ports: Vec<u16> = config
            .exposed_ports
            .unwrap_or_default()
            .keys()
            .filter_map(|k| {
                let (port, proto) = k.split_once('/').unwrap_or((k, "tcp"));
                (proto == "tcp").then(|| port.parse().ok()).flatten()
            })
            .collect();
        ports.sort_unstable();
        Ok(RunSpec {
            image: image.to_string(),
            argv,
            own_argv: entrypoint.is_none() && cmd.is_none(),
            health,
            stop_signal: config
                .stop_signal
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "SIGTERM".into()),
            ports,
            arch: inspect.architecture,
        })
    }
}

/// A Healthcheck `Test` as a command line: `["CMD", args...]` runs args,
/// `["CMD-SHELL", "x"]` runs `/bin/sh -c x`; `NONE` and empty tests are none.
fn health_argv(test: &[String]) -> Option<Vec<String>> {
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            Some(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::health_argv;

    #[test]
    fn healthchecks_become_command_lines() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            health_argv(&v(&["CMD", "/bin/true"])),
            Some(v(&["/bin/true"]))
        );
        assert_eq!(
            health_argv(&v(&["CMD-SHELL", "curl -f localhost || exit 1"])),
            Some(v(&["/bin/sh", "-c", "curl -f localhost || exit 1"]))
        );
        assert_eq!(health_argv(&v(&["CMD"])), None);
        assert_eq!(health_argv(&v(&["NONE"])), None);
        assert_eq!(health_argv(&[]), None);
    }
}
