//! The standard library's import closure: of the interpreter's own modules,
//! those that the app's code, the packages it imports and the interpreter's
//! startup may import, found the way the interpreter finds them.
//!
//! A dotted name resolves in the stdlib directory to `a/b/__init__.py` or
//! `a/b.py`, or to an extension module in `lib-dynload`; importing `a.b`
//! first imports `a`. Each module reached is parsed for what it may import
//! (every import statement counts, wherever it is: in a function, under an
//! `if`, in a `try:` whose `except ImportError` falls back), and so on until
//! nothing new is found. Extension modules import too, from C: what they
//! import is read from the names written in their binaries, and for the
//! modules built into the interpreter from [`C_IMPORTS`].
//!
//! Kept for a module: its source (tracebacks print source lines, and the
//! interpreter only uses `__pycache__/*.pyc` beside a source, PEP 3147), its
//! compiled `__pycache__/<name>.cpython-3XY*.pyc` (a start does not
//! recompile it), and for a package its data files.
//!
//! Codecs (`encodings.<name>`) are imported by the name a lookup is given,
//! so the evidence is the names the code passes: literals (`.encode("idna")`,
//! a source's `coding:` cookie) and the codec of the locale keep theirs;
//! a name computed at run time keeps every codec when the app's or a
//! package's code computes it (data may name it: an HTTP charset), or when
//! that code uses a standard module that decodes by a name its input gives
//! ([`DATA_NAMED`]: XML declarations, MIME charsets); a standard module
//! that computes a name keeps the codecs its own strings name (json's
//! `detect_encoding` returns `"utf-16-be"`).

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::AhoCorasick;

use super::codecs::{codec_modules, locale_codec, parse_aliases};
use super::imports::{module_refs, ModuleRefs};
use super::stdlib::{UNUSED_DYNLOAD, UNUSED_STDLIB};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::program::is_shared_object;
use crate::trace::tracer::Tracer;

/// What the interpreter imports before the app's first line, or from its
/// own C code at any time: the path machinery (frozen in 3.11+, but its
/// sources are what `__file__` and tracebacks name), the codecs of the
/// standard streams, `copyreg` (pickling and copying any object), and what
/// printing an uncaught exception or a warning imports (`traceback`, whose
/// printer is the default excepthook from 3.13 on, `warnings`, `linecache`).
const STARTUP: &[&str] = &[
    "abc",
    "codecs",
    "io",
    "os",
    "stat",
    "posixpath",
    "genericpath",
    "_collections_abc",
    "_sitebuiltins",
    "copyreg",
    "encodings",
    "encodings.aliases",
    "encodings.utf_8",
    "encodings.ascii",
    "encodings.latin_1",
    "zipimport",
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "importlib.machinery",
    "importlib.util",
    "runpy",
    "warnings",
    "linecache",
    "traceback",
];

/// What modules of CPython's C code import by name
/// (`PyImport_ImportModule` in Modules/ and Objects/), for the modules that
/// a distribution may build into the interpreter itself (Debian builds
/// most of them in), whose binary names every module of the stdlib
/// (`sys.stdlib_module_names`) and so says nothing of what each imports.
const C_IMPORTS: &[(&str, &[&str])] = &[
    (
        "_pickle",
        &["copyreg", "_compat_pickle", "codecs", "functools"],
    ),
    ("_datetime", &["time", "_strptime"]),
    ("time", &["_strptime"]),
    (
        "_elementtree",
        &["copy", "xml.etree.ElementPath", "pyexpat"],
    ),
    (
        "_decimal",
        &["numbers", "collections", "collections.abc", "contextvars"],
    ),
    ("_json", &["json.decoder"]),
    ("_sqlite3", &["sqlite3.dump", "functools"]),
    (
        "_zoneinfo",
        &["zoneinfo._common", "zoneinfo._tzpath", "weakref"],
    ),
    (
        "_asyncio",
        &[
            "asyncio.events",
            "asyncio.base_futures",
            "asyncio.base_tasks",
            "asyncio.coroutines",
            "asyncio.exceptions",
            "traceback",
            "weakref",
        ],
    ),
    ("_codecs_cn", &["_multibytecodec"]),
    ("_codecs_hk", &["_multibytecodec", "_codecs_tw"]),
    (
        "_codecs_iso2022",
        &["_multibytecodec", "_codecs_cn", "_codecs_jp", "_codecs_kr"],
    ),
    ("_codecs_jp", &["_multibytecodec"]),
    ("_codecs_kr", &["_multibytecodec"]),
    ("_codecs_tw", &["_multibytecodec"]),
    ("array", &["copyreg"]),
];

