//! Tracing a whole image: its programs (roots), everything the loader maps for
//! them, what glibc loads at run time (NSS modules, libgcc_s), and the few
//! files every process expects, each kept with the reason that kept it.

use std::collections::BTreeSet;

use serde_json::Value;

use super::ldso::{read_file, Loader, Need};
use super::roots::{commands, resolve_program, Command, RunConfig};
use super::runtime::Invocation;
use crate::error::{Error, Result};
use crate::keep::{KeepSet, Reason};
use crate::layer::Meta;
use crate::rootfs::{NodeKind, RootFs};

/// What the user asked of the tracer.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// `--entrypoint` / `--cmd`: trace the image as if run with these.
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// `--include PATH|GLOB`: more paths to keep; programs and scripts among them are traced.
    pub include: Vec<String>,
    /// `--include-exe NAME`: more programs to trace.
    pub include_exe: Vec<String>,
    /// `--no-certs` turns this off.
    pub certs: bool,
    /// Keep only the third-party Python packages the app's imports reach
    /// (`--no-import-graph` turns this off and keeps every installed package).
    pub import_graph: bool,
}

impl TraceOptions {
    /// The defaults of the command line: certificates and the import graph on.
    pub fn new() -> Self {
        TraceOptions {
            certs: true,
            import_graph: true,
            ..Default::default()
        }
    }
}

/// The state of one image's trace. The runtime tracers (`runtime/`) extend it.
pub(super) struct Tracer<'a> {
    pub(super) fs: &'a RootFs,
    pub(super) loader: Loader<'a>,
    pub(super) run: RunConfig,
    pub(super) opts: TraceOptions,
    pub(super) keep: &'a mut KeepSet,
    pub(super) warnings: Vec<String>,
    /// Real paths of traced ELF programs, for evidence checks (zoneinfo).
    pub(super) programs: BTreeSet<String>,
    glibc: Option<super::elf::ElfInfo>,
    uses_openssl: bool,
    /// A runtime says the app uses time zones (Python's `zoneinfo`).
    pub(super) wants_zoneinfo: bool,
    /// Programs and trees whose runtime decides about time zones itself (a
    /// Python interpreter names zoneinfo whether or not the app uses it).
    pub(super) tz_decided: Vec<String>,
    /// Sonames a runtime loads by path before anything needs them by name
    /// (the JVM's libjvm.so): ld.so matches later DT_NEEDED entries to them.
    pub(super) preloaded: BTreeSet<String>,
    /// Top-level Python modules imported by kept code.
    pub(super) python_imports: BTreeSet<String>,
    /// Invocations and runtime trees already traced, so scripts that call each
    /// other and repeated interpreters are done once.
    pub(super) done: BTreeSet<String>,
    /// How deep the current chain of invocations is.
    pub(super) depth: usize,
}

