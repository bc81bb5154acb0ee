//! The require closure: the files the script may load, found as Ruby finds
//! them (the load path in order, `NAME.rb` then `NAME.so`; then, as
//! RubyGems does, the `lib` directories of the installed gems), then what
//! each of those may load, until nothing is new.
//!
//! A file inside a gem keeps the whole gem (its files, its specification,
//! its compiled extensions), as a Python distribution is kept: gems load
//! their own files by computed names. Every gem directory keeps its
//! `specifications/` (RubyGems reads them to resolve a require).
//! `enc/` is kept whole when the code may use an encoding ruby does not
//! have built in ([`super::encodings`]).

use std::collections::BTreeSet;

use super::encodings::{data_named, locale_needs, needs_encodings};
use super::scan::ruby_refs;
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::program::is_shared_object;
use crate::trace::tracer::Tracer;

/// What `ruby` loads before the script (gem_prelude.rb) unless
/// `--disable-gems`: RubyGems, and the error printers it sets up.
const PRELUDE: &[&str] = &[
    "rubygems",
    "error_highlight",
    "did_you_mean",
    "syntax_suggest",
];

/// What ruby's C code loads at startup whatever the script says.
const ALWAYS: &[&str] = &["rbconfig", "enc/encdb.so", "enc/trans/transdb.so"];

/// Developer tools that the library and RubyGems require only for
/// themselves (the console, documentation, the `bundle` and `gem`
/// commands with their fetching and installing), and what is below them:
/// kept when the app or its gems require them, not for a require inside
/// the library.
const TOOLS: &[&str] = &[
    "irb",
    "rdoc",
    "bundler",
    "debug",
    "rbs",
    "typeprof",
    // RubyGems' fetching and installing, for the `gem` command.
    "rubygems/spec_fetcher",
    "rubygems/remote_fetcher",
    "rubygems/command_manager",
    "rubygems/commands",
    "rubygems/dependency_installer",
    "rubygems/installer",
    "rubygems/uninstaller",
    "rubygems/request",
    "rubygems/s3_uri_signer",
    "rubygems/source/git",
    // Signing and checking signed gems.
    "rubygems/openssl",
    "rubygems/security",
];

/// One installed gem: `gems/NAME-VER/`, where its code is.
struct Gem {
    dir: ImagePath,
    spec: ImagePath,
    libs: Vec<ImagePath>,
}

/// Where requires are looked for.
pub(super) struct LoadPath {
    dirs: Vec<ImagePath>,
    gems: Vec<Gem>,
}

impl LoadPath {
    /// The load path `dirs`, and the gems of the gem directories `gem_dirs`.
    pub(super) fn new(t: &Tracer, dirs: Vec<ImagePath>, gem_dirs: &[ImagePath]) -> Self {
        let mut gems = Vec::new();
        for g in gem_dirs {
            for name in t.children(&g.join("gems")) {
                let dir = g.join("gems").join(&name);
                let mut libs = vec![dir.join("lib")];
                // Compiled extensions live apart: extensions/PLATFORM/VER/NAME-VER.
                for plat in t.children(&g.join("extensions")) {
                    for ver in t.children(&g.join("extensions").join(&plat)) {
                        let ext = g.join("extensions").join(&plat).join(&ver).join(&name);
                        if t.is_dir(&ext) {
                            libs.push(ext);
                        }
                    }
                }
                let spec = g.join("specifications").join(&format!("{name}.gemspec"));
                gems.push(Gem { dir, spec, libs });
            }
        }
        LoadPath { dirs, gems }
    }

    /// The file `name` loads, and the gem holding it if it is in one.
    fn resolve(&self, t: &Tracer, name: &str) -> Option<(ImagePath, Option<usize>)> {
        let candidates: Vec<String> = if name.ends_with(".rb") || name.ends_with(".so") {
            vec![name.to_string()]
        } else {
            vec![format!("{name}.rb"), format!("{name}.so")]
        };
        for d in &self.dirs {
            for c in &candidates {
                if let Some(r) = t.real(d.join(c).as_str()).filter(|r| t.is_file(r)) {
                    return Some((r, None));
                }
            }
        }
        for (i, gem) in self.gems.iter().enumerate() {
            for lib in &gem.libs {
                for c in &candidates {
                    if let Some(r) = t.real(lib.join(c).as_str()).filter(|r| t.is_file(r)) {
                        return Some((r, Some(i)));
                    }
                }
            }
        }
        None
    }