/// Modules of no use at run time but as jokes and demos: kept only when a
/// statement imports them, as are the parts in `UNUSED_STDLIB` and
/// `UNUSED_DYNLOAD` (tests, IDLE, Tk), never for a name in a string or a
/// binary.
const ONLY_BY_STATEMENT: &[&str] = &["this", "antigravity", "__hello__", "__phello__"];

/// What Rust's standard library leaves in every binary it links.
const RUST_MARKS: &[&[u8]] = &[b"rust_begin_unwind", b"/rustc/", b"rust_panic"];

/// Where a module's code is.
#[derive(Clone, Debug)]
enum Code {
    /// `a/b.py`.
    Source(ImagePath),
    /// `a/b/__init__.py`.
    Package(ImagePath),
    /// `lib-dynload/b.cpython-3XY-….so`.
    Extension(ImagePath),
}

/// The modules of one standard library, by dotted name.
pub(super) struct Stdlib {
    modules: BTreeMap<String, Code>,
    /// `encodings/aliases.py`'s table.
    aliases: BTreeMap<String, String>,
    /// Names found by substring in binaries (four characters or more) and
    /// the short ones, matched only as whole words.
    long_names: Vec<String>,
    long_matcher: Option<AhoCorasick>,
    long_set: BTreeSet<String>,
    short_names: BTreeSet<String>,
    /// `cpython-311`: the tag of the interpreter's `.pyc` files.
    pyc_tag: String,
}

/// Developer tools that the standard library itself imports only for
/// interactive use or its own tests (`help()` imports `pydoc`, the
/// interactive prompt `readline`, a `_test()` imports `doctest`,
/// `multiprocessing` imports `test.support` in a hook of the test suite):
/// kept when the app or its packages import them, not for an import inside
/// the standard library.
const TOOLS: &[&str] = &[
    "pydoc",
    "pydoc_data",
    "doctest",
    "unittest",
    "pdb",
    // Line editing for the interactive prompt (site's interactive hook).
    "readline",
    "rlcompleter",
];

/// Whether the import of `name` by the stdlib's own code is no evidence.
fn tool_for_the_stdlib(name: &str) -> bool {
    let top = name.split('.').next().unwrap_or(name);
    TOOLS.contains(&top) || only_by_statement(name)
}

/// Whether `name` (dotted) is kept only when a statement imports it.
fn only_by_statement(name: &str) -> bool {
    let top = name.split('.').next().unwrap_or(name);
    ONLY_BY_STATEMENT.contains(&top)
        || UNUSED_STDLIB.contains(&top)
        || UNUSED_DYNLOAD.iter().any(|u| top.starts_with(u))
        || name.split('.').any(|c| c == "test" || c == "tests")
}

