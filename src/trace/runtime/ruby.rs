//! Ruby: the load path compiled into ruby or libruby (standard library,
//! vendor and site directories, their architecture-specific extension
//! directories), the gem directories (the ones compiled in, GEM_HOME,
//! GEM_PATH, BUNDLE_PATH), RUBYLIB and `-I`, and the script's directory with
//! its Gemfile. Kept whole, minus gem documentation and the cached `.gem`
//! archives; extensions are traced as ELF.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::{absolute_literals, attached_or_next, Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

#[derive(Default)]
pub(super) struct Ruby {
    /// Library directories kept already.
    dirs: RefCell<BTreeSet<ImagePath>>,
}

impl Runtime for Ruby {
    fn runs(&self, base: &str) -> bool {
        super::versioned(base, "ruby")
    }

    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        let mut dirs: Vec<String> = Vec::new();
        let mut script = None;
        let mut args = inv.argv.iter().skip(1);
        while let Some(a) = args.next() {
            if let Some(dir) = a.strip_prefix("-I") {
                let dir = attached_or_next(dir, &mut args);
                dirs.push(t.absolute(&dir));
            } else if a == "-e" || a == "-r" || a == "-C" {
                args.next();
            } else if a == "--" {
                script = args.next().cloned();
                break;
            } else if !a.starts_with('-') {
                script = Some(a.clone());
                break;
            }
        }
        if let Some(s) = &script {
            let abs = t.absolute(s);
            match t.real(&abs) {
                Some(r) => {
                    t.keep(&r, Reason::runtime("script run by", real));
                    if let Some(text) = t.read_text(&abs) {
                        t.keep_named_paths(absolute_literals(&text), &r);
                    }
                    t.keep_app_dir(
                        &r.parent(),
                        &Reason::runtime("Ruby application run by", real),
                        &|_| false,
                    );
                }
                None => t.warn(format!(
                    "{}: Ruby script {abs} is not in the image",
                    inv.what
                )),
            }
        }
        for var in [
            "RUBYLIB",
            "GEM_HOME",
            "GEM_PATH",
            "BUNDLE_PATH",
            "BUNDLE_APP_CONFIG",
        ] {
            if let Some(v) = t.run().env_var(var) {
                dirs.extend(v.split(':').filter(|d| !d.is_empty()).map(str::to_string));
            }
        }
        // Directories naming ruby compiled into the interpreter or libruby.
        t.models_runtime(real, "libruby");
        dirs.extend(
            t.compiled_paths(real, "libruby")
                .into_iter()
                .map(|(_, p)| p)
                .filter(|p| {
                    (p.contains("/ruby") || p.contains("/gems") || p.contains("rubygems"))
                        && !p.contains('%')
                }),
        );
        let why = Reason::runtime("Ruby library path of", real);
        for d in dirs {
            let Some(r) = t.real(&d) else { continue };
            t.keep_links(&d);
            if !t.is_dir(&r) || !self.dirs.borrow_mut().insert(r.clone()) {
                continue;
            }
            t.keep_tree_where(&r, &why, &|p| {
                let base = p.file_name();
                p.as_str().ends_with(".gem")
                    || ((base == "doc" || base == "ri") && !p.as_str().contains("/gems/"))
            });
        }
    }
}