    /// Every loadable file below `head` (`digest/`) in the load path and the gems.
    fn below(&self, t: &Tracer, head: &str) -> Vec<String> {
        let head = head.trim_end_matches('/');
        let roots = self
            .dirs
            .iter()
            .chain(self.gems.iter().flat_map(|g| g.libs.iter()));
        let mut out = Vec::new();
        for root in roots {
            for (p, n) in t.fs().descendants(&root.join(head)) {
                let code = p.as_str().ends_with(".rb") || p.as_str().ends_with(".so");
                if let (true, true, Some(rel)) = (n.is_file(), code, p.relative_to(root)) {
                    out.push(rel.to_string());
                }
            }
        }
        out
    }
}

/// One thing to load: by load-path name, or a file by its path.
enum Wanted {
    Name(String),
    File(ImagePath),
}

/// Keep what `roots` (sources with the file naming them) may load, with
/// the prelude unless `no_gems`; `ruby` is the interpreter.
pub(super) fn keep_closure(
    t: &mut Tracer,
    path: &LoadPath,
    roots: Vec<(String, ImagePath)>,
    requires: &[String],
    no_gems: bool,
    ruby: &ImagePath,
) {
    let mut queue: Vec<(Wanted, Reason)> = Vec::new();
    let startup = Reason::runtime("loaded at startup by", ruby);
    let prelude = if no_gems { &[][..] } else { PRELUDE };
    for name in ALWAYS
        .iter()
        .chain(prelude)
        .map(|s| s.to_string())
        .chain(requires.iter().cloned())
    {
        queue.push((Wanted::Name(name), startup.clone()));
    }
    // Encodings and transcoders, if some code may use them: the locale's
    // codeset is the default external encoding.
    let mut enc: Option<Reason> = None;
    for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Some(v) = t.run().env_var(var).filter(|v| !v.is_empty()) {
            if locale_needs(v) {
                enc = Some(Reason::runtime(format!("encoding of {var}={v}, for"), ruby));
            }
            break;
        }
    }
    if let Some(opt) = t
        .run()
        .env_var("RUBYOPT")
        .filter(|o| o.contains("-E") || o.contains("-K"))
    {
        enc.get_or_insert(Reason::runtime(
            format!("encoding of RUBYOPT={opt}, for"),
            ruby,
        ));
    }
    for (source, by) in roots {
        follow(&mut queue, t, path, &source, &by, &mut enc);
    }
    let mut seen: BTreeSet<ImagePath> = BTreeSet::new();
    let mut gems_kept: BTreeSet<usize> = BTreeSet::new();
    while let Some((wanted, why)) = queue.pop() {
        let (file, gem) = match wanted {
            Wanted::File(f) => (f, None),
            Wanted::Name(n) => match path.resolve(t, &n) {
                Some(found) => found,
                None => continue, // built in (enumerator.so), or missing (ruby says so)
            },
        };
        if !seen.insert(file.clone()) {
            continue;
        }
        if is_shared_object(&file) {
            t.program(file.as_str(), why);
            // C extensions require Ruby files too (`rb_require("psych/syntax_error")`).
            if let Some((_, bytes)) = t.fs().read(file.as_str()) {
                for name in required_names(&bytes) {
                    if path.resolve(t, &name).is_some() {
                        queue.push((Wanted::Name(name), Reason::NamedIn(file.clone())));
                    }
                }
            }
        } else {
            t.keep(&file, why.clone());
        }
        let mut sources = vec![file.clone()];
        if let Some(g) = gem.filter(|g| gems_kept.insert(*g)) {
            let gem = &path.gems[g];
            let why_gem = Reason::runtime("part of the gem holding", &file);
            t.keep_tree_where(&gem.spec, &why_gem, &|_| false);
            for dir in std::iter::once(&gem.dir).chain(&gem.libs) {
                t.keep_tree_where(dir, &why_gem, &|p| {
                    p.file_name() == "test" || p.file_name() == "spec"
                });
                sources.extend(
                    t.fs()
                        .descendants(dir)
                        .filter(|(p, _)| p.as_str().ends_with(".rb"))
                        .map(|(p, _)| p.clone()),
                );
            }
        }
        for s in sources {
            if let Some(text) = t.read_text(s.as_str()) {
                follow(&mut queue, t, path, &text, &s, &mut enc);
            }
        }
    }
    if let Some(why) = enc {
        for d in &path.dirs {
            t.keep_tree_where(&d.join("enc"), &why, &|_| false);
        }
    }
}

