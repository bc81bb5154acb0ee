//! One image's trace: the state every evidence rule shares, and the methods
//! runtimes use to add to it. Fields are private to this file: a runtime
//! keeps paths, traces programs and warns through methods, so adding a
//! runtime cannot reach into another's state.

use std::collections::BTreeSet;

use serde_json::Value;

use super::elf::ElfInfo;
use super::ldso::Loader;
use super::roots::{self, Command, RunConfig};
use super::runtime::{Invocation, Runtime};
use super::{TraceError, TraceOptions, Traced};
use crate::image_path::ImagePath;
use crate::keep::{KeepGlobs, KeepSet, Reason};
use crate::rootfs::RootFs;
use crate::source::ImageConfig;

/// How many programs may run each other (script → interpreter → script ...).
const MAX_INVOCATION_DEPTH: usize = 32;

/// What the ELF trace has seen so far: later rules decide on it.
#[derive(Default)]
pub(super) struct ElfEvidence {
    /// Real paths of traced ELF programs and libraries.
    pub programs: BTreeSet<ImagePath>,
    /// The first glibc found, as a template for what glibc dlopens.
    pub glibc: Option<ElfInfo>,
    /// libssl or libcrypto is loaded: OpenSSL reads its configuration.
    pub openssl: bool,
    /// Sonames a runtime loads by path before anything needs them by name
    /// (the JVM's libjvm.so): ld.so matches later DT_NEEDED entries to them.
    pub preloaded: BTreeSet<String>,
    /// Programs whose strings the binary evidence has read.
    pub scanned: BTreeSet<ImagePath>,
}

/// What runtimes said about their own programs.
#[derive(Default)]
pub(super) struct RuntimeEvidence {
    /// A runtime says the app uses time zones (Python's `zoneinfo`).
    pub wants_time_zones: bool,
    /// Programs, libraries and trees whose runtime models what they load:
    /// the paths compiled into them are no evidence (a Python interpreter
    /// names its whole standard library and zoneinfo, whatever the app uses).
    pub modeled: Vec<ImagePath>,
}

pub(in crate::trace) struct Tracer<'a> {
    fs: &'a RootFs,
    pub(super) loader: Loader<'a>,
    run: RunConfig,
    opts: &'a TraceOptions,
    keep: KeepSet,
    warnings: Vec<String>,
    pub(super) elf: ElfEvidence,
    pub(super) runtimes_said: RuntimeEvidence,
    /// Command lines already traced: scripts that call each other and
    /// repeated interpreters are done once.
    invoked: BTreeSet<(String, Vec<String>)>,
    /// How deep the current chain of invocations is.
    depth: usize,
    runtimes: &'a [Box<dyn Runtime>],
}

impl<'a> Tracer<'a> {
    pub(super) fn new(
        fs: &'a RootFs,
        run: RunConfig,
        opts: &'a TraceOptions,
        runtimes: &'a [Box<dyn Runtime>],
    ) -> Self {
        Tracer {
            fs,
            loader: Loader::new(fs, &run.env),
            run,
            opts,
            keep: KeepSet::default(),
            warnings: Vec::new(),
            elf: ElfEvidence::default(),
            runtimes_said: RuntimeEvidence::default(),
            invoked: BTreeSet::new(),
            depth: 0,
            runtimes,
        }
    }

    /// The keep set and the warnings, each said once.
    pub(super) fn finish(mut self) -> Traced {
        let mut seen = BTreeSet::new();
        self.warnings.retain(|w| seen.insert(w.clone()));
        Traced {
            keep: self.keep,
            warnings: self.warnings,
            probe: None,
        }
    }

    /// Trace the roots: the config's commands, `--include-exe` and `--include`.
    pub(super) fn roots(&mut self, config: &ImageConfig) -> Result<(), TraceError> {
        let opts = self.opts;
        let mut cmds = roots::commands(config, opts.entrypoint.as_deref(), opts.cmd.as_deref());
        for name in &opts.include_exe {
            cmds.push(Command {
                what: format!("--include-exe {name}"),
                argv: vec![name.clone()],
            });
        }
        if !opts.include.is_empty() {
            let globs = KeepGlobs::new("--include", &opts.include)?;
            let matched: Vec<ImagePath> = self
                .fs
                .iter()
                .filter(|(p, _)| !p.is_root() && globs.is_match(p))
                .map(|(p, _)| p.clone())
                .collect();
            if matched.is_empty() {
                self.warn(format!(
                    "--include {} matches nothing in the image",
                    opts.include.join(" or ")
                ));
            }
            for p in matched {
                let why = Reason::Glob(format!("--include {}", opts.include.join(" or ")));
                if self.is_dir(&p) {
                    self.keep(&p, why);
                } else {
                    self.program(&p.to_string(), why);
                }
            }
        }
        if cmds.is_empty() && opts.include.is_empty() {
            return Err(TraceError::NothingToTrace);
        }
        for c in &cmds {
            self.command(c)?;
        }
        Ok(())
    }

