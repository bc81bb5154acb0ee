//! Perl: the interpreter's @INC (compiled into perl or libperl, plus
//! PERL5LIB, `-I` and `use lib`), and of the modules there those the
//! script may load ([`closure`]). With `--no-import-graph` the core library
//! directories (those holding strict.pm, warnings.pm or Config.pm) are kept
//! whole but for their pod documentation and XS build headers.

mod closure;
mod encodings;
mod scan;

use std::cell::RefCell;
use std::collections::BTreeSet;

#[cfg(test)]
pub(super) use scan::perl_modules;

use super::{attached_or_next, keep_script, Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

/// Directories `use lib` adds (quoted literals only).
fn use_lib_dirs(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in source.lines() {
        let Some(rest) = line.trim_start().strip_prefix("use lib") else {
            continue;
        };
        let rest = rest
            .trim_start_matches("qw")
            .replace(['(', ')', ';', ',', '\'', '"'], " ");
        out.extend(
            rest.split_whitespace()
                .filter(|w| w.starts_with('/'))
                .map(str::to_string),
        );
    }
    out
}

#[derive(Default)]
pub(super) struct Perl {
    /// Sets of core library directories kept already.
    cores: RefCell<BTreeSet<Vec<ImagePath>>>,
}

/// A `perl` command line: `-I` directories, the script, `-e` code.
struct PerlArgs {
    inc: Vec<String>,
    script: Option<String>,
    code: Vec<String>,
}

impl PerlArgs {
    fn parse(argv: &[String], t: &Tracer) -> Self {
        let mut out = PerlArgs {
            inc: Vec::new(),
            script: None,
            code: Vec::new(),
        };
        let mut args = argv.iter().skip(1);
        while let Some(a) = args.next() {
            if let Some(dir) = a.strip_prefix("-I") {
                let dir = attached_or_next(dir, &mut args);
                out.inc.push(t.absolute(&dir));
            } else if a == "-e" || a == "-E" {
                out.code.extend(args.next().cloned());
            } else if a == "--" {
                out.script = args.next().cloned();
                break;
            } else if a.starts_with('-') {
                continue;
            } else {
                if out.code.is_empty() {
                    out.script = Some(a.clone());
                }
                break;
            }
        }
        out
    }
}

impl Runtime for Perl {
    fn runs(&self, base: &str) -> bool {
        super::versioned(base, "perl")
    }

    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        let PerlArgs {
            mut inc,
            script,
            code,
        } = PerlArgs::parse(inv.argv, t);
        if let Some(p5) = t.run().env_var("PERL5LIB").or(t.run().env_var("PERLLIB")) {
            inc.extend(p5.split(':').filter(|d| !d.is_empty()).map(str::to_string));
        }
        let mut sources: Vec<String> = code;
        let mut script_real = None;
        if let Some((r, text)) = script
            .as_deref()
            .and_then(|s| keep_script(t, inv, s, real, "Perl"))
        {
            sources.extend(text);
            script_real = Some(r);
        }
        for s in &sources {
            inc.extend(use_lib_dirs(s));
        }
        // The @INC directories compiled into perl (or its libperl).
        t.models_runtime(real, "libperl");
        inc.extend(
            t.compiled_paths(real, "libperl")
                .into_iter()
                .map(|(_, p)| p)
                .filter(|p| p.contains("perl")),
        );
        let mut dirs: Vec<ImagePath> = Vec::new();
        for d in inc {
            if let Some(r) = t.real(&d) {
                if t.is_dir(&r) && !dirs.contains(&r) {
                    t.keep_links(&d);
                    dirs.push(r);
                }
            }
        }
        let core: Vec<ImagePath> = dirs
            .iter()
            .filter(|d| {
                ["strict.pm", "warnings.pm", "Config.pm"]
                    .iter()
                    .any(|m| t.is_file(&d.join(m)))
            })
            .cloned()
            .collect();
        if !t.opts().import_graph {
            self.keep_core(t, &core, real);
        }
        let by = script_real
            .unwrap_or_else(|| ImagePath::parse(&script.unwrap_or_default()).unwrap_or_default());
        let roots = sources.into_iter().map(|s| (s, by.clone())).collect();
        closure::keep_closure(t, roots, &dirs, &core, real);
    }
}

impl Perl {
    /// The core library directories, whole but for documentation and what
    /// only XS builds read (CORE/: perl.h, libperl.a): the slim image has no
    /// compiler. Once per set of directories.
    fn keep_core(&self, t: &mut Tracer, core: &[ImagePath], real: &ImagePath) {
        if !self.cores.borrow_mut().insert(core.to_vec()) {
            return;
        }
        let why_core = Reason::runtime("Perl core library of", real);
        for d in core {
            t.keep_tree_where(d, &why_core, &|p| {
                let s = p.as_str();
                s.ends_with(".pod")
                    || s.ends_with("/pod")
                    || s.ends_with("/CORE")
                    || s.ends_with(".h")
            });
        }
    }
}