/// Whether the load name `name` (`rubygems/commands/install`) is a tool's.
fn is_tool(name: &str) -> bool {
    TOOLS.iter().any(|t| {
        name == *t
            || name
                .strip_prefix(t)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Words in a C extension's strings that may be require names: `a/b`,
/// lowercase, between NULs.
fn required_names(bytes: &[u8]) -> BTreeSet<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|w| w.len() >= 3 && w.len() <= 100 && w.contains(&b'/'))
        .filter(|w| {
            w.iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_/-".contains(b))
        })
        .filter(|w| !w.starts_with(b"/") && !w.ends_with(b"/"))
        .filter_map(|w| String::from_utf8(w.to_vec()).ok())
        .collect()
}

/// Queue what `source` (the file `by`) may load; note in `enc` why it
/// needs every encoding, if it does.
fn follow(
    queue: &mut Vec<(Wanted, Reason)>,
    t: &Tracer,
    path: &LoadPath,
    source: &str,
    by: &ImagePath,
    enc: &mut Option<Reason>,
) {
    let refs = ruby_refs(source);
    let in_library = path.dirs.iter().any(|d| by.starts_with(d));
    if !in_library && enc.is_none() {
        if let Some(what) = needs_encodings(source) {
            *enc = Some(Reason::runtime(
                format!("encodings and transcoders ({what}) for"),
                by,
            ));
        } else if let Some(r) = refs.requires.iter().find(|r| data_named(r)) {
            let what =
                format!("encodings and transcoders ({r} decodes by a name its input gives) for");
            *enc = Some(Reason::runtime(what, by));
        }
    }
    for r in refs.requires {
        if in_library && is_tool(&r) {
            continue;
        }
        queue.push((Wanted::Name(r), Reason::runtime("required by", by)));
    }
    for r in refs.relative {
        let rel = if r.ends_with(".rb") {
            r.clone()
        } else {
            format!("{r}.rb")
        };
        let file = if rel.starts_with('/') {
            ImagePath::parse(&rel).ok()
        } else {
            t.real(by.parent().join(&rel).as_str())
        };
        // A library file's relative require of a tool is the library's own.
        let tool = |f: &ImagePath| {
            path.dirs.iter().any(|d| {
                f.relative_to(d)
                    .is_some_and(|rel| is_tool(rel.trim_end_matches(".rb")))
            })
        };
        if let Some(f) = file.filter(|f| !(in_library && tool(f))) {
            queue.push((Wanted::File(f), Reason::runtime("required by", by)));
        }
    }
    if !refs.computed {
        return;
    }
    // A name computed at run time: the strings that resolve (in the app
    // and the gems: the library's own computed requires are of tools,
    // `irb` naming "rdoc", RubyGems' configuration naming "debug"), and
    // all below the heads it builds on.
    let strings = refs.strings.into_iter().filter(|_| !in_library);
    for s in strings {
        if path.resolve(t, &s).is_some() {
            let why = Reason::runtime(format!("named as \"{s}\" in"), by);
            queue.push((Wanted::Name(s), why));
        }
    }
    for head in refs.heads {
        let why = Reason::runtime(format!("required by a name built from \"{head}\" in"), by);
        for rel in path.below(t, &head) {
            queue.push((Wanted::Name(rel), why.clone()));
        }
    }
}
