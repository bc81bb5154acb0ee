//! The module closure over @INC: the modules and files the script may
//! load, found the way perl finds them (the first @INC directory holding
//! `A/B.pm`), then what each of those may load, until nothing is new.
//!
//! Kept for a module: its file, and the files of its `auto/A/B/`
//! directory beside it and in the first @INC directory that has one
//! (XSLoader and AutoLoader look beside the module for the XS library
//! `auto/A/B/B.so` and the `*.al` files, DynaLoader by @INC). Encode's
//! tables are kept as the code names encodings ([`super::encodings`]). For a module of a
//! vendor or site directory (not the core library), also its submodule
//! directory `A/B/`: CPAN modules load their plugins by computed names.

use std::collections::BTreeSet;

use super::encodings::{EncodeTables, Needs};
use super::scan::{perl_refs, PerlRefs};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

/// What perl itself loads from its C code whatever the script says: an
/// in-memory filehandle (`open my $fh, '<', \$text`) loads
/// `PerlIO::scalar`, a method call on a bareword filehandle
/// (`STDOUT->autoflush`) `IO::File`, an attribute (`sub f :lvalue`)
/// `attributes`.
const ALWAYS: &[&str] = &["PerlIO::scalar", "IO::File", "attributes"];

/// One thing to load: a module by name, or a file by its @INC path.
enum Wanted {
    Module(String),
    File(String),
}

/// What the sources walked so far need of Encode's tables.
#[derive(Default)]
struct TableNeeds {
    /// Every table, for the first reason found.
    every: Option<Reason>,
    /// Table modules, each for a reason.
    why: Vec<(String, Reason)>,
}

/// Walk the closure from `roots` (what the script and `-e` code name,
/// with the file naming them) through `dirs` (@INC, in order); `core`
/// are the core library's directories. `perl` is the interpreter.
pub(super) fn keep_closure(
    t: &mut Tracer,
    roots: Vec<(String, ImagePath)>,
    dirs: &[ImagePath],
    core: &[ImagePath],
    perl: &ImagePath,
) {
    let tables = EncodeTables::read(t, dirs);
    let mut walk = Walk {
        queue: Vec::new(),
        dirs,
        core,
        tables: tables.as_ref(),
        needs: TableNeeds::default(),
    };
    let why = Reason::runtime("loaded by perl's own code, for", perl);
    walk.queue.extend(
        ALWAYS
            .iter()
            .map(|m| (Wanted::Module(m.to_string()), why.clone())),
    );
    for (source, by) in roots {
        walk.follow(t, &source, &by, false);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut tables_queued: BTreeSet<String> = BTreeSet::new();
    loop {
        walk.drain(t, &mut seen);
        // The tables the walked code may look encodings up in, then what
        // those load.
        let Some(tables) = walk.tables else { break };
        let mut wanted: Vec<(String, Reason)> = std::mem::take(&mut walk.needs.why);
        if let Some(why) = &walk.needs.every {
            wanted.extend(tables.all().map(|m| (m.clone(), why.clone())));
        }
        let mut any = false;
        for (m, why) in wanted {
            if tables_queued.insert(m.clone()) {
                walk.queue.push((Wanted::Module(m), why));
                any = true;
            }
        }
        if !any {
            break;
        }
    }
}

/// One walk of the closure.
struct Walk<'a> {
    queue: Vec<(Wanted, Reason)>,
    dirs: &'a [ImagePath],
    core: &'a [ImagePath],
    tables: Option<&'a EncodeTables>,
    needs: TableNeeds,
}