    /// One root command: its program (an error for the entrypoint when it is
    /// not in the image), then what its runtime loads.
    fn command(&mut self, c: &Command) -> Result<(), TraceError> {
        let name = &c.argv[0];
        let Some(prog) = self.resolve_program(name) else {
            // Env values are never printed (they may hold secrets): say how
            // many PATH directories were searched, not which.
            let why = if name.contains('/') {
                "is not an executable file in the image".to_string()
            } else {
                format!(
                    "is not an executable file in any of the {} directories of the image's PATH",
                    self.run.path_dirs().len()
                )
            };
            if c.what == "entrypoint" {
                return Err(TraceError::Entrypoint {
                    name: name.clone(),
                    why,
                });
            }
            self.warn(format!("{} program {name:?} {why}", c.what));
            return Ok(());
        };
        let problem = self.keep_program(
            &prog,
            Reason::Root(format!("{} ({})", c.what, c.argv.join(" "))),
        );
        // A broken entrypoint makes a broken image: say so, unless the user
        // keeps it as it is with --include.
        if let Some(problem) = problem.filter(|_| c.what == "entrypoint") {
            if !self.included(&prog) {
                return Err(TraceError::Entrypoint {
                    name: prog,
                    why: problem.to_string(),
                });
            }
        }
        self.invoke(&Invocation {
            program: &prog,
            argv: &c.argv,
            what: &c.what,
        });
        Ok(())
    }

    /// Trace what the runtime behind `inv.program` loads for this command
    /// line (once per command line, at most [`MAX_INVOCATION_DEPTH`] deep).
    pub(super) fn invoke(&mut self, inv: &Invocation) {
        if !self
            .invoked
            .insert((inv.program.to_string(), inv.argv.to_vec()))
        {
            return;
        }
        // Scripts that run scripts that run scripts...: real ones nest a few
        // levels; a crafted chain must not exhaust the stack.
        if self.depth >= MAX_INVOCATION_DEPTH {
            self.warn(format!(
                "{}: programs nested deeper than {MAX_INVOCATION_DEPTH} runs; not followed further",
                inv.what
            ));
            return;
        }
        let Some(real) = self.real(inv.program) else {
            return;
        };
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        let runtimes = self.runtimes;
        let invoked_name = base(inv.program);
        let runtime = runtimes
            .iter()
            .find(|r| r.runs(&invoked_name))
            .or_else(|| runtimes.iter().find(|r| r.runs(real.file_name())));
        if let Some(rt) = runtime {
            self.depth += 1;
            rt.trace(inv, &real, self);
            self.depth -= 1;
        } else if let Some(mut line) = self.shebang_line(&real) {
            // A script no runtime claims by its name: its interpreter runs
            // it with the command's arguments, as the kernel does (the same
            // run, so no deeper).
            let script = real.to_string();
            line.push(script.clone());
            line.extend(inv.argv.iter().skip(1).cloned());
            let interp = line[0].clone();
            self.invoke(&Invocation {
                program: &interp,
                argv: &line,
                what: &format!("the script {script}"),
            });
        }
        // After the runtime, whose reasons say more (`script run by`).
        self.command_line_evidence(inv);
    }

    /// Whether `--include` names `abs` (or what it resolves to).
    fn included(&self, abs: &str) -> bool {
        let Ok(globs) = KeepGlobs::new("--include", &self.opts.include) else {
            return false;
        };
        let named = ImagePath::parse(abs).ok();
        named
            .iter()
            .chain(self.real(abs).iter())
            .any(|p| globs.is_match(p))
    }

    /// Run `f` as a program started in `working_dir` with `path_first`
    /// before the image's PATH would see the image (npm runs a package's
    /// scripts in the package's directory with `node_modules/.bin` first).
    pub(super) fn in_env(
        &mut self,
        working_dir: &ImagePath,
        path_first: &[String],
        f: impl FnOnce(&mut Self),
    ) {
        let saved = self.run.clone();
        self.run.working_dir = working_dir.to_string();
        if !path_first.is_empty() {
            let path = format!(
                "PATH={}:{}",
                path_first.join(":"),
                saved.path_dirs().join(":")
            );
            self.run.env.retain(|e| !e.starts_with("PATH="));
            self.run.env.push(path);
        }
        f(self);
        self.run = saved;
    }

    // ---- the image as runtimes see it -------------------------------------

