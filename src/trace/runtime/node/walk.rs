//! The files a JavaScript program loads, one file at a time: from entry
//! files, every module specifier a file names literally (`require`,
//! `import`, `export ... from`, `import()`, `require.resolve`) is resolved
//! the way Node resolves it and read in turn; files named relative to the
//! module (`path.join(__dirname, "x")`, `__dirname + "/x"`) are kept too;
//! each package's `package.json` is kept (Node reads its `type`, `main` and
//! `exports`). What a specifier computed at run time names is not seen:
//! `require(variable)` needs `--include` (or the probe).
//!
//! This is what @vercel/nft does for Next.js and Vercel (a partial
//! evaluation of the module graph), in its simplest form.

use std::collections::BTreeSet;

use super::resolve::{resolve_file, resolve_specifier};
use crate::image_path::ImagePath;
use crate::trace::tracer::Tracer;

/// What a walk reached.
#[derive(Default)]
pub(super) struct Walked {
    /// JavaScript, JSON and asset files.
    pub files: BTreeSet<ImagePath>,
    /// Native addons (`.node`): ELF, for the loader to trace.
    pub addons: BTreeSet<ImagePath>,
    /// The package.json of every package a reached file is in.
    pub manifests: BTreeSet<ImagePath>,
}

/// Files below this size are read for specifiers; larger ones (bundled
/// data, source maps) are kept but not parsed.
const MAX_SOURCE: u64 = 8 << 20;

/// Walk the module graph from `entries`.
pub(super) fn walk(t: &Tracer, entries: impl IntoIterator<Item = ImagePath>) -> Walked {
    let mut w = Walked::default();
    let mut queue: Vec<ImagePath> = entries.into_iter().collect();
    while let Some(file) = queue.pop() {
        if !w.files.insert(file.clone()) {
            continue;
        }
        if let Some(m) = manifest_of(t, &file) {
            w.manifests.insert(m);
        }
        let name = file.file_name();
        if name.ends_with(".node") {
            w.files.remove(&file);
            w.addons.insert(file);
            continue;
        }
        if !is_code(name) {
            continue;
        }
        let Some(text) = source_of(t, &file) else {
            continue;
        };
        // `require("bindings")("addon")`, node-gyp-build, node-pre-gyp: a
        // native addon found by a computed path inside its package.
        if [
            "bindings",
            "node-gyp-build",
            "@mapbox/node-pre-gyp",
            "node-pre-gyp",
        ]
        .iter()
        .any(|l| {
            text.contains(&format!("require(\"{l}\")")) || text.contains(&format!("require('{l}')"))
        }) {
            if let Some(m) = manifest_of(t, &file) {
                w.addons.extend(
                    t.fs()
                        .descendants(&m.parent())
                        .filter(|(p, n)| n.is_file() && p.file_name().ends_with(".node"))
                        .map(|(p, _)| p.clone()),
                );
            }
        }
        for spec in super::resolve::specifiers(&text) {
            queue.extend(resolve_specifier(t, &spec, &file));
        }
        // A module path written as a plain string (a require hook's alias
        // table: `["webpack", "next/dist/compiled/webpack/webpack-lib"]`) is
        // loaded by name later: kept when it is a file of an installed package.
        for spec in module_paths(&text) {
            queue.extend(resolve_specifier(t, spec, &file));
        }
        // Files named relative to the module (a directory named so is a
        // place the module looks things up in, not something it loads whole).
        for rel in dirname_relative(&text) {
            let at = format!("{}/{rel}", file.parent());
            if let Some(r) = t.real(&at).filter(|r| t.is_file(r)) {
                queue.push(r);
            } else if let Some(r) = resolve_file(t, &at) {
                queue.push(r);
            }
        }
    }
    w
}

