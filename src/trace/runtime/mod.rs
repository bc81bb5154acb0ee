//! What interpreters load that the ELF tracer cannot see: a Python program's
//! standard library and imports, a Node.js app's production dependencies, a
//! JRE's modules and dlopen'd libraries, Perl's and Ruby's library paths, and
//! the programs a shell script runs.
//!
//! Each runtime is recognised by the name of the program a command runs (the
//! name as invoked, then the file it resolves to), and decides its keep set
//! from evidence in the image: the interpreter's location, its arguments, the
//! image's Env, and the files the app itself declares (package.json,
//! pyvenv.cfg, dist-info RECORD, a jar's manifest).

mod java;
mod node;
mod perl;
mod python;
mod ruby;
mod shell;
mod shell_syntax;

use super::elf::ElfInfo;
use super::image::{c_strings, is_system_dir, rel, Tracer};
use super::ldso::read_file;
use super::roots::{is_shell, resolve_program};
use crate::keep::Reason;
use crate::rootfs::NodeKind;

/// A program run with arguments: by the image config, a script's `#!` line,
/// or a command inside a shell script.
pub(super) struct Invocation<'a> {
    /// The program's absolute image path as invoked (before symlinks: a
    /// virtualenv's `bin/python` matters even though it links elsewhere).
    pub program: &'a str,
    /// The whole command line, `argv[0]` first.
    pub argv: &'a [String],
    /// What runs it, for reasons and warnings: `entrypoint`, `the script /x.sh`.
    pub what: &'a str,
}

/// How many programs may run each other (script → interpreter → script ...).
const MAX_INVOCATION_DEPTH: usize = 32;

/// The runtimes slimify knows, and the launchers that only run another program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runtime {
    Shell,
    Python,
    Node,
    Java,
    Perl,
    Ruby,
    /// `env`, `tini`, `dumb-init`, `gosu`, ...: the command after their own options.
    Launcher,
}

