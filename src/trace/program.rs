//! Keeping a program: an ELF file with everything the loader maps for it,
//! or a script with its `#!` interpreter (itself a program, run with the
//! script as its argument).

use super::runtime::Invocation;
use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

impl Tracer<'_> {
    /// Keep a program (or library) at `abs` and everything it needs.
    pub(in crate::trace) fn program(&mut self, abs: &str, reason: Reason) {
        let Ok(Some(resolved)) = self.fs().resolve(abs, true) else {
            self.warn(format!("{abs} does not exist in the image"));
            return;
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
            }
            Ok(None) => {
                for l in resolved.links {
                    self.keep(&l, Reason::LinkTo(real.clone()));
                }
                self.keep(&real, reason);
                self.shebang(&real);
            }
            Err(e) => {
                for l in resolved.links {
                    self.keep(&l, Reason::LinkTo(real.clone()));
                }
                self.keep(&real, reason);
                self.warn(e.to_string());
            }
        }
    }

    /// A script's `#!` interpreter is a program too (`#!/usr/bin/env NAME` goes through PATH).
    fn shebang(&mut self, script: &ImagePath) {
        let Some((_, bytes)) = self.fs().read(script.as_str()) else {
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
        argv.push(script.to_string());
        self.program(&interp, Reason::Shebang(script.clone()));
        self.invoke(&Invocation {
            program: &interp,
            argv: &argv,
            what: &format!("the script {script}"),
        });
    }

    /// An executable ELF file: kept trees trace these (an app runs its
    /// helpers), but not scripts, whose interpreters only matter when
    /// something runs them.
    pub(in crate::trace) fn is_elf_executable(&self, path: &ImagePath) -> bool {
        let Some(node) = self.fs().get(path.as_str()) else {
            return false;
        };
        if !node.is_executable_file() {
            return false;
        }
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
