//! Ruby: the load path compiled into ruby or libruby (standard library,
//! vendor and site directories, their architecture-specific extension
//! directories), the gem directories (the ones compiled in, GEM_HOME,
//! GEM_PATH, BUNDLE_PATH), RUBYLIB and `-I`, and the script's directory with
//! its Gemfile. Kept whole, minus gem documentation and the cached `.gem`
//! archives; extensions are traced as ELF.

use super::{absolute_literals, attached_or_next, parent, Invocation, Tracer};
use crate::keep::Reason;

impl Tracer<'_> {
    pub(super) fn ruby(&mut self, inv: &Invocation, real: &str) {
        let mut dirs: Vec<String> = Vec::new();
        let mut script = None;
        let mut args = inv.argv.iter().skip(1);
        while let Some(a) = args.next() {
            if let Some(dir) = a.strip_prefix("-I") {
                let dir = attached_or_next(dir, &mut args);
                dirs.push(self.absolute(&dir));
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
            let abs = self.absolute(s);
            match self.real(&abs) {
                Some(r) => {
                    self.keep.insert(&r, Reason::runtime("script run by", real));
                    if let Some(text) = self.read_text(&abs) {
                        self.keep_named_paths(absolute_literals(&text), &r);
                    }
                    self.keep_app_dir(
                        parent(&r),
                        &Reason::runtime("Ruby application run by", real),
                        &|_| false,
                    );
                }
                None => self.warnings.push(format!(
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
            if let Some(v) = self.run.env_var(var) {
                dirs.extend(v.split(':').filter(|d| !d.is_empty()).map(str::to_string));
            }
        }
        // Directories naming ruby compiled into the interpreter or libruby.
        let compiled = self.compiled_paths(real, "libruby");
        dirs.extend(compiled.into_iter().map(|(_, p)| p).filter(|p| {
            (p.contains("/ruby") || p.contains("/gems") || p.contains("rubygems"))
                && !p.contains('%')
        }));
        let why = Reason::runtime("Ruby library path of", real);
        for d in dirs {
            let Some(r) = self.real(&d) else { continue };
            self.keep_links(&d);
            if !self.is_dir(&r) || !self.done.insert(format!("ruby dir {r}")) {
                continue;
            }
            self.keep_tree_where(&r, &why, &|p| {
                let base = p.rsplit('/').next().unwrap_or(p);
                p.ends_with(".gem") || ((base == "doc" || base == "ri") && !p.contains("/gems/"))
            });
        }
    }
}