impl Stdlib {
    /// Index the stdlib directory `dir` of Python `version` (`3.11`).
    pub(super) fn index(t: &Tracer, dir: &ImagePath, version: &str, cpython: bool) -> Stdlib {
        let mut modules = BTreeMap::new();
        for (path, _) in t.fs().descendants(dir) {
            let Some(rel) = path.relative_to(dir) else {
                continue;
            };
            let first = rel.split('/').next().unwrap_or(rel);
            if first == "site-packages" || first == "dist-packages" || first.starts_with("config-")
            {
                continue;
            }
            if let Some(file) = rel.strip_prefix("lib-dynload/") {
                if !file.contains('/') && is_shared_object(path) {
                    let name = file.split('.').next().unwrap_or(file);
                    modules
                        .entry(name.to_string())
                        .or_insert_with(|| Code::Extension(path.clone()));
                }
                continue;
            }
            let Some(stem) = rel.strip_suffix(".py") else {
                continue;
            };
            if stem
                .split('/')
                .any(|c| c == "__pycache__" || c.contains('.'))
            {
                continue;
            }
            if !t.real(path.as_str()).is_some_and(|r| t.is_file(&r)) {
                continue;
            }
            match stem.strip_suffix("/__init__") {
                Some(package) => {
                    modules.insert(package.replace('/', "."), Code::Package(path.clone()));
                }
                None if stem == "__init__" => {}
                None => {
                    // A package shadows a module of the same name.
                    modules
                        .entry(stem.replace('/', "."))
                        .or_insert_with(|| Code::Source(path.clone()));
                }
            }
        }
        let aliases = t
            .read_text(dir.join("encodings/aliases.py").as_str())
            .map(|s| parse_aliases(&s))
            .unwrap_or_default();
        let by_name = modules.keys().filter(|n| !only_by_statement(n));
        let (long_names, short): (Vec<String>, Vec<String>) =
            by_name.cloned().partition(|n| n.len() >= 4);
        let long_matcher = AhoCorasick::new(&long_names).ok();
        let pyc_tag = if cpython {
            format!("cpython-{}", version.replace('.', ""))
        } else {
            String::new()
        };
        Stdlib {
            modules,
            aliases,
            long_set: long_names.iter().cloned().collect(),
            long_names,
            long_matcher,
            short_names: short.into_iter().collect(),
            pyc_tag,
        }
    }

    /// Stdlib modules a binary (an extension module) names. C (Cython,
    /// mypyc, hand-written) ends each string with a NUL, so a name is a
    /// whole word there; Rust packs its strings without separators
    /// (`enumEnumPathuuidUUID`), so in a Rust binary a name of four
    /// characters or more counts wherever it is found.
    fn named_in_binary(&self, bytes: &[u8]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let packed = AhoCorasick::new(RUST_MARKS).is_ok_and(|m| m.is_match(bytes));
        if let Some(m) = self.long_matcher.as_ref().filter(|_| packed) {
            for hit in m.find_overlapping_iter(bytes) {
                out.insert(self.long_names[hit.pattern().as_usize()].clone());
            }
        }
        // Whole words: between characters that cannot be in a dotted name.
        let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.';
        let words = bytes
            .split(|b| !word(b))
            .filter(|w| w.len() >= 2)
            .filter_map(|w| std::str::from_utf8(w).ok())
            .filter(|w| self.short_names.contains(*w) || self.long_set.contains(*w))
            .map(str::to_string);
        out.extend(words);
        out
    }
}

/// Standard modules (and packages) that decode what they are given by a
/// codec name it carries: an XML declaration (`pyexpat` behind `xml.*`,
/// `xmlrpc`, `plistlib`), a MIME charset (`email` and the mail protocols
/// that hand messages to it). Imported by the app's or a package's code,
/// they keep every codec.
const DATA_NAMED: &[&str] = &[
    "xml", "pyexpat", "xmlrpc", "plistlib", "email", "mailbox", "imaplib", "poplib", "smtplib",
    "nntplib", "cgi",
];

/// Whether the module `m` is (or is in) one of [`DATA_NAMED`].
fn data_named(m: &str) -> bool {
    DATA_NAMED
        .iter()
        .any(|d| m == *d || m.strip_prefix(d).is_some_and(|r| r.starts_with('.')))
}

