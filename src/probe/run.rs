//! One run of an image under a workload: start it, wait for it to end (a
//! command) or to answer (a server), send the requests and commands, read
//! its health, stop it, and collect what it printed and, for a probe, the
//! paths it touched.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::container::{Container, ExecOutput, Get};
use super::recorder::{Record, RecorderDir, MOUNT};
use super::{ProbeError, RunSpec, Workload};

/// How long one HTTP request may take once the server answers at all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the run records file accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The image runs as `docker run IMAGE` runs it.
    Plain,
    /// The recorder is the entrypoint and runs the image's command line
    /// (and every `--exec` command and the healthcheck) under ptrace.
    Record,
}

/// The answer to one `--http-get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAnswer {
    pub path: String,
    /// The raw response (status line, headers, body), `None` when nothing answered.
    pub response: Option<String>,
}

/// One command run inside the container (`--exec`, the healthcheck).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exec {
    pub argv: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub image: String,
    /// The exit status: the command's, or a server's after it was stopped.
    pub exit: i32,
    /// A command still running at `--timeout` (then stopped).
    pub timed_out: bool,
    /// A server that ended before it was stopped (and before it answered,
    /// when it never did).
    pub ended_early: bool,
    /// Where the requests went.
    pub port: Option<u16>,
    /// A server waited for on its port, and whether it listened in time.
    pub waited: bool,
    pub ready: bool,
    pub stdout: String,
    pub stderr: String,
    pub http: Vec<HttpAnswer>,
    pub execs: Vec<Exec>,
    /// The healthcheck run once the server answered.
    pub health: Option<Exec>,
    /// PIDs inside the container before it was stopped.
    pub pids: Vec<u32>,
    /// What the recorder saw (a probe run only).
    pub records: Vec<Record>,
    pub seconds: f64,
}

impl Observed {
    /// A server that was waited for, never listened and never ended.
    pub fn never_answered(&self) -> bool {
        self.waited && !self.ready && !self.ended_early
    }
}

