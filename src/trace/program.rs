//! Keeping a program: an ELF file with everything the loader maps for it,
//! or a script with its `#!` interpreter (itself a program, run with the
//! script as its argument).

use super::ldso::ElfError;
use super::runtime::Invocation;
use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

/// Why a program cannot be traced (kept as far as it goes, with a warning;
/// an error for the entrypoint).
#[derive(Debug, thiserror::Error)]
pub(in crate::trace) enum Untraceable {
    #[error("is not in the image")]
    Missing,
    #[error("cannot be read as ELF ({0})")]
    Broken(#[source] ElfError),
    #[error("is a script whose interpreter {0} is not in the image")]
    NoInterpreter(String),
}

impl Tracer<'_> {
    /// Keep a program (or library) at `abs` and everything it needs, and for
    /// a script what its interpreter loads running it (without arguments:
    /// a script that some code names, not a command); what kept it from
    /// being traced whole, if anything.
    pub(in crate::trace) fn program(&mut self, abs: &str, reason: Reason) -> Option<Untraceable> {
        let problem = self.keep_program(abs, reason);
        if problem.is_none() {
            if let Some(real) = self.real(abs) {
                if self.shebang_line(&real).is_some() {
                    let script = real.to_string();
                    self.invoke(&Invocation {
                        program: &script,
                        argv: std::slice::from_ref(&script),
                        what: &format!("the script {script}"),
                    });
                }
            }
        }
        problem
    }

    /// Keep a program and what it needs, a script with its `#!`
    /// interpreter, without running it: the caller runs it with its command
    /// line ([`Tracer::invoke`]).
    pub(in crate::trace) fn keep_program(
        &mut self,
        abs: &str,
        reason: Reason,
    ) -> Option<Untraceable> {
        let Ok(Some(resolved)) = self.fs().resolve(abs, true) else {
            self.warn(format!("{abs} does not exist in the image"));
            return Some(Untraceable::Missing);
        };
        let real = resolved.real;
        match self.loader.trace(abs) {
            Ok(Some(trace)) => {
                for (path, why) in trace.needed {
                    let why = why.unwrap_or_else(|| reason.clone());
                    self.keep(&path, why);
                    let base = path.file_name();
                    if base.starts_with("libcrypto.so") || base.starts_with("libssl.so") {
                        self.elf.openssl = true;
                    }
                    if base == "libc.so.6" && self.elf.glibc.is_none() {
                        self.elf.glibc = trace.info.clone();
                    }
                }
                for (soname, of) in trace.missing {
                    if !self.elf.preloaded.contains(&soname) {
                        self.warn(format!("{soname} (needed by {of}) is not in the image"));
                    }
                }
                self.elf.programs.insert(real);
                None
            }
            Ok(None) => {
                for l in resolved.links {
                    self.keep(&l, Reason::LinkTo(real.clone()));
                }
                self.keep(&real, reason);
                self.keep_interpreter(&real)
            }
            Err(e) => {
                for l in resolved.links {
                    self.keep(&l, Reason::LinkTo(real.clone()));
                }
                self.keep(&real, reason);
                self.warn(e.to_string());
                Some(Untraceable::Broken(e))
            }
        }
    }

    /// A script's `#!` line, split into words (the kernel passes the rest of
    /// the line as one argument; `env -S` and most interpreters split it
    /// again, so it is split here).
    pub(in crate::trace) fn shebang_line(&self, script: &ImagePath) -> Option<Vec<String>> {
        let node = self.fs().get(script.as_str())?;
        let mut head = [0u8; 256];
        let mut r = self.fs().open(node)?;
        let n = std::io::Read::read(&mut r, &mut head).ok()?;
        let line = head[..n].strip_prefix(b"#!")?;
        let line = String::from_utf8_lossy(
            &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())],
        )
        .into_owned();
        let argv: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        (!argv.is_empty()).then_some(argv)
    }

    /// A script's `#!` interpreter is a program too (`#!/usr/bin/env NAME`
    /// goes through PATH); a missing one is returned.
    fn keep_interpreter(&mut self, script: &ImagePath) -> Option<Untraceable> {
        let argv = self.shebang_line(script)?;
        let interp = argv[0].clone();
        if self
            .keep_program(&interp, Reason::Shebang(script.clone()))
            .is_some()
        {
            return Some(Untraceable::NoInterpreter(interp));
        }
        // `#!/usr/bin/env python3`: the interpreter is found through PATH.
        if interp.rsplit('/').next() == Some("env") {
            let named = argv[1..]
                .iter()
                .find(|a| !a.starts_with('-') && !a.contains('='));
            if let Some(name) = named {
                if self.resolve_program(name).is_none() {
                    return Some(Untraceable::NoInterpreter(name.clone()));
                }
            }
        }
        None
    }

    /// An executable ELF file: kept trees trace these (an app runs its
    /// helpers), but not scripts, whose interpreters only matter when
    /// something runs them.
    pub(in crate::trace) fn is_elf_executable(&self, path: &ImagePath) -> bool {
        self.fs()
            .get(path.as_str())
            .is_some_and(|n| n.is_executable_file())
            && self.is_elf_file(path)
    }

    /// A regular file that starts with the ELF magic (a program the probe
    /// saw loaded may be mapped without its executable bit: a library).
    pub(in crate::trace) fn is_elf_file(&self, path: &ImagePath) -> bool {
        let Some(node) = self.fs().get(path.as_str()) else {
            return false;
        };
        let mut head = [0u8; 4];
        self.fs().open(node).is_some_and(|mut r| {
            std::io::Read::read_exact(&mut r, &mut head).is_ok() && super::elf::is_elf(&head)
        })
    }
}

/// Whether a file name looks like something a runtime loads with dlopen: a
/// shared library (`libx.so`, `libx.so.1.2`, `mod.cpython-311-x86_64-linux-gnu.so`)
/// or a Node.js native addon.
pub(in crate::trace) fn is_shared_object(path: &ImagePath) -> bool {
    let base = path.file_name();
    base.ends_with(".so") || base.contains(".so.") || base.ends_with(".node")
}