impl Walk<'_> {
    /// Keep what is queued, and what it may load, until nothing is new.
    fn drain(&mut self, t: &mut Tracer, seen: &mut BTreeSet<String>) {
        let dirs = self.dirs;
        while let Some((wanted, why)) = self.queue.pop() {
            let (rel, module) = match wanted {
                Wanted::Module(m) => (format!("{}.pm", m.replace("::", "/")), Some(m)),
                Wanted::File(f) => {
                    let module = f.strip_suffix(".pm").map(|m| m.replace('/', "::"));
                    (f, module)
                }
            };
            if !seen.insert(rel.clone()) {
                continue;
            }
            // A pragma built into perl, or not installed (perl reports it).
            let Some(dir) = dirs.iter().find(|d| t.is_file(&d.join(&rel))).cloned() else {
                continue;
            };
            let path = dir.join(&rel);
            t.keep_tree_where(&path, &why, &|_| false);
            let in_core = self.core.contains(&dir);
            if let Some(module) = &module {
                keep_auto(t, module, &dir, dirs, &why);
                if !in_core {
                    let subdir = dir.join(rel.trim_end_matches(".pm"));
                    t.keep_tree_where(&subdir, &why, &|_| false);
                }
            }
            if let Some(text) = t.read_text(path.as_str()) {
                self.follow(t, &text, &path, in_core);
            }
        }
    }

    /// Queue what `source` (the file `by`, of the core library when
    /// `in_core`) may load.
    fn follow(&mut self, t: &Tracer, source: &str, by: &ImagePath, in_core: bool) {
        let refs = perl_refs(source);
        for m in refs.all_modules().cloned() {
            let why = Reason::runtime(format!("Perl module {m} used by"), by);
            self.queue.push((Wanted::Module(m), why));
        }
        for f in &refs.files {
            let why = Reason::runtime(format!("Perl file {f} loaded by"), by);
            self.queue.push((Wanted::File(f.clone()), why));
        }
        for prefix in &refs.prefixes {
            let why = Reason::runtime(format!("loaded by a path built from \"{prefix}\" in"), by);
            for d in self.dirs {
                for (p, n) in t.fs().descendants(&d.join(prefix.trim_end_matches('/'))) {
                    let is_code = p.as_str().ends_with(".pm") || p.as_str().ends_with(".pl");
                    let Some(rel) = p.relative_to(d) else {
                        continue;
                    };
                    // Encode's tables load by an encoding's name: see below.
                    let module = rel.strip_suffix(".pm").map(|m| m.replace('/', "::"));
                    if module.is_some_and(|m| self.tables.is_some_and(|tb| tb.is_table(&m))) {
                        continue;
                    }
                    if n.is_file() && is_code {
                        self.queue
                            .push((Wanted::File(rel.to_string()), why.clone()));
                    }
                }
            }
        }
        if let Some(tables) = self.tables {
            for m in refs.modules.iter().filter(|m| EncodeTables::data_named(m)) {
                let why = Reason::runtime(
                    format!("Encode table for an encoding that the input of {m} names, used by"),
                    by,
                );
                self.needs.every.get_or_insert(why);
            }
            // Encode's own modules pass on the names their callers give.
            let own = by.as_str().contains("/Encode/")
                || by.as_str().ends_with("/Encode.pm")
                || by.as_str().contains("/PerlIO/encoding");
            if !(in_core && own) {
                self.encodings(tables, &refs, by, in_core);
            }
        }
    }

    /// Note the tables the encoding names of `refs` need.
    fn encodings(&mut self, tables: &EncodeTables, refs: &PerlRefs, by: &ImagePath, in_core: bool) {
        for name in &refs.encodings.literal {
            match tables.needs(name) {
                Needs::Nothing => {}
                Needs::Table(m) => {
                    let why = Reason::runtime(format!("Encode table for \"{name}\" named in"), by);
                    self.needs.why.push((m.to_string(), why));
                }
                Needs::Every => {
                    let why = Reason::runtime(
                        format!(
                            "Encode table (\"{name}\" is an alias, resolved at run time) named in"
                        ),
                        by,
                    );
                    self.needs.every.get_or_insert(why);
                }
            }
        }
        if !refs.encodings.computed {
            return;
        }
        if in_core {
            for s in &refs.literals {
                if let Some(m) = tables.named(s) {
                    let why = Reason::runtime(
                        format!("Encode table for \"{s}\", a name computed in"),
                        by,
                    );
                    self.needs.why.push((m.to_string(), why));
                }
            }
        } else {
            let why = Reason::runtime("Encode table for an encoding named at run time in", by);
            self.needs.every.get_or_insert(why);
        }
    }
}

/// Keep the files of the module's `auto/A/B/` directory (its
/// subdirectories are submodules'): XSLoader and AutoLoader look beside
/// the module's own file first, DynaLoader in the first @INC directory
/// that has it.
fn keep_auto(t: &mut Tracer, module: &str, own: &ImagePath, dirs: &[ImagePath], why: &Reason) {
    let parts = module.replace("::", "/");
    let first = dirs.iter().find(|d| t.is_dir(&d.join("auto").join(&parts)));
    for d in std::iter::once(own).chain(first) {
        let auto = d.join("auto").join(&parts);
        for name in t.children(&auto) {
            let p = auto.join(&name);
            if !t.is_dir(&p) {
                t.keep_tree_where(&p, why, &|_| false);
            }
        }
    }
}