/// One walk of the closure: the names still to import, and those done.
pub(super) struct Closure<'s> {
    stdlib: &'s Stdlib,
    queue: Vec<(String, Reason)>,
    reached: BTreeSet<String>,
    /// Modules some evidence imports: all but the codecs kept only
    /// because data may name them, which keep no compiled form.
    evidence: BTreeSet<String>,
    /// The source files reached, by module name.
    sources: Vec<(String, ImagePath)>,
    /// Whether every codec is kept already.
    every_codec: bool,
}

impl<'s> Closure<'s> {
    pub(super) fn new(stdlib: &'s Stdlib) -> Self {
        Closure {
            stdlib,
            queue: Vec::new(),
            reached: BTreeSet::new(),
            evidence: BTreeSet::new(),
            sources: Vec::new(),
            every_codec: false,
        }
    }

    /// Import `name` (dotted), for `why`.
    pub(super) fn import(&mut self, name: &str, why: Reason) {
        self.evidence.insert(name.to_string());
        self.may_import(name, why);
    }

    /// Keep `name` for a lookup that may happen, though no evidence names it.
    fn may_import(&mut self, name: &str, why: Reason) {
        if !self.reached.contains(name) {
            self.queue.push((name.to_string(), why));
        }
    }

    /// What the interpreter `real` imports before the app (`site` unless
    /// `-S`), and the codec its standard streams use: `(variable, value)`
    /// of LANG and the like (`de_DE.ISO-8859-1`) or PYTHONIOENCODING
    /// (`latin-1:strict`).
    pub(super) fn startup(&mut self, real: &ImagePath, site: bool, codecs: &[(&str, String)]) {
        let why = Reason::runtime("imported at startup by", real);
        let mut names: Vec<&str> = STARTUP.to_vec();
        if site {
            names.extend(["site", "sitecustomize", "usercustomize"]);
        }
        for name in names {
            self.import(name, why.clone());
        }
        for (var, value) in codecs {
            let codec = if *var == "PYTHONIOENCODING" {
                value.split(':').next().unwrap_or(value)
            } else {
                locale_codec(value).unwrap_or("")
            };
            for m in codec_modules(codec, &self.stdlib.aliases) {
                let why = Reason::runtime(format!("codec of {var}={value}, for"), real);
                self.import(&m, why);
            }
        }
    }

    /// Keep every codec, for `why`: a lookup by a name data may give.
    fn every_codec(&mut self, why: impl FnOnce() -> Reason) {
        if self.every_codec {
            return;
        }
        self.every_codec = true;
        let why = why();
        let all: Vec<String> = self
            .stdlib
            .modules
            .keys()
            .filter(|n| n.starts_with("encodings."))
            .cloned()
            .collect();
        for m in all {
            self.may_import(&m, why.clone());
        }
    }

    /// What an extension module of a package names of the standard library.
    pub(super) fn binary(&mut self, t: &Tracer, so: &ImagePath) {
        if let Some((_, bytes)) = t.fs().read(so.as_str()) {
            for m in self.stdlib.named_in_binary(&bytes) {
                self.import(&m, Reason::NamedIn(so.clone()));
            }
        }
    }

    /// Follow what one source (the app's, or a package's) names.
    pub(super) fn follow(&mut self, refs: &ModuleRefs, of: &ImagePath) {
        self.follow_source(refs, of, None);
    }

