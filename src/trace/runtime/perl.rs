//! Perl: the interpreter's @INC (compiled into perl or libperl, plus
//! PERL5LIB, `-I` and `use lib`). The core library directories (those holding
//! strict.pm, warnings.pm or Config.pm) are kept whole but for their pod
//! documentation and XS build headers, since core modules load each other by
//! computed names; from
//! the vendor and site directories only the modules the script's `use` and
//! `require` graph reaches are kept, each with its `auto/` directory (XS
//! libraries, traced as ELF).

use std::collections::BTreeSet;

use super::{absolute_literals, attached_or_next, parent, Invocation, Tracer};
use crate::keep::Reason;
use crate::trace::image::rel;

/// Module names (`JSON::PP`) a Perl source loads with `use` or `require`,
/// including `use parent`/`use base` classes; pragmas are modules too.
pub(super) fn perl_modules(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let is_name = |w: &str| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
            && !w.starts_with(|c: char| c.is_ascii_digit())
    };
    for line in source.lines() {
        if line.starts_with("__END__") || line.starts_with("__DATA__") {
            break;
        }
        let code = line.split('#').next().unwrap_or("");
        for stmt in code.split(';') {
            let mut words = stmt.split_whitespace();
            let Some(kw) = words.next() else { continue };
            if kw != "use" && kw != "require" && kw != "no" {
                continue;
            }
            let Some(name) = words.next() else { continue };
            if !is_name(name) {
                continue;
            }
            out.insert(name.to_string());
            if name == "parent" || name == "base" {
                let rest: String = words.collect::<Vec<_>>().join(" ");
                let inner = rest
                    .trim_start_matches("-norequire,")
                    .replace(['(', ')', '\'', '"', ','], " ");
                let inner = inner
                    .trim_start_matches("qw")
                    .replace(['/', '{', '}', '[', ']'], " ");
                out.extend(
                    inner
                        .split_whitespace()
                        .filter(|w| is_name(w))
                        .map(str::to_string),
                );
            }
        }
    }
    out
}

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

impl Tracer<'_> {
    pub(super) fn perl(&mut self, inv: &Invocation, real: &str) {
        let mut inc: Vec<String> = Vec::new();
        let mut script = None;
        let mut code = Vec::new();
        let mut args = inv.argv.iter().skip(1);
        while let Some(a) = args.next() {
            if let Some(dir) = a.strip_prefix("-I") {
                let dir = attached_or_next(dir, &mut args);
                inc.push(self.absolute(&dir));
            } else if a == "-e" || a == "-E" {
                code.extend(args.next().cloned());
            } else if a == "--" {
                script = args.next().cloned();
                break;
            } else if a.starts_with('-') {
                continue;
            } else {
                if code.is_empty() {
                    script = Some(a.clone());
                }
                break;
            }
        }
        if let Some(p5) = self.run.env_var("PERL5LIB").or(self.run.env_var("PERLLIB")) {
            inc.extend(p5.split(':').filter(|d| !d.is_empty()).map(str::to_string));
        }
        let mut sources: Vec<String> = code;
        let why = Reason::runtime("Perl application run by", real);
        if let Some(s) = &script {
            let abs = self.absolute(s);
            match self.real(&abs) {
                Some(r) => {
                    self.keep.insert(&r, Reason::runtime("script run by", real));
                    if let Some(text) = self.read_text(&abs) {
                        self.keep_named_paths(absolute_literals(&text), &r);
                        sources.push(text);
                    }
                    self.keep_app_dir(parent(&r), &why, &|_| false);
                }
                None => self.warnings.push(format!(
                    "{}: Perl script {abs} is not in the image",
                    inv.what
                )),
            }
        }
        for s in &sources {
            inc.extend(use_lib_dirs(s));
        }
        // The @INC directories compiled into perl (or its libperl).
        let compiled = self.compiled_paths(real, "libperl");
        inc.extend(
            compiled
                .into_iter()
                .map(|(_, p)| p)
                .filter(|p| p.contains("perl")),
        );
        let mut dirs: Vec<String> = Vec::new();
        for d in inc {
            if let Some(r) = self.real(&d) {
                if self.is_dir(&r) && !dirs.contains(&r) {
                    self.keep_links(&d);
                    dirs.push(r);
                }
            }
        }
        let core: Vec<String> = dirs
            .iter()
            .filter(|d| {
                ["strict.pm", "warnings.pm", "Config.pm"]
                    .iter()
                    .any(|m| self.is_file(&format!("{d}/{m}")))
            })
            .cloned()
            .collect();
        if self.done.insert(format!("perl core {}", core.join(":"))) {
            let why_core = Reason::runtime("Perl core library of", real);
            for d in &core {
                // Documentation, and what only XS builds read (CORE/: perl.h,
                // libperl.a): the slim image has no compiler.
                self.keep_tree_where(d, &why_core, &|p| {
                    p.ends_with(".pod")
                        || p.ends_with("/pod")
                        || p.ends_with("/CORE")
                        || p.ends_with(".h")
                });
            }
        }
        // The use/require graph through the non-core directories.
        let mut wanted: Vec<(String, String)> = sources
            .iter()
            .flat_map(|s| perl_modules(s))
            .map(|m| (m, script.clone().unwrap_or_default()))
            .collect();
        let mut seen = BTreeSet::new();
        while let Some((module, by)) = wanted.pop() {
            if !seen.insert(module.clone()) {
                continue;
            }
            let file = format!("{}.pm", module.replace("::", "/"));
            let Some(dir) = dirs
                .iter()
                .find(|d| self.is_file(&format!("{d}/{file}")))
                .cloned()
            else {
                continue; // a pragma built into perl, or not installed (perl reports it)
            };
            if core.contains(&dir) {
                continue;
            }
            let path = format!("{dir}/{file}");
            let reason = Reason::runtime(format!("Perl module {module} used by"), rel(&by));
            self.keep_tree_where(&path, &reason, &|_| false);
            let auto = format!("{dir}/auto/{}", module.replace("::", "/"));
            self.keep_tree_where(&auto, &reason, &|_| false);
            // Submodules loaded by computed names (Foo::Bar's Foo/Bar/*.pm).
            let subdir = path.trim_end_matches(".pm").to_string();
            self.keep_tree_where(&subdir, &reason, &|_| false);
            if let Some(text) = self.read_text(&format!("/{path}")) {
                wanted.extend(perl_modules(&text).into_iter().map(|m| (m, path.clone())));
            }
        }
    }
}
