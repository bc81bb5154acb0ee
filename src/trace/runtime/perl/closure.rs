//! The module closure over @INC: the modules and files the script may
//! load, found the way perl finds them (the first @INC directory holding
//! `A/B.pm`), then what each of those may load, until nothing is new.
//!
//! Kept for a module: its file, and the files of its `auto/A/B/`
//! directory in every @INC directory (XSLoader and DynaLoader find the XS library
//! `auto/A/B/B.so` by @INC, AutoLoader its `*.al` files). For a module of a
//! vendor or site directory (not the core library), also its submodule
//! directory `A/B/`: CPAN modules load their plugins by computed names.

use std::collections::BTreeSet;

use super::scan::perl_refs;
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
    let mut queue: Vec<(Wanted, Reason)> = Vec::new();
    let why = Reason::runtime("loaded by perl's own code, for", perl);
    queue.extend(
        ALWAYS
            .iter()
            .map(|m| (Wanted::Module(m.to_string()), why.clone())),
    );
    for (source, by) in roots {
        follow(&mut queue, t, &source, &by, dirs);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some((wanted, why)) = queue.pop() {
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
        if let Some(module) = &module {
            // `auto/A/B/`'s own files: its subdirectories are submodules'.
            let parts = module.replace("::", "/");
            for d in dirs {
                let auto = d.join("auto").join(&parts);
                for name in t.children(&auto) {
                    let p = auto.join(&name);
                    if !t.is_dir(&p) {
                        t.keep_tree_where(&p, &why, &|_| false);
                    }
                }
            }
            if !core.contains(&dir) {
                let subdir = dir.join(rel.trim_end_matches(".pm"));
                t.keep_tree_where(&subdir, &why, &|_| false);
            }
        }
        if let Some(text) = t.read_text(path.as_str()) {
            follow(&mut queue, t, &text, &path, dirs);
        }
    }
}

/// Queue what `source` (the file `by`) may load.
fn follow(
    queue: &mut Vec<(Wanted, Reason)>,
    t: &Tracer,
    source: &str,
    by: &ImagePath,
    dirs: &[ImagePath],
) {
    let refs = perl_refs(source);
    for m in refs.all_modules().cloned() {
        let why = Reason::runtime(format!("Perl module {m} used by"), by);
        queue.push((Wanted::Module(m), why));
    }
    for f in refs.files {
        let why = Reason::runtime(format!("Perl file {f} loaded by"), by);
        queue.push((Wanted::File(f), why));
    }
    for prefix in refs.prefixes {
        let why = Reason::runtime(format!("loaded by a path built from \"{prefix}\" in"), by);
        for d in dirs {
            for (p, n) in t.fs().descendants(&d.join(prefix.trim_end_matches('/'))) {
                let is_code = p.as_str().ends_with(".pm") || p.as_str().ends_with(".pl");
                if let (true, true, Some(rel)) = (n.is_file(), is_code, p.relative_to(d)) {
                    queue.push((Wanted::File(rel.to_string()), why.clone()));
                }
            }
        }
    }
}
