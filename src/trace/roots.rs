//! The programs an image runs: Entrypoint + Cmd, the Healthcheck, and extra
//! programs named on the command line, resolved the way the runtime does
//! (PATH from the image's Env, relative paths against WorkingDir).

use serde_json::Value;

use crate::rootfs::{NodeKind, RootFs};

/// The PATH runc uses when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One command line to trace, and what it is (for the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub what: String,
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
    pub fn from_config(config: &Value) -> Self {
        let c = &config["config"];
        RunConfig {
            env: strings(&c["Env"]),
            working_dir: c["WorkingDir"].as_str().unwrap_or("").to_string(),
            user: c["User"].as_str().unwrap_or("").to_string(),
            volumes: c["Volumes"]
                .as_object()
                .map(|v| v.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }

    pub fn path_dirs(&self) -> Vec<String> {
        let path = self
            .env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH);
        path.split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix(name)?.strip_prefix('='))
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Entrypoint + Cmd (each overridable) and the Healthcheck command.
pub fn commands(
    config: &Value,
    entrypoint: Option<&[String]>,
    cmd: Option<&[String]>,
) -> Vec<Command> {
    let c = &config["config"];
    let mut argv: Vec<String> = entrypoint
        .map(<[String]>::to_vec)
        .unwrap_or_else(|| strings(&c["Entrypoint"]));
    // As in Docker, a new entrypoint drops the image's Cmd unless a cmd is given.
    let cmd = match (entrypoint, cmd) {
        (_, Some(c)) => c.to_vec(),
        (Some(_), None) => Vec::new(),
        (None, None) => strings(&c["Cmd"]),
    };
    argv.extend(cmd);
    let mut out = Vec::new();
    if !argv.is_empty() {
        out.push(Command {
            what: "entrypoint".into(),
            argv,
        });
    }
    let test = strings(&c["Healthcheck"]["Test"]);
    match test.first().map(String::as_str) {
        Some("CMD") => out.push(Command {
            what: "healthcheck".into(),
            argv: test[1..].to_vec(),
        }),
        Some("CMD-SHELL") => out.push(Command {
            what: "healthcheck".into(),
            argv: vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")],
        }),
        _ => {}
    }
    out
}

/// Resolve a program name as execve via the runtime would: a name with `/` is
/// a path (relative to WorkingDir), otherwise the first executable regular
/// file named so in a PATH directory. Returns an absolute image path.
pub fn resolve_program(fs: &RootFs, run: &RunConfig, name: &str) -> Option<String> {
    let is_exec = |abs: &str| -> bool {
        let Ok(Some(real)) = fs.lookup(abs.trim_start_matches('/'), true) else {
            return false;
        };
        fs.get(&real)
            .is_some_and(|n| matches!(n.kind, NodeKind::File { .. }) && n.meta.mode & 0o111 != 0)
    };
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

    #[test]
    fn entrypoint_overrides_follow_docker() {
        let config = serde_json::json!({"config": {"Entrypoint": ["/a"], "Cmd": ["b"],
            "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]}}});
        let c = commands(&config, None, None);
        assert_eq!(c[0].argv, ["/a", "b"]);
        assert_eq!(
            c[1].argv,
            ["/bin/sh", "-c", "curl -f http://localhost/ || exit 1"]
        );
        let e = ["/x".to_string()];
        assert_eq!(commands(&config, Some(&e), None)[0].argv, ["/x"]);
    }
}