/// String literals shaped like a path into a package (`pkg/sub/file`,
/// `@scope/pkg/sub`): lowercase package names, at least one subpath part.
pub(super) fn module_paths(source: &str) -> impl Iterator<Item = &str> {
    source.split(['"', '\'']).skip(1).step_by(2).filter(|s| {
        let mut parts = s.split('/');
        let first = parts.next().unwrap_or("");
        let name_ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
                && !p.starts_with('.')
        };
        let first_ok = match first.strip_prefix('@') {
            Some(scope) => name_ok(scope) && parts.next().is_some_and(name_ok),
            None => name_ok(first),
        };
        let rest: Vec<&str> = parts.collect();
        first_ok
            && !rest.is_empty()
            && s.len() < 200
            && rest.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
            })
    })
}

fn is_code(name: &str) -> bool {
    [".js", ".mjs", ".cjs"].iter().any(|x| name.ends_with(x)) || !name.contains('.')
}

/// The text of a JavaScript file small enough to parse.
fn source_of(t: &Tracer, file: &ImagePath) -> Option<String> {
    let node = t.fs().get(file.as_str())?;
    if node.size() > MAX_SOURCE {
        return None;
    }
    let (_, bytes) = t.fs().read(file.as_str())?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The package.json of the package `file` is in: the nearest one above it,
/// not past a `node_modules` directory.
fn manifest_of(t: &Tracer, file: &ImagePath) -> Option<ImagePath> {
    for dir in file.ancestors() {
        let m = dir.join("package.json");
        if t.is_file(&m) {
            return Some(m);
        }
        if dir.file_name() == "node_modules" || dir.is_root() {
            return None;
        }
    }
    None
}

/// Paths a module names relative to its own directory:
/// `path.join(__dirname, "a", "b")`, `path.resolve(__dirname, "a/b")`,
/// `__dirname + "/a"`, `` `${__dirname}/a` ``.
pub(super) fn dirname_relative(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pat in ["join(__dirname", "resolve(__dirname"] {
        for (i, _) in source.match_indices(pat) {
            let rest = &source[i + pat.len()..];
            let Some(end) = rest.find(')') else { continue };
            let mut parts = Vec::new();
            let mut ok = true;
            for arg in rest[..end].split(',').skip(1) {
                let arg = arg.trim();
                match literal(arg) {
                    Some(s) => parts.push(s),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok && !parts.is_empty() {
                out.push(parts.join("/"));
            }
        }
    }
    for (i, _) in source.match_indices("__dirname + ") {
        if let Some(s) = literal(
            source[i + "__dirname + ".len()..]
                .split([';', ')', ',', '\n'])
                .next()
                .unwrap_or("")
                .trim(),
        ) {
            out.push(s.trim_start_matches('/').to_string());
        }
    }
    for (i, _) in source.match_indices("${__dirname}/") {
        let rest = &source[i + "${__dirname}/".len()..];
        if let Some(end) = rest.find('`') {
            let s = &rest[..end];
            if !s.contains("${") {
                out.push(s.to_string());
            }
        }
    }
    out.retain(|p| !p.is_empty() && !p.contains(['*', '$', '\n']));
    out
}

/// The content of a string literal written alone (`"x"`, `'x'`).
fn literal(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let inner = s.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains(q)).then(|| inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_paths_written_as_strings() {
        let src = r#"addHookAliases([["webpack", "next/dist/compiled/webpack/webpack-lib"], ['@s/p/sub/x.js', "text/html"], "Hello world", "a/b c", "../x/y", "Upper/Case"]);"#;
        let found: Vec<&str> = module_paths(src).collect();
        assert_eq!(
            found,
            [
                "next/dist/compiled/webpack/webpack-lib",
                "@s/p/sub/x.js",
                "text/html"
            ]
        );
    }

    #[test]
    fn paths_relative_to_the_module() {
        let src = "const v = path.join(__dirname, 'views', \"index.html\");\nconst s = path.resolve(__dirname, '../static');\nconst t = fs.readFileSync(__dirname + '/template.txt');\nconst u = `${__dirname}/locales/en.json`;\nconst no = path.join(__dirname, name);\n";
        assert_eq!(
            dirname_relative(src),
            [
                "views/index.html",
                "../static",
                "template.txt",
                "locales/en.json"
            ]
        );
    }
}
