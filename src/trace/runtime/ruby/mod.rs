//! Ruby: the load path compiled into ruby or libruby (standard library,
//! vendor and site directories, their architecture-specific extension
//! directories), RUBYLIB and `-I`, the gem directories (GEM_HOME, GEM_PATH,
//! BUNDLE_PATH, and those of the image's RubyGems: `…/gems/VER` and
//! `rubygems-integration/` directories holding `specifications/`), and the
//! script's directory with its Gemfile. Of these, what the script may
//! require ([`closure`]); with `--no-import-graph` all of them, minus gem
//! documentation and the cached `.gem` archives. Extensions are traced as ELF.

mod closure;
mod encodings;
mod scan;

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::{attached_or_next, keep_script, Invocation, Runtime};
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
        let mut requires: Vec<String> = Vec::new();
        let mut code: Vec<String> = Vec::new();
        let rubyopt = t.run().env_var("RUBYOPT").unwrap_or("").to_string();
        let mut no_gems = rubyopt.contains("disable-gems") || rubyopt.contains("disable=gems");
        requires.extend(
            rubyopt
                .split_whitespace()
                .filter_map(|w| w.strip_prefix("-r"))
                .filter(|r| !r.is_empty())
                .map(str::to_string),
        );
        let mut args = inv.argv.iter().skip(1);
        while let Some(a) = args.next() {
            if let Some(dir) = a.strip_prefix("-I") {
                let dir = attached_or_next(dir, &mut args);
                dirs.push(t.absolute(&dir));
            } else if let Some(lib) = a.strip_prefix("-r") {
                requires.push(attached_or_next(lib, &mut args));
            } else if a == "-e" {
                code.extend(args.next().cloned());
            } else if a == "-C" {
                args.next();
            } else if a.starts_with("--disable-gems") || a.starts_with("--disable=gems") {
                no_gems = true;
            } else if a == "--" {
                script = args.next().cloned();
                break;
            } else if !a.starts_with('-') {
                script = Some(a.clone());
                break;
            }
        }
        let mut roots: Vec<(String, ImagePath)> =
            code.into_iter().map(|c| (c, real.clone())).collect();
        if let Some((r, text)) = script
            .as_deref()
            .and_then(|s| keep_script(t, inv, s, real, "Ruby"))
        {
            roots.extend(text.map(|text| (text, r)));
        }
        let mut gem_dirs: Vec<String> = Vec::new();
        if let Some(v) = t.run().env_var("RUBYLIB") {
            dirs.extend(v.split(':').filter(|d| !d.is_empty()).map(str::to_string));
        }
        for var in ["GEM_HOME", "GEM_PATH", "BUNDLE_PATH", "BUNDLE_APP_CONFIG"] {
            if let Some(v) = t.run().env_var(var) {
                gem_dirs.extend(v.split(':').filter(|d| !d.is_empty()).map(str::to_string));
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
        let dirs = self.existing(t, dirs);
        let mut gems = self.existing(t, gem_dirs);
        gems.extend(gem_directories(t, &dirs));
        gems.dedup();
        if !t.opts().import_graph {
            let why = Reason::runtime("Ruby library path of", real);
            for r in dirs.iter().chain(&gems) {
                if !self.dirs.borrow_mut().insert(r.clone()) {
                    continue;
                }
                t.keep_tree_where(r, &why, &|p| {
                    let base = p.file_name();
                    p.as_str().ends_with(".gem")
                        || ((base == "doc" || base == "ri") && !p.as_str().contains("/gems/"))
                });
            }
            return;
        }
        // RubyGems reads every specification, and for a gem with
        // extensions checks that they were built (`gem.build_complete`).
        let why = Reason::runtime("gem specifications RubyGems reads for", real);
        for g in &gems {
            t.keep_tree_where(&g.join("specifications"), &why, &|_| false);
            let built: Vec<ImagePath> = t
                .fs()
                .descendants(&g.join("extensions"))
                .filter(|(p, _)| p.file_name() == "gem.build_complete")
                .map(|(p, _)| p.clone())
                .collect();
            for b in built {
                t.keep(&b, why.clone());
            }
        }
        let path = closure::LoadPath::new(t, dirs, &gems);
        closure::keep_closure(t, &path, roots, &requires, no_gems, real);
    }
}

impl Ruby {
    /// The real directories of `dirs` that exist, with the links on the way kept.
    fn existing(&self, t: &mut Tracer, dirs: Vec<String>) -> Vec<ImagePath> {
        let mut out: Vec<ImagePath> = Vec::new();
        for d in dirs {
            let Some(r) = t.real(&d) else { continue };
            if t.is_dir(&r) && !out.contains(&r) {
                t.keep_links(&d);
                out.push(r);
            }
        }
        out
    }
}

/// The gem directories RubyGems searches: for a standard library
/// `PREFIX/ruby/VER` (or its vendor and site siblings), the image's
/// `…/gems/VER` and `…/rubygems-integration/{VER,all}` directories that hold
/// `specifications/` (RubyGems' default directory, Debian's and the user's).
fn gem_directories(t: &Tracer, dirs: &[ImagePath]) -> Vec<ImagePath> {
    let versions: BTreeSet<&str> = dirs
        .iter()
        .map(|d| d.file_name())
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()) && v.contains('.'))
        .collect();
    let mut out = Vec::new();
    for (p, n) in t.fs().descendants(&ImagePath::root()) {
        if !n.is_dir() || p.file_name() != "specifications" {
            continue;
        }
        let gem_dir = p.parent();
        let (ver, parent) = (gem_dir.file_name(), gem_dir.parent());
        let known = versions.contains(ver) || ver == "all";
        let under = parent.file_name() == "gems"
            || parent.file_name() == "rubygems-integration"
            || parent.as_str().ends_with("share/gem/ruby")
            || parent.as_str().ends_with(".gem/ruby");
        if known && under && !out.contains(&gem_dir) {
            out.push(gem_dir);
        }
    }
    out
}