/// Trace `fs` as configured by `config` into `keep`; returns warnings for the report.
pub fn trace_image(
    fs: &mut RootFs,
    config: &Value,
    opts: &TraceOptions,
    keep: &mut KeepSet,
) -> Result<Vec<String>> {
    // A process may expect a world-writable /tmp even where the image has none.
    fs.ensure_dir(
        "tmp",
        Meta {
            mode: 0o1777,
            ..Meta::implicit_dir()
        },
    );
    let fs: &RootFs = fs;
    let run = RunConfig::from_config(config);
    let mut t = Tracer {
        fs,
        loader: Loader::new(fs, &run.env),
        run,
        opts: opts.clone(),
        keep,
        warnings: Vec::new(),
        programs: BTreeSet::new(),
        glibc: None,
        uses_openssl: false,
        wants_zoneinfo: false,
        tz_decided: Vec::new(),
        python_imports: BTreeSet::new(),
        preloaded: BTreeSet::new(),
        done: BTreeSet::new(),
        depth: 0,
    };
    let mut cmds = commands(config, opts.entrypoint.as_deref(), opts.cmd.as_deref());
    for name in &opts.include_exe {
        cmds.push(Command {
            what: format!("--include-exe {name}"),
            argv: vec![name.clone()],
        });
    }
    if !opts.include.is_empty() {
        let globs = crate::keep::KeepGlobs::new(&opts.include)?;
        let matched: Vec<String> = fs
            .iter()
            .filter(|(p, _)| !p.is_empty() && globs.is_match(&format!("/{p}")))
            .map(|(p, _)| p.clone())
            .collect();
        for p in matched {
            let why = Reason::Glob(format!("--include {}", opts.include.join(" or ")));
            match fs.get(&p).map(|n| &n.kind) {
                Some(NodeKind::Dir) => t.keep.insert(&p, why),
                _ => t.program(&format!("/{p}"), why),
            }
        }
    }
    if cmds.is_empty() && opts.include.is_empty() {
        return Err(Error::Usage(
            "the image has no Entrypoint or Cmd, so there is nothing to trace; name programs with --include-exe or paths with --keep"
                .into(),
        ));
    }
    for c in &cmds {
        t.command(c)?;
    }
    t.java_home_from_env();
    t.runtime_libraries();
    t.essentials(opts.certs);
    t.named_configuration();
    let mut seen = BTreeSet::new();
    t.warnings.retain(|w| seen.insert(w.clone()));
    Ok(t.warnings)
}

pub(super) fn rel(abs: &str) -> &str {
    abs.trim_start_matches('/')
}

