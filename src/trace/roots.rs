//! The programs an image runs: Entrypoint + Cmd, the Healthcheck, and extra
//! programs named on the command line, resolved the way the runtime does
//! (PATH from the image's Env, relative paths against WorkingDir).

use crate::image_path::ImagePath;
use crate::rootfs::RootFs;
use crate::source::ImageConfig;

/// The PATH runc uses when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One command line to trace, and what it is (for the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub what: String,
    /// Never empty: an empty command line is no command.
    pub argv: Vec<String>,
}

/// The runtime settings tracing needs.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    /// VOLUME paths: the image's content there seeds a new volume.
    pub volumes: Vec<String>,
}

impl RunConfig {
    pub fn from_config(config: &ImageConfig) -> Self {
        RunConfig {
            env: config.env().to_vec(),
            working_dir: config.working_dir().to_string(),
            user: config.user().to_string(),
            volumes: config.volumes(),
        }
    }

    pub fn path_dirs(&self) -> Vec<String> {
        self.env_var("PATH")
            .unwrap_or(DEFAULT_PATH)
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
    }

    /// The WorkingDir as an image path (the root when unset).
    pub fn working_dir(&self) -> ImagePath {
        ImagePath::parse(&self.working_dir).unwrap_or_default()
    }
}

/// Entrypoint + Cmd (each overridable, as `docker run` does) and the
/// Healthcheck command. Empty command lines (`"Cmd": []`, a healthcheck of
/// `["CMD"]`) are no commands.
pub fn commands(
    config: &ImageConfig,
    entrypoint: Option<&[String]>,
    cmd: Option<&[String]>,
) -> Vec<Command> {
    let mut argv: Vec<String> = entrypoint
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| config.entrypoint().to_vec());
    // As in Docker, a new entrypoint drops the image's Cmd unless a cmd is given.
    let cmd = match (entrypoint, cmd) {
        (_, Some(c)) => c.to_vec(),
        (Some(_), None) => Vec::new(),
        (None, None) => config.cmd().to_vec(),
    };
    argv.extend(cmd);
    let mut out = Vec::new();
    if !argv.is_empty() {
        out.push(Command {
            what: "entrypoint".into(),
            argv,
        });
    }
    let test = config.healthcheck.clone().unwrap_or_default();
    let argv = match test.split_first() {
        Some((kind, rest)) if kind == "CMD" => rest.to_vec(),
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            vec!["/bin/sh".into(), "-c".into(), rest.join(" ")]
        }
        _ => Vec::new(),
    };
    if !argv.is_empty() {
        out.push(Command {
            what: "healthcheck".into(),
            argv,
        });
    }
    out
}

/// Resolve a program name as execve via the runtime would: a name with `/` is
/// a path (relative to WorkingDir), otherwise the first executable regular
/// file named so in a PATH directory. Returns an absolute image path.
pub fn resolve_program(fs: &RootFs, run: &RunConfig, name: &str) -> Option<String> {
    let is_exec = |abs: &str| -> bool {
        let Ok(Some(real)) = fs.lookup(abs, true) else {
            return false;
        };
        fs.get(real.as_str())
            .is_some_and(|n| n.is_executable_file())
    };
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let abs = if name.starts_with('/') {
            name.to_string()
        } else {
            format!("{}/{name}", run.working_dir.trim_end_matches('/'))
        };
        return is_exec(&abs).then_some(abs);
    }
    run.path_dirs()
        .iter()
        .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
        .find(|p| is_exec(p))
}

/// Whether `path` names a POSIX shell that takes `-c`.
pub fn is_shell(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    matches!(
        base,
        "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh" | "busybox"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::tracer::test_config;

    #[test]
    fn entrypoint_overrides_follow_docker() {
        let config = test_config(
            serde_json::json!({"config": {"Entrypoint": ["/a"], "Cmd": ["b"],
            "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}}}),
        );
        let c = commands(&config, None, None);
        assert_eq!(c[0].argv, ["/a", "b"]);
        assert_eq!(
            c[1].argv,
            ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]
        );
        let e = ["/x".to_string()];
        assert_eq!(commands(&config, Some(&e), None)[0].argv, ["/x"]);
    }

    #[test]
    fn empty_command_lines_are_no_commands() {
        for test in [
            serde_json::json!(["CMD"]),
            serde_json::json!(["CMD-SHELL"]),
            serde_json::json!(["NONE"]),
            serde_json::json!([]),
        ] {
            let config = test_config(serde_json::json!({"config": {
                "Entrypoint": [], "Cmd": [], "Healthcheck": {"Test": test}}}));
            assert_eq!(commands(&config, None, None), Vec::<Command>::new());
        }
        let config = test_config(serde_json::json!({"config": {"Cmd": ["x"]}}));
        assert_eq!(commands(&config, Some(&[]), None), Vec::<Command>::new());
    }
}