    /// Follow what a source names; `stdlib` is its module's name when it
    /// is the standard library's own code.
    fn follow_source(&mut self, refs: &ModuleRefs, of: &ImagePath, stdlib: Option<&str>) {
        let in_stdlib = stdlib.is_some();
        // A fallback is imported when what its `try:` imports is missing
        // (or built into the interpreter, which has no file to tell).
        let fallbacks = refs
            .fallbacks
            .iter()
            .filter(|(tried, _)| !tried.iter().all(|m| self.stdlib.modules.contains_key(m)));
        let modules = refs.modules.iter().chain(fallbacks.flat_map(|(_, f)| f));
        for m in modules {
            if !(in_stdlib && tool_for_the_stdlib(m)) {
                self.import(m, Reason::runtime("imported by", of));
            }
            if !in_stdlib && data_named(m) {
                let why = format!(
                    "codec that the input of {m} may name (a charset, an XML declaration), for"
                );
                self.every_codec(|| Reason::runtime(why, of));
            }
        }
        // The codec search function's `"encodings." + name`: the names
        // come from the code's codec lookups, followed below.
        let prefixes = refs
            .prefixes
            .iter()
            .filter(|p| !(in_stdlib && p.as_str() == "encodings."));
        for prefix in prefixes {
            let named: Vec<String> = self
                .stdlib
                .modules
                .range(prefix.clone()..)
                .take_while(|(n, _)| n.starts_with(prefix.as_str()))
                .filter(|(n, _)| !only_by_statement(n))
                .map(|(n, _)| n.clone())
                .collect();
            let why = Reason::runtime(format!("imported by a name built from \"{prefix}\" in"), of);
            // The stdlib's own lookups by built names (the codec search
            // function's `"encodings." + name`) happen for names that data
            // gives: what they may load is kept, not compiled forms.
            for n in named {
                if in_stdlib {
                    self.may_import(&n, why.clone());
                } else {
                    self.import(&n, why.clone());
                }
            }
        }
        // In the standard library's own code only dotted strings name the
        // modules it imports by name (dbm's `"dbm.gnu"`, xml.sax's
        // `"xml.sax.expatreader"`); its plain words are keys (sysconfig's
        // `"venv"` scheme, inspect's `"trace"` event).
        let strings = refs
            .strings
            .iter()
            .filter(|s| refs.imports_by_name && (s.contains('.') || !in_stdlib));
        for s in strings {
            // `"graphlib"` names a module; `"logging.handlers.RotatingFileHandler"`
            // its longest dotted one (`"cmd.exe"` names none).
            let mut name = s.as_str();
            loop {
                let whole = name.len() == s.len();
                if self.stdlib.modules.contains_key(name)
                    && (whole || name.contains('.'))
                    && !only_by_statement(name)
                {
                    self.import(name, Reason::runtime(format!("named as \"{s}\" in"), of));
                    break;
                }
                match name.rsplit_once('.') {
                    Some((head, _)) => name = head,
                    None => break,
                }
            }
        }
        for c in &refs.codecs {
            for m in codec_modules(c, &self.stdlib.aliases) {
                self.import(&m, Reason::runtime(format!("codec \"{c}\" named in"), of));
            }
        }
        // A standard module computing a codec name: the names its own
        // strings give. Not `locale`, `codecs` and `io`, which pass on what
        // their callers and the environment give, nor the modules that
        // decode by a name their input gives: reached only through the
        // standard library, they are given its own files, and imported by
        // the app they keep every codec (above).
        let own_strings = stdlib.is_some_and(|m| {
            !["locale", "codecs", "io", "_pyio", "encodings"].contains(&m) && !data_named(m)
        });
        if refs.codec_by_name && own_strings {
            for s in &refs.short_strings {
                for m in codec_modules(s, &self.stdlib.aliases) {
                    if self.stdlib.modules.contains_key(&m) && !self.reached.contains(&m) {
                        let why = format!("codec \"{s}\", a name the code computes, in");
                        self.import(&m, Reason::runtime(why, of));
                    }
                }
            }
        } else if refs.codec_by_name && !in_stdlib {
            self.every_codec(|| {
                Reason::runtime("codec named at run time (data may name it) in", of)
            });
        }
    }