fn runtime_of_name(base: &str) -> Option<Runtime> {
    let versioned = |stem: &str| {
        base.strip_prefix(stem)
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    if is_shell(base) {
        Some(Runtime::Shell)
    } else if versioned("python") || versioned("pypy") {
        Some(Runtime::Python)
    } else if base == "node" || base == "nodejs" {
        Some(Runtime::Node)
    } else if base == "java" {
        Some(Runtime::Java)
    } else if versioned("perl") {
        Some(Runtime::Perl)
    } else if versioned("ruby") {
        Some(Runtime::Ruby)
    } else if LAUNCHERS.iter().any(|(name, _)| *name == base) {
        Some(Runtime::Launcher)
    } else {
        None
    }
}

/// Launchers and the options of theirs that take a value.
const LAUNCHERS: &[(&str, &[&str])] = &[
    ("env", &["-u", "--unset", "-C", "--chdir"]),
    ("tini", &["-p", "-e"]),
    ("tini-static", &["-p", "-e"]),
    ("dumb-init", &["-r", "--rewrite"]),
    ("nohup", &[]),
    ("nice", &["-n", "--adjustment"]),
    ("setpriv", &[]),
    ("chroot", &[]),
    // These two take the user to run as before the command.
    ("gosu", &[]),
    ("su-exec", &[]),
];

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Tracer<'_> {
    /// Trace what the runtime behind `inv.program` will load for this command line.
    pub(super) fn invoked(&mut self, inv: &Invocation) {
        let key = format!("{}\0{}", inv.program, inv.argv.join("\0"));
        if !self.done.insert(key) {
            return;
        }
        // Scripts that run scripts that run scripts...: real ones nest a few
        // levels; a crafted chain must not exhaust the stack.
        if self.depth >= MAX_INVOCATION_DEPTH {
            self.warnings.push(format!(
                "{}: programs nested deeper than {MAX_INVOCATION_DEPTH} runs; not followed further",
                inv.what
            ));
            return;
        }
        self.depth += 1;
        self.dispatch(inv);
        self.depth -= 1;
    }

    fn dispatch(&mut self, inv: &Invocation) {
        let real = match self.fs.lookup(rel(inv.program), true) {
            Ok(Some(real)) => real,
            _ => return,
        };
        let runtime =
            runtime_of_name(basename(inv.program)).or_else(|| runtime_of_name(basename(&real)));
        match runtime {
            Some(Runtime::Shell) => self.shell(inv, &real),
            Some(Runtime::Python) => self.python(inv, &real),
            Some(Runtime::Node) => self.node(inv, &real),
            Some(Runtime::Java) => self.java(inv, &real),
            Some(Runtime::Perl) => self.perl(inv, &real),
            Some(Runtime::Ruby) => self.ruby(inv, &real),
            Some(Runtime::Launcher) => self.launcher(inv),
            None => {}
        }
    }

    /// `env FOO=1 python3 app.py`, `tini -- node server.js`, `gosu app cmd`:
    /// trace the command the launcher runs.
    fn launcher(&mut self, inv: &Invocation) {
        let name = basename(inv.program);
        let takes_value = LAUNCHERS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, v)| *v);
        let mut rest = inv.argv.iter().skip(1).peekable();
        while let Some(a) = rest.peek() {
            if *a == "--" {
                rest.next();
                break;
            }
            if a.starts_with('-') || (name == "env" && a.contains('=')) {
                let with_value = takes_value.contains(&a.as_str());
                rest.next();
                if with_value {
                    rest.next();
                }
                continue;
            }
            break;
        }
        if name == "gosu" || name == "su-exec" {
            rest.next();
        }
        let argv: Vec<String> = rest.cloned().collect();
        let Some(cmd) = argv.first() else { return };
        match resolve_program(self.fs, &self.run, cmd) {
            Some(p) => {
                self.program(
                    &p,
                    Reason::runtime(format!("run by {name}, started by"), rel(inv.program)),
                );
                self.invoked(&Invocation {
                    program: &p,
                    argv: &argv,
                    what: inv.what,
                });
            }
            None => self.warnings.push(format!(
                "{}: {cmd:?} (run by {name}) is not an executable file in the image",
                inv.what
            )),
        }
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

    /// The real (symlink-free) image path of `abs`, if it exists.
    pub(super) fn real(&self, abs: &str) -> Option<String> {
        self.fs.lookup(rel(abs), true).ok().flatten()
    }

    /// Keep the symlinks on the way from `abs` to what it resolves to (a
    /// runtime searches `/usr/share/perl/5.36`, a link to `5.36.0`).
    pub(super) fn keep_links(&mut self, abs: &str) {
        if let Some(real) = self.real(abs) {
            for l in self.loader.links_to(rel(abs)) {
                self.keep.insert(&l, Reason::LinkTo(real.clone()));
            }
        }
    }

    pub(super) fn is_dir(&self, real: &str) -> bool {
        self.fs.get(real).map(|n| &n.kind) == Some(&NodeKind::Dir)
    }

    pub(super) fn is_file(&self, real: &str) -> bool {
        matches!(
            self.fs.get(real).map(|n| &n.kind),
            Some(NodeKind::File { .. })
        )
    }

    /// Names of the entries directly inside the directory `real`.
    pub(super) fn children(&self, real: &str) -> Vec<String> {
        let prefix = if real.is_empty() {
            String::new()
        } else {
            format!("{real}/")
        };
        self.fs
            .descendants(real)
            .filter_map(|(p, _)| {
                let name = p.strip_prefix(&prefix)?;
                (!name.contains('/')).then(|| name.to_string())
            })
            .collect()
    }

    /// Keep an app's own directory (the one holding its entry script), unless
    /// it is a system-wide one such as /usr/bin, where only the script is kept.
    /// `skip` rejects subtrees the runtime selects itself (node_modules).
    pub(super) fn keep_app_dir(
        &mut self,
        dir_real: &str,
        why: &Reason,
        skip: &dyn Fn(&str) -> bool,
    ) -> bool {
        if dir_real.is_empty() || is_system_dir(&format!("/{dir_real}")) || !self.is_dir(dir_real) {
            return false;
        }
        self.keep_tree_where(dir_real, why, skip);
        true
    }

    /// Absolute paths compiled into an interpreter (`real`) or the library of
    /// its own it links (`lib_prefix*`: libperl, libruby, libnode), as
    /// `(object, path)`: where a runtime keeps its library directories.
    pub(super) fn compiled_paths(&self, real: &str, lib_prefix: &str) -> Vec<(String, String)> {
        let mut objects = vec![real.to_string()];
        if let Some((_, bytes)) = read_file(self.fs, real) {
            if let Ok(Some(info)) = ElfInfo::parse(&bytes) {
                for n in info.needed.iter().filter(|n| n.starts_with(lib_prefix)) {
                    objects.extend(self.loader.find_library(n, &info));
                }
            }
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for o in objects {
            let Some((o_real, bytes)) = read_file(self.fs, &o) else {
                continue;
            };
            for s in c_strings(&bytes, b"/") {
                if !s.contains("/debug/") && !out.iter().any(|(_, p)| *p == s) {
                    out.push((o_real.clone(), s));
                }
            }
        }
        out
    }

    /// Absolute paths an app's own code names as string literals
    /// (`open("/data/seed.json")`, `F = "/opt/features"`) or a script passes
    /// as arguments: kept when they exist and are not system-wide
    /// directories; an executable among them is traced as a program.
    pub(super) fn keep_named_paths<'t>(
        &mut self,
        words: impl Iterator<Item = &'t str>,
        named_in: &str,
    ) {
        /// Top-level hierarchies that say nothing about what an app needs.
        const HIERARCHIES: &[&str] = &[
            "/", "/etc", "/usr", "/var", "/opt", "/home", "/root", "/srv", "/mnt", "/media",
            "/boot",
        ];
        for word in words {
            let path = word.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            if !path.starts_with('/')
                || path.contains(['$', '{', '%', '*', '\\'])
                || HIERARCHIES.contains(&path)
                || is_system_dir(path)
            {
                continue;
            }
            let Some(real) = self.real(path) else {
                continue;
            };
            if self.keep.contains(&real) {
                continue;
            }
            let why = Reason::runtime("named in", rel(named_in));
            let executable = self.fs.get(&real).is_some_and(|n| {
                matches!(n.kind, NodeKind::File { .. }) && n.meta.mode & 0o111 != 0
            });
            if executable {
                self.program(path, why);
            } else if self.fs.descendants(&real).count() <= super::image::MAX_NAMED_TREE {
                self.keep_links(path);
                self.keep_tree_where(&real, &why, &|_| false);
            }
        }
    }

    /// Read a text file of the image (`None` for binaries, missing files and files over 16 MiB).
    pub(super) fn read_text(&self, abs: &str) -> Option<String> {
        let real = self.real(abs)?;
        match self.fs.get(&real)?.kind {
            NodeKind::File { size, .. } if size <= 16 << 20 => {}
            _ => return None,
        }
        let (_, bytes) = read_file(self.fs, &real)?;
        String::from_utf8(bytes).ok()
    }
}

/// String literals in source code that start with `/`: the paths a program names.
pub(super) fn absolute_literals(source: &str) -> impl Iterator<Item = &str> {
    source
        .split(['"', '\'', '`'])
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with('/') && s.len() < 256 && !s.contains('\n'))
}

/// The value of a one-letter option written `-Ivalue` or `-I value`.
pub(super) fn attached_or_next<'a>(
    attached: &str,
    rest: &mut impl Iterator<Item = &'a String>,
) -> String {
    if attached.is_empty() {
        rest.next().cloned().unwrap_or_default()
    } else {
        attached.to_string()
    }
}

/// The parent directory of an image-relative path (`""` for top-level names).
pub(super) fn parent(rel_path: &str) -> &str {
    rel_path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// `a/b` joined as image-relative paths.
pub(super) fn join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.strip_prefix('/')) {
        (_, Some(abs)) => abs.to_string(),
        (true, None) => name.to_string(),
        (false, None) => format!("{dir}/{name}"),
    }
}

#[cfg(test)]
mod tests;