impl Tracer<'_> {
    fn command(&mut self, c: &Command) -> Result<()> {
        let name = &c.argv[0];
        let Some(prog) = resolve_program(self.fs, &self.run, name) else {
            // Env values are never printed (they may hold secrets): say how
            // many PATH directories were searched, not which.
            let msg = format!(
                "{} program {name:?} is not an executable file in the image (searched the {} directories of its PATH)",
                c.what,
                self.run.path_dirs().len()
            );
            if c.what == "entrypoint" {
                return Err(Error::image(msg));
            }
            self.warnings.push(msg);
            return Ok(());
        };
        self.program(
            &prog,
            Reason::Root(format!("{} ({})", c.what, c.argv.join(" "))),
        );
        self.invoked(&Invocation {
            program: &prog,
            argv: &c.argv,
            what: &c.what,
        });
        Ok(())
    }

    /// Keep a program (or library) and everything it needs.
    pub(super) fn program(&mut self, abs: &str, reason: Reason) {
        let r = rel(abs);
        let real = match self.fs.lookup(r, true) {
            Ok(Some(real)) => real,
            _ => {
                self.warnings
                    .push(format!("{abs} does not exist in the image"));
                return;
            }
        };
        // An ELF trace records the links on the way itself; other files need them here.
        let keep_links = |t: &mut Self| {
            for l in t.loader.links_to(r) {
                t.keep.insert(&l, Reason::LinkTo(real.clone()));
            }
        };
        match self.loader.trace(r) {
            Ok(Some(trace)) => {
                for (path, need) in &trace.needed {
                    let why = match need {
                        Need::Root => reason.clone(),
                        Need::Interpreter { of } => Reason::Interpreter(of.clone()),
                        Need::Library { soname, of } => Reason::Library {
                            soname: soname.clone(),
                            of: of.clone(),
                        },
                        Need::Link { to } => Reason::LinkTo(to.clone()),
                        Need::Variant { of } => Reason::Variant(of.clone()),
                    };
                    self.keep.insert(path, why);
                    let base = path.rsplit('/').next().unwrap_or(path);
                    if base.starts_with("libcrypto.so") || base.starts_with("libssl.so") {
                        self.uses_openssl = true;
                    }
                    if base == "libc.so.6" && self.glibc.is_none() {
                        self.glibc = trace.info.clone();
                    }
                }
                for (soname, of) in trace.missing {
                    if !self.preloaded.contains(&soname) {
                        self.warnings
                            .push(format!("{soname} (needed by /{of}) is not in the image"));
                    }
                }
                self.programs.insert(real);
            }
            Ok(None) => {
                keep_links(self);
                self.keep.insert(&real, reason);
                self.shebang(&real);
            }
            Err(e) => {
                keep_links(self);
                self.keep.insert(&real, reason);
                self.warnings.push(e);
            }
        }
    }

    /// A script's `#!` interpreter is a program too (`#!/usr/bin/env NAME` goes through PATH).
    fn shebang(&mut self, script: &str) {
        let Some((_, bytes)) = read_file(self.fs, script) else {
            return;
        };
        let Some(line) = bytes.strip_prefix(b"#!") else {
            return;
        };
        let line = String::from_utf8_lossy(
            &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())],
        )
        .into_owned();
        // The kernel passes the rest of the line as one argument; `env -S`
        // and most interpreters split it again, so split it here.
        let mut argv: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let Some(interp) = argv.first().cloned() else {
            return;
        };
        argv.push(format!("/{script}"));
        self.program(&interp, Reason::Shebang(script.to_string()));
        self.invoked(&Invocation {
            program: &interp,
            argv: &argv,
            what: &format!("the script /{script}"),
        });
    }

    /// What glibc loads by name at run time: the NSS modules nsswitch.conf
    /// names, and libgcc_s (pthread_cancel and unwinding dlopen it).
    fn runtime_libraries(&mut self) {
        let Some(libc_user) = self.glibc.clone() else {
            return;
        };
        let mut wanted: Vec<(String, String)> = vec![(
            "libgcc_s.so.1".into(),
            "libgcc_s, which glibc loads for thread cancellation".into(),
        )];
        if let Some((real, bytes)) = read_file(self.fs, "etc/nsswitch.conf") {
            self.keep.insert(
                &real,
                Reason::Essential("name service switch configuration".into()),
            );
            for line in String::from_utf8_lossy(&bytes).lines() {
                let line = line.split('#').next().unwrap_or("");
                let Some((db, services)) = line.split_once(':') else {
                    continue;
                };
                for s in services.split_whitespace().filter(|s| !s.starts_with('[')) {
                    wanted.push((
                        format!("libnss_{s}.so.2"),
                        format!("NSS module for {} (nsswitch.conf)", db.trim()),
                    ));
                }
            }
        }
        for (soname, why) in wanted {
            // Since glibc 2.34 `files` and `dns` live in libc; their stubs may be absent.
            if let Some(path) = self.loader.find_library(&soname, &libc_user) {
                self.program(&path, Reason::Essential(why));
            }
        }
    }

    /// An executable ELF file: kept trees trace these (an app runs its
    /// helpers), but not scripts, whose interpreters only matter when something
    /// runs them.
    fn is_elf_executable(&self, path: &str) -> bool {
        let Some(node) = self.fs.get(path) else {
            return false;
        };
        if node.meta.mode & 0o111 == 0 {
            return false;
        }
        let mut head = [0u8; 4];
        self.fs.open(node).is_some_and(|mut r| {
            std::io::Read::read_exact(&mut r, &mut head).is_ok() && super::elf::is_elf(&head)
        })
    }

    /// Keep a path (a whole tree for a directory) and the targets of its symlinks.
    fn keep_tree(&mut self, path: &str, why: &str) {
        self.keep_tree_where(path, &Reason::Essential(why.to_string()), &|_| false);
    }

    /// Keep a path, and for a directory every path below it that `skip` does
    /// not reject (a rejected directory drops its whole subtree), plus the
    /// targets of kept symlinks. Shared objects and native addons among the
    /// kept files (`.so`, `.so.N`, `.node`) are traced as ELF, since runtimes
    /// load them with dlopen, and so are ELF executables (an app runs its helpers).
    pub(super) fn keep_tree_where(
        &mut self,
        path: &str,
        why: &Reason,
        skip: &dyn Fn(&str) -> bool,
    ) {
        // Directories that kept symlinks lead to wait here rather than in a
        // recursion, so a crafted chain of links cannot exhaust the stack.
        let mut trees = vec![rel(path).to_string()];
        while let Some(tree) = trees.pop() {
            self.keep_one_tree(&tree, why, skip, &mut trees);
        }
    }

    /// One tree of [`Self::keep_tree_where`]; directories its symlinks point to go on `more`.
    fn keep_one_tree(
        &mut self,
        path: &str,
        why: &Reason,
        skip: &dyn Fn(&str) -> bool,
        more: &mut Vec<String>,
    ) {
        let Some(node) = self.fs.get(path) else {
            return;
        };
        let mut paths = vec![path.to_string()];
        if node.kind == NodeKind::Dir {
            let mut skipped: Option<String> = None;
            for (p, _) in self.fs.descendants(path) {
                if let Some(s) = &skipped {
                    if p.starts_with(s.as_str()) {
                        continue;
                    }
                }
                if skip(p) {
                    skipped = Some(format!("{p}/"));
                    continue;
                }
                paths.push(p.clone());
            }
        }
        for p in paths {
            let node = self.fs.get(&p).map(|n| &n.kind);
            if let Some(NodeKind::File { .. }) = node {
                if is_shared_object(&p) || self.is_elf_executable(&p) {
                    self.program(&p, why.clone());
                    continue;
                }
            }
            self.keep.insert(&p, why.clone());
            if let Some(NodeKind::Symlink(_)) = node {
                if let Ok(Some(target)) = self.fs.lookup(&p, true) {
                    for l in self.loader.links_to(&p) {
                        self.keep.insert(&l, Reason::LinkTo(target.clone()));
                    }
                    if self
                        .fs
                        .get(&target)
                        .is_some_and(|n| n.kind != NodeKind::Dir)
                    {
                        if is_shared_object(&target) {
                            self.program(&target, Reason::LinkTo(p.clone()));
                        } else {
                            self.keep.insert(&target, Reason::LinkTo(p.clone()));
                        }
                    } else if !target.is_empty() && !self.keep.contains(&target) {
                        // (A link to `/` keeps no tree: that would be the whole image.)
                        // Marked now, so a directory is queued once.
                        self.keep.insert(&target, why.clone());
                        more.push(target);
                    }
                }
            }
        }
    }

    fn essentials(&mut self, certs: bool) {
        if certs {
            for p in [
                "etc/ssl/certs",
                "etc/ssl/cert.pem",
                "etc/pki/tls/certs",
                "etc/pki/tls/cert.pem",
                "etc/pki/ca-trust/extracted",
            ] {
                self.keep_tree(p, "CA certificates");
            }
        }
        if self.uses_openssl {
            for p in ["usr/lib/ssl", "etc/ssl/openssl.cnf"] {
                self.keep_tree(p, "OpenSSL configuration");
            }
        }
        for (p, why) in [
            ("etc/passwd", "user database"),
            ("etc/group", "group database"),
            ("etc/hosts", "resolver files"),
            ("etc/host.conf", "resolver files"),
            ("etc/gai.conf", "resolver files"),
            ("etc/resolv.conf", "resolver files"),
            ("etc/ld.so.cache", "dynamic loader cache"),
            ("etc/ld.so.conf", "dynamic loader configuration"),
            ("etc/ld.so.conf.d", "dynamic loader configuration"),
            ("tmp", "world-writable temporary directory"),
        ] {
            self.keep_tree(p, why);
        }
        // Docker and Kubernetes (emptyDir aside) copy the image's content at
        // a VOLUME path into a new volume: the app expects to find it there.
        for v in self.run.volumes.clone() {
            let v = v.trim_matches('/');
            if !v.is_empty() {
                self.keep_tree(v, "content of a VOLUME (seeds the volume)");
            }
        }
        let wd = self.run.working_dir.trim_matches('/').to_string();
        if !wd.is_empty() {
            if let Ok(Some(real)) = self.fs.lookup(&wd, true) {
                self.keep
                    .insert(&real, Reason::Essential("WorkingDir".into()));
            }
        }
        self.locales();
        if self.wants_zoneinfo || self.wants_zoneinfo() {
            for p in ["usr/share/zoneinfo", "etc/localtime", "etc/timezone"] {
                self.keep_tree(p, "time zone data (TZ is set or a program names zoneinfo)");
            }
        }
    }

    /// The locale data glibc loads for LANG, LC_ALL and LC_* in Env: the
    /// locale's directory under /usr/lib/locale (`C.UTF-8` is `C.utf8`), or
    /// the locale archive that holds it. Without it a program falls back to
    /// the C locale (perl warns on every start).
    fn locales(&mut self) {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for e in &self.run.env {
            if let Some((k, v)) = e.split_once('=') {
                if (k == "LANG" || k == "LC_ALL" || k.starts_with("LC_"))
                    && !matches!(v, "" | "C" | "POSIX")
                {
                    names.insert(v.to_string());
                }
            }
        }
        for name in names {
            let (lang, rest) = name.split_once('.').unwrap_or((&name, ""));
            let (codeset, modifier) = rest
                .split_once('@')
                .map_or((rest, String::new()), |(c, m)| (c, format!("@{m}")));
            let normal: String = codeset
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            let candidates = [
                name.clone(),
                format!("{lang}.{normal}{modifier}"),
                lang.to_string(),
            ];
            let found = candidates
                .iter()
                .map(|c| format!("usr/lib/locale/{c}"))
                .find(|p| self.fs.get(p).is_some());
            let why = format!("locale data for {name} (named in Env)");
            match found {
                Some(dir) => self.keep_tree(&dir, &why),
                None => self.keep_tree("usr/lib/locale/locale-archive", &why),
            }
        }
    }

    /// Configuration a program names: an absolute `/etc/...` path compiled
    /// into a traced program (nginx's `/etc/nginx/nginx.conf`) keeps that
    /// program's whole `/etc/NAME` directory, since configuration includes its
    /// siblings; then absolute paths written in those files (a web root, an
    /// `include`) are kept too when they exist in the image and are not
    /// system-wide directories.
    fn named_configuration(&mut self) {
        let mut config_dirs = BTreeSet::new();
        for prog in self.programs.clone() {
            let base = prog.rsplit('/').next().unwrap_or(&prog);
            if base.starts_with("lib") || base.starts_with("ld-") {
                continue;
            }
            let Some((_, bytes)) = read_file(self.fs, &prog) else {
                continue;
            };
            for s in c_strings(&bytes, b"/etc/") {
                let Some(top) = s.trim_start_matches('/').split('/').nth(1) else {
                    continue;
                };
                let dir = format!("etc/{top}");
                // Certificates are the essentials' business (and --no-certs').
                if matches!(top, "ssl" | "pki" | "ca-certificates") {
                    continue;
                }
                if top.is_empty() || self.fs.get(&dir).map(|n| &n.kind) != Some(&NodeKind::Dir) {
                    continue;
                }
                if self
                    .fs
                    .lookup(s.trim_start_matches('/'), true)
                    .ok()
                    .flatten()
                    .is_some()
                    && config_dirs.insert(dir.clone())
                {
                    self.keep_tree(&dir, &format!("configuration named by /{prog}"));
                }
            }
        }
        for dir in config_dirs {
            let files: Vec<String> = self
                .fs
                .descendants(&dir)
                .filter(|(_, n)| matches!(n.kind, NodeKind::File { size, .. } if size < 1 << 20))
                .map(|(p, _)| p.clone())
                .collect();
            for f in files {
                let Some((_, bytes)) = read_file(self.fs, &f) else {
                    continue;
                };
                if bytes.contains(&0) {
                    continue; // not text
                }
                for word in String::from_utf8_lossy(&bytes)
                    .split(|c: char| c.is_whitespace() || "\"';=,()".contains(c))
                {
                    let path = word.split('*').next().unwrap_or("").trim_end_matches('/');
                    if !path.starts_with('/')
                        || path.split('/').filter(|c| !c.is_empty()).count() < 2
                        || is_system_dir(path)
                    {
                        continue;
                    }
                    let rel = path.trim_start_matches('/');
                    if let Ok(Some(real)) = self.fs.lookup(rel, true) {
                        if !self.keep.contains(&real)
                            && self.fs.descendants(&real).count() <= MAX_NAMED_TREE
                        {
                            self.keep_tree(rel, &format!("named in /{f}"));
                        }
                    }
                }
            }
        }
    }

    /// Evidence for time zone use: TZ in Env, or a traced program that names
    /// the zoneinfo database (Go's time package embeds the path, as does glibc's
    /// tzset in libc, so only the programs themselves count).
    fn wants_zoneinfo(&self) -> bool {
        if self.run.env_var("TZ").is_some() {
            return true;
        }
        let decided = |p: &str| {
            self.tz_decided.iter().any(|d| {
                p == d
                    || p.strip_prefix(d.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
        };
        self.programs.iter().filter(|p| !decided(p)).any(|p| {
            let base = p.rsplit('/').next().unwrap_or(p);
            !base.starts_with("libc.so")
                && !base.starts_with("ld-")
                && read_file(self.fs, p)
                    .is_some_and(|(_, b)| b.windows(8).any(|w| w == b"zoneinfo"))
        })
    }
}

/// Whether a file name looks like something a runtime loads with dlopen: a
/// shared library (`libx.so`, `libx.so.1.2`, `mod.cpython-311-x86_64-linux-gnu.so`)
/// or a Node.js native addon.
pub(super) fn is_shared_object(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.ends_with(".so") || base.contains(".so.") || base.ends_with(".node")
}

/// A tree named in configuration larger than this is not kept wholesale.
pub(super) const MAX_NAMED_TREE: usize = 20_000;

/// Directories shared by the whole system: naming one in a config file
/// (`/usr/lib`, `/var/lib`) says nothing about what a program needs.
pub(super) fn is_system_dir(path: &str) -> bool {
    const SYSTEM: &[&str] = &[
        "/usr/lib",
        "/usr/lib64",
        "/usr/share",
        "/usr/bin",
        "/usr/sbin",
        "/usr/local",
        "/usr/include",
        "/usr/libexec",
        "/usr/src",
        "/var/lib",
        "/var/cache",
        "/var/log",
        "/var/tmp",
        "/var/run",
        "/var/spool",
        "/etc/ssl",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/local/share",
    ];
    SYSTEM.contains(&path)
        || [
            "/proc", "/sys", "/dev", "/run", "/tmp", "/bin", "/sbin", "/lib", "/lib64",
        ]
        .iter()
        .any(|r| path == *r || path.starts_with(&format!("{r}/")))
}

/// NUL-terminated printable strings in `bytes` starting with `prefix`.
pub(super) fn c_strings<'b>(
    bytes: &'b [u8],
    prefix: &'b [u8],
) -> impl Iterator<Item = String> + 'b {
    bytes
        .windows(prefix.len())
        .enumerate()
        .filter(move |(_, w)| *w == prefix)
        .filter_map(move |(i, _)| {
            if i > 0 && bytes[i - 1] != 0 {
                return None; // inside a longer string
            }
            let end = bytes[i..].iter().position(|&b| b == 0)?;
            let s = &bytes[i..i + end];
            (s.len() < 256 && s.iter().all(|b| b.is_ascii_graphic()))
                .then(|| String::from_utf8_lossy(s).into_owned())
        })
}