    /// Walk until nothing new is reached; keep what was. Returns the names
    /// of the modules reached.
    pub(super) fn keep(mut self, t: &mut Tracer) -> BTreeSet<String> {
        while let Some((name, why)) = self.queue.pop() {
            if !self.reached.insert(name.clone()) {
                continue;
            }
            for (by_c, imports) in C_IMPORTS {
                if *by_c == name {
                    for m in imports.iter() {
                        self.import(m, why.clone());
                    }
                }
            }
            let Some(code) = self.stdlib.modules.get(&name).cloned() else {
                continue;
            };
            let file = match &code {
                Code::Source(f) | Code::Package(f) | Code::Extension(f) => f.clone(),
            };
            // Importing `a.b` imports `a` first.
            if let Some((parent, _)) = name.rsplit_once('.') {
                self.import(parent, Reason::runtime("parent package of", &file));
            }
            let is_package = matches!(code, Code::Package(_));
            match code {
                // What CPython's own C modules import is in C_IMPORTS:
                // their strings name methods too (`readline`, `copy`).
                Code::Extension(so) => {
                    t.program(so.as_str(), why);
                }
                Code::Source(f) | Code::Package(f) => {
                    let package = if is_package {
                        name.as_str()
                    } else {
                        name.rsplit_once('.').map_or("", |(p, _)| p)
                    };
                    keep_source(t, &f, why);
                    self.sources.push((name.clone(), f.clone()));
                    if let Some(text) = t.read_text(f.as_str()) {
                        let refs = module_refs(&text, Some(package));
                        self.follow_source(&refs, &f, Some(&name));
                    }
                    if is_package {
                        keep_package_data(t, &f);
                    }
                }
            }
        }
        for (name, file) in &self.sources {
            if self.evidence.contains(name) {
                self.keep_compiled(t, file);
            }
        }
        self.reached
    }

    /// The compiled forms of a module's source, in `__pycache__`.
    fn keep_compiled(&self, t: &mut Tracer, file: &ImagePath) {
        let stem = file.file_name().trim_end_matches(".py");
        let cache = file.parent().join("__pycache__");
        let compiled = Reason::runtime("compiled form of", file);
        for name in t.children(&cache) {
            let ours = name.starts_with(&format!("{stem}."))
                && name.ends_with(".pyc")
                && name.contains(&self.stdlib.pyc_tag);
            if ours {
                t.keep(&cache.join(&name), compiled.clone());
            }
        }
    }
}

/// A module's source, and the links to it.
fn keep_source(t: &mut Tracer, file: &ImagePath, why: Reason) {
    t.keep_links(file.as_str());
    if let Some(real) = t.real(file.as_str()) {
        t.keep(&real, why.clone());
    }
    t.keep(file, why);
}

/// A package's data files: what it reads next to its code by `__file__`
/// or `importlib.resources` (`venv/scripts/`), without its subpackages,
/// tests and caches, which are kept as they are imported.
fn keep_package_data(t: &mut Tracer, init: &ImagePath) {
    let dir = init.parent();
    let skip = |p: &ImagePath| {
        let name = p.file_name();
        if name.ends_with(".py") || name.ends_with(".pyc") {
            return true;
        }
        t_is_dir_skipped(t, p, name)
    };
    let data: Vec<ImagePath> = t
        .fs()
        .descendants(&dir)
        .filter(|(p, n)| n.is_file() && !ancestors_skipped(&dir, p, &skip))
        .map(|(p, _)| p.clone())
        .collect();
    let why = Reason::runtime("data file of the package", init);
    for p in data {
        t.keep_tree_where(&p, &why, &|_| false);
    }
}

/// A directory of a package that is no data of it: a subpackage, a cache, tests.
fn t_is_dir_skipped(t: &Tracer, p: &ImagePath, name: &str) -> bool {
    t.is_dir(p)
        && (matches!(name, "__pycache__" | "test" | "tests") || t.is_file(&p.join("__init__.py")))
}

/// Whether `p` or a directory between `dir` and it is skipped.
fn ancestors_skipped(dir: &ImagePath, p: &ImagePath, skip: &dyn Fn(&ImagePath) -> bool) -> bool {
    if skip(p) {
        return true;
    }
    p.ancestors()
        .take_while(|a| a != dir && a.starts_with(dir))
        .any(|a| skip(&a))
}