    pub(super) fn fs(&self) -> &'a RootFs {
        self.fs
    }

    pub(super) fn run(&self) -> &RunConfig {
        &self.run
    }

    pub(super) fn opts(&self) -> &TraceOptions {
        self.opts
    }

    /// The app uses time zones (Python imported `zoneinfo`): keep the data.
    pub(super) fn uses_time_zones(&mut self) {
        self.runtimes_said.wants_time_zones = true;
    }

    /// `path` (a program, a library or a tree) belongs to a runtime that
    /// models what it loads: the paths compiled into it (its library
    /// directories, zoneinfo) are no evidence of what the app needs.
    pub(super) fn models(&mut self, path: &ImagePath) {
        self.runtimes_said.modeled.push(path.clone());
    }

    pub(super) fn is_modeled(&self, path: &ImagePath) -> bool {
        self.runtimes_said
            .modeled
            .iter()
            .any(|m| path.starts_with(m))
    }

    /// A runtime loads `soname` by path before anything needs it by name
    /// (the JVM's libjvm.so): not finding it by name is no error.
    pub(super) fn preloads(&mut self, soname: &str) {
        self.elf.preloaded.insert(soname.to_string());
    }

    pub(super) fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Keep `path` for `reason` (the first reason a path is kept for wins).
    pub(super) fn keep(&mut self, path: &ImagePath, reason: Reason) {
        self.keep.insert(path, reason);
    }

    /// Every path kept so far.
    pub(super) fn kept_paths(&self) -> BTreeSet<ImagePath> {
        self.keep.paths().cloned().collect()
    }

    pub(super) fn is_kept(&self, path: &ImagePath) -> bool {
        self.keep.contains(path.as_str())
    }

    /// The real (symlink-free) image path of `abs` (absolute, or relative to
    /// the image root), if it exists.
    pub(super) fn real(&self, abs: &str) -> Option<ImagePath> {
        self.fs.lookup(abs, true).ok().flatten()
    }

    /// Keep the symlinks on the way from `abs` to what it resolves to (a
    /// runtime searches `/usr/share/perl/5.36`, a link to `5.36.0`).
    pub(super) fn keep_links(&mut self, abs: &str) {
        if let Ok(Some(r)) = self.fs.resolve(abs, true) {
            for l in r.links {
                self.keep.insert(&l, Reason::LinkTo(r.real.clone()));
            }
        }
    }

    pub(super) fn is_dir(&self, real: &ImagePath) -> bool {
        self.fs.get(real.as_str()).is_some_and(|n| n.is_dir())
    }

    pub(super) fn is_file(&self, real: &ImagePath) -> bool {
        self.fs.get(real.as_str()).is_some_and(|n| n.is_file())
    }

    /// Names of the entries directly inside the directory `real`.
    pub(super) fn children(&self, real: &ImagePath) -> Vec<String> {
        self.fs.children(real)
    }

    /// An absolute image path for `path` as the runtime sees it: relative
    /// paths are taken from WorkingDir.
    pub(super) fn absolute(&self, path: &str) -> String {
        if path.starts_with('/') {
            path.to_string()
        } else {
            let wd = self.run.working_dir.trim_end_matches('/');
            format!("{wd}/{}", path.trim_start_matches("./"))
        }
    }

    /// A program name resolved as execve via the runtime would (PATH, WorkingDir).
    pub(super) fn resolve_program(&self, name: &str) -> Option<String> {
        roots::resolve_program(self.fs, &self.run, name)
    }

    /// A text file of the image (`None` for binaries, missing files and
    /// files over 16 MiB). Text in another encoding than UTF-8 (a Latin-1
    /// POD, a comment in a legacy code page) is read with its invalid bytes
    /// replaced: what the tracers look for (imports, paths) is ASCII, and a
    /// source read as nothing would keep nothing it loads. A NUL byte marks
    /// a binary.
    pub(super) fn read_text(&self, abs: &str) -> Option<String> {
        let real = self.real(abs)?;
        let node = self.fs.get(real.as_str())?;
        if !node.is_file() || node.size() > 16 << 20 {
            return None;
        }
        let (_, bytes) = self.fs.read(real.as_str())?;
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) if e.as_bytes().contains(&0) => None,
            Err(e) => Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }

    pub(super) fn read_json(&self, path: &ImagePath) -> Option<Value> {
        serde_json::from_str(&self.read_text(path.as_str())?).ok()
    }

    /// HOME of the image's user: Env's HOME, else /etc/passwd's entry for
    /// USER (by name or uid), else /root.
    pub(super) fn home_dir(&self) -> ImagePath {
        if let Some(h) = self.run.env_var("HOME") {
            return ImagePath::parse(h).unwrap_or_default();
        }
        let user = self.run.user.split(':').next().unwrap_or("");
        let user = if user.is_empty() { "root" } else { user };
        let passwd = self.read_text("/etc/passwd").unwrap_or_default();
        passwd
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() > 5 && (f[0] == user || f[2] == user))
            .and_then(|f| ImagePath::parse(f[5]).ok())
            .unwrap_or_else(|| ImagePath::root().join("root"))
    }
}

/// An image config for unit tests: `json` plus what every config must have.
#[cfg(test)]
pub(crate) fn test_config(mut json: Value) -> ImageConfig {
    let obj = json.as_object_mut().expect("a JSON object");
    obj.entry("architecture").or_insert("amd64".into());
    obj.entry("os").or_insert("linux".into());
    obj.entry("rootfs")
        .or_insert(serde_json::json!({"type": "layers", "diff_ids": []}));
    ImageConfig::parse(&serde_json::to_vec(&json).unwrap()).expect("a valid test config")
}