/// Run `spec` under `workload`.
pub fn run(
    spec: &RunSpec,
    workload: &Workload,
    mode: Mode,
    tmp_dir: Option<&std::path::Path>,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<Observed, ProbeError> {
    let started = Instant::now();
    let platform = check_arch(spec)?;
    let dir = RecorderDir::new(tmp_dir)?;
    let record = mode == Mode::Record;
    // The engine's own healthcheck schedule would add requests (and log
    // lines) at times that differ from run to run: the healthcheck runs
    // once, as a command, when the server answers.
    let mut args: Vec<String> = vec![
        "--no-healthcheck".into(),
        "--network".into(),
        workload.network.docker_name().into(),
    ];
    if let Some(p) = platform {
        args.extend(["--platform".into(), p]);
    }
    args.extend(dir.mounts(record));
    if record {
        args.extend(["--entrypoint".into(), format!("{MOUNT}/recorder")]);
        args.push(spec.image.clone());
        args.extend(recorded("main", &spec.argv));
    } else if spec.own_argv {
        args.push(spec.image.clone());
    } else {
        args.extend(["--entrypoint".into(), spec.argv[0].clone()]);
        args.push(spec.image.clone());
        args.extend(spec.argv[1..].iter().cloned());
    }
    // Before the container starts: a port that cannot be chosen is a usage
    // error, not a run to wait for.
    let port = port(spec, workload)?;
    let c = Container::start(&args, cancel)?;
    let mut seen = Observed {
        image: spec.image.clone(),
        port,
        ..Observed::default()
    };
    if !workload.is_server() && port.is_none() {
        match c.wait(workload.timeout)? {
            Some(code) => seen.exit = code,
            None => {
                seen.timed_out = true;
                seen.exit = c.stop(&spec.stop_signal)?;
            }
        }
    } else {
        serve(&c, spec, workload, port, record, &mut seen)?;
    }
    let (stdout, stderr) = c.logs()?;
    seen.stdout = stdout;
    seen.stderr = stderr;
    if record {
        seen.records = dir.records()?.0;
    }
    drop(c);
    seen.seconds = started.elapsed().as_secs_f64();
    Ok(seen)
}

/// A server: wait until it answers, send the requests and commands, run
/// the healthcheck, let it settle, stop it.
fn serve(
    c: &Container,
    spec: &RunSpec,
    workload: &Workload,
    port: Option<u16>,
    record: bool,
    seen: &mut Observed,
) -> Result<(), ProbeError> {
    // Without --http-get, ready is listening at all (the server may speak
    // another protocol), and `/` is asked once: every HTTP server has it.
    let asked = !workload.http_get.is_empty();
    let mut paths = workload.http_get.clone();
    if paths.is_empty() {
        paths.push("/".into());
    }
    if let Some(port) = port {
        seen.waited = true;
        let start = Instant::now();
        let mut first = None;
        loop {
            if let Some(code) = c.exit_code()? {
                seen.exit = code;
                seen.ended_early = true;
                break;
            }
            match c.http_get(port, &paths[0], REQUEST_TIMEOUT)? {
                Get::Answered(r) => {
                    first = Some(r);
                    seen.ready = true;
                    break;
                }
                Get::Connected if !asked => {
                    seen.ready = true;
                    break;
                }
                _ => {}
            }
            if start.elapsed() >= workload.timeout {
                break;
            }
            c.check()?;
            std::thread::sleep(Duration::from_millis(200));
        }
        seen.http.push(HttpAnswer {
            path: paths[0].clone(),
            response: first,
        });
        for path in &paths[1..] {
            let response = match seen.ready {
                true => match c.http_get(port, path, REQUEST_TIMEOUT)? {
                    Get::Answered(r) => Some(r),
                    _ => None,
                },
                false => None,
            };
            seen.http.push(HttpAnswer {
                path: path.clone(),
                response,
            });
        }
    } else {
        // Nothing to wait for: give the app the settle time to start.
        std::thread::sleep(workload.settle);
    }
    if !seen.ended_early {
        for (i, argv) in workload.exec.iter().enumerate() {
            c.check()?;
            seen.execs.push(exec(c, argv, record, &format!("exec-{i}")));
        }
        if let Some(health) = &spec.health {
            seen.health = Some(exec(c, health, record, "health"));
        }
        seen.pids = c.pids().unwrap_or_default();
        std::thread::sleep(workload.settle);
        seen.exit = c.stop(&spec.stop_signal)?;
    }
    Ok(())
}

/// Run `argv` in the container (under the recorder for a probe). An engine
/// failure is the command's failure here: the comparison shows it.
fn exec(c: &Container, argv: &[String], record: bool, name: &str) -> Exec {
    let full: Vec<String> = if record {
        std::iter::once(format!("{MOUNT}/recorder"))
            .chain(recorded(name, argv))
            .collect()
    } else {
        argv.to_vec()
    };
    let out = c.exec(&full).unwrap_or_else(|e| ExecOutput {
        code: None,
        stdout: String::new(),
        stderr: e.to_string(),
    });
    Exec {
        argv: argv.to_vec(),
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// The recorder's arguments for recording `argv` into `out/NAME.paths`.
fn recorded(name: &str, argv: &[String]) -> Vec<String> {
    let mut v = vec![
        "record".to_string(),
        "--out".into(),
        format!("{MOUNT}/out/{name}.paths"),
        "--".into(),
    ];
    v.extend(argv.iter().cloned());
    v
}

/// The port requests go to: `--port`, else the image's one exposed port
/// (none when nothing needs one).
fn port(spec: &RunSpec, workload: &Workload) -> Result<Option<u16>, ProbeError> {
    if let Some(p) = workload.port {
        return Ok(Some(p));
    }
    match spec.ports.as_slice() {
        [one] => Ok(Some(*one)),
        [] if !workload.http_get.is_empty() => Err(ProbeError::NoPort {
            image: spec.image.clone(),
        }),
        [] => Ok(None),
        many if !workload.http_get.is_empty() || !workload.is_server() => {
            Err(ProbeError::WhichPort {
                image: spec.image.clone(),
                exposed: many.len(),
            })
        }
        _ => Ok(None),
    }
}

/// `--platform` for an image of another architecture, when this machine
/// can run it (qemu registered with binfmt_misc); an error when it cannot.
fn check_arch(spec: &RunSpec) -> Result<Option<String>, ProbeError> {
    let host = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    if spec.arch.is_empty() || spec.arch == host {
        return Ok(None);
    }
    let qemu = match spec.arch.as_str() {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "386" => "i386",
        other => other,
    };
    if std::path::Path::new(&format!("/proc/sys/fs/binfmt_misc/qemu-{qemu}")).exists() {
        Ok(Some(format!("linux/{}", spec.arch)))
    } else {
        Err(ProbeError::ForeignArch {
            image: spec.image.clone(),
            arch: spec.arch.clone(),
        })
    }
}
