//! Node's module resolution, replayed in the image: which package a bare
//! name is (`node_modules` up the tree, NODE_PATH, the global folders), and
//! which file a specifier is (extensions, `index` files, package.json
//! `main` and `exports`).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::image_path::ImagePath;
use crate::trace::tracer::Tracer;

/// Node's built-in modules: `require("fs")` names no file.
pub(super) const BUILTIN: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

/// Global folders Node searches after node_modules (Debian adds its own).
const GLOBAL_FOLDERS: &[&str] = &[
    "usr/lib/node",
    "usr/local/lib/node",
    "usr/share/nodejs",
    "usr/lib/nodejs",
    "usr/lib/x86_64-linux-gnu/nodejs",
    "usr/lib/aarch64-linux-gnu/nodejs",
];

/// Extensions Node tries after the name as written (CommonJS), in order.
const EXTENSIONS: &[&str] = &[".js", ".json", ".node", ".mjs", ".cjs"];

/// `exports` conditions that never apply to code Node runs (type
/// declarations, browsers, other runtimes); every other branch may, so all
/// of them are kept (`node`, `require`, `import`, `default`, `module`, ...).
const FOREIGN_CONDITIONS: &[&str] = &[
    "types",
    "typings",
    "browser",
    "deno",
    "bun",
    "worker",
    "electron",
    "react-native",
];

/// Bare module names a JavaScript source requires or imports
/// (the packages of its [`specifiers`]), scoped names
/// whole (`@scope/pkg`), deep paths cut to the package (`lodash/fp` → `lodash`).
pub(in crate::trace::runtime) fn required_packages(source: &str) -> BTreeSet<String> {
    specifiers(source)
        .iter()
        .filter(|s| !s.starts_with(['.', '/', '#']) && !s.starts_with("node:"))
        .filter_map(|s| split_package(s).map(|(name, _)| name))
        .filter(|name| !BUILTIN.contains(&name.as_str()))
        .collect()
}

/// The module specifiers a JavaScript source names literally: `require`,
/// `require.resolve`, `import ... from`, `export ... from`, `import "x"` and
/// `import("x")`, as written (relative, absolute, bare, `node:`).
pub(super) fn specifiers(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pat in [
        "require(",
        "require.resolve(",
        "from ",
        "import(",
        "import ",
    ] {
        for (i, _) in source.match_indices(pat) {
            let before = source[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
                continue; // `myrequire(`, `x.from `
            }
            let rest = source[i + pat.len()..].trim_start();
            let Some(q) = rest
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))
            else {
                continue;
            };
            let Some(end) = rest[1..].find(q) else {
                continue;
            };
            let spec = &rest[1..1 + end];
            if !spec.is_empty() && !spec.contains("${") && !spec.contains('\n') {
                out.push(spec.to_string());
            }
        }
    }
    out
}

/// `@scope/pkg/sub/path` → (`@scope/pkg`, `sub/path`); `pkg` → (`pkg`, ``).
pub(super) fn split_package(spec: &str) -> Option<(String, String)> {
    let mut parts = spec.splitn(3, '/');
    let first = parts.next()?;
    let (name, rest) = if first.starts_with('@') {
        let second = parts.next()?;
        (format!("{first}/{second}"), parts.next().unwrap_or(""))
    } else {
        let rest: Vec<&str> = parts.collect();
        (
            first.to_string(),
            if rest.is_empty() {
                ""
            } else {
                &spec[first.len() + 1..]
            },
        )
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "@/._-".contains(c));
    valid.then(|| (name, rest.to_string()))
}

/// `require(name)` from `from_dir`: node_modules up the tree, then
/// NODE_PATH and the global folders. The real directory.
pub(super) fn resolve_package(t: &Tracer, name: &str, from_dir: &ImagePath) -> Option<ImagePath> {
    find_package(t, name, from_dir).map(|(real, _)| real)
}

/// [`resolve_package`], with the path it was found as (through symlinks
/// such as Debian's `/usr/share/nodejs/@npmcli/node_modules`, which the
/// image must keep too).
pub(super) fn find_package(
    t: &Tracer,
    name: &str,
    from_dir: &ImagePath,
) -> Option<(ImagePath, String)> {
    let mut candidates: Vec<String> = Vec::new();
    let mut dir = Some(from_dir.clone());
    while let Some(d) = dir {
        // node_modules/node_modules is never searched.
        if d.file_name() != "node_modules" {
            candidates.push(d.join("node_modules").join(name).to_string());
        }
        dir = (!d.is_root()).then(|| d.parent());
    }
    let node_path = t.run().env_var("NODE_PATH").unwrap_or("").to_string();
    let home = t.home_dir();
    candidates.extend(
        node_path
            .split(':')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .chain([
                home.join(".node_modules").to_string(),
                home.join(".node_libraries").to_string(),
            ])
            .chain(GLOBAL_FOLDERS.iter().map(|s| format!("/{s}")))
            .map(|d| format!("{d}/{name}")),
    );
    // A package may be one file beside the others (Debian's
    // `/usr/share/nodejs/wcwidth.js`): Node tries the name with its
    // extensions before the directory.
    candidates.into_iter().find_map(|c| {
        if let Some(real) = t.real(&c).filter(|r| t.is_dir(r) || t.is_file(r)) {
            return Some((real, c));
        }
        EXTENSIONS.iter().find_map(|x| {
            let file = format!("{c}{x}");
            let real = t.real(&file).filter(|r| t.is_file(r))?;
            Some((real, file))
        })
    })
}

/// The files a specifier names from the file `from` (several when a
/// package's `exports` has several conditions); empty for a built-in or
/// what is not in the image.
pub(super) fn resolve_specifier(t: &Tracer, spec: &str, from: &ImagePath) -> Vec<ImagePath> {
    if spec.starts_with("node:") || BUILTIN.contains(&spec.split('/').next().unwrap_or(spec)) {
        return Vec::new();
    }
    if spec.starts_with("./") || spec.starts_with("../") || spec == "." || spec == ".." {
        let base = from.parent();
        return resolve_file(t, &format!("{base}/{spec}"))
            .into_iter()
            .collect();
    }
    if spec.starts_with('/') {
        return resolve_file(t, spec).into_iter().collect();
    }
    if spec.starts_with('#') {
        return package_imports(t, spec, from);
    }
    let Some((name, sub)) = split_package(spec) else {
        return Vec::new();
    };
    let Some(dir) = resolve_package(t, &name, &from.parent()) else {
        return Vec::new();
    };
    package_entries(t, &dir, &sub)
}

/// A file or directory path as `require` loads it: the file, the file with
/// an extension, or the directory's package.json `main` or `index` file.
pub(super) fn resolve_file(t: &Tracer, abs: &str) -> Option<ImagePath> {
    if let Some(r) = t.real(abs).filter(|r| t.is_file(r)) {
        return Some(r);
    }
    for x in EXTENSIONS {
        if let Some(r) = t.real(&format!("{abs}{x}")).filter(|r| t.is_file(r)) {
            return Some(r);
        }
    }
    let dir = t.real(abs).filter(|d| t.is_dir(d))?;
    if let Some(main) = t
        .read_json(&dir.join("package.json"))
        .and_then(|p| p["main"].as_str().map(str::to_string))
    {
        let main = format!("{dir}/{}", main.trim_start_matches("./"));
        if let Some(f) = resolve_file_no_dir(t, &main) {
            return Some(f);
        }
    }
    EXTENSIONS
        .iter()
        .find_map(|x| t.real(&format!("{dir}/index{x}")).filter(|r| t.is_file(r)))
}

/// [`resolve_file`] without the directory step (a `main` that is a directory
/// is read once, not followed again).
fn resolve_file_no_dir(t: &Tracer, abs: &str) -> Option<ImagePath> {
    std::iter::once(String::new())
        .chain(EXTENSIONS.iter().map(|x| x.to_string()))
        .chain(EXTENSIONS.iter().map(|x| format!("/index{x}")))
        .find_map(|x| t.real(&format!("{abs}{x}")).filter(|r| t.is_file(r)))
}

/// The files `require("pkg/sub")` may load from the package at `dir`:
/// through its `exports` map when it has one (every branch whose conditions
/// can apply to Node, so `require` and `import` both find theirs), else
/// `main`/`index` for the package itself and the file rules for a subpath.
pub(super) fn package_entries(t: &Tracer, dir: &ImagePath, sub: &str) -> Vec<ImagePath> {
    let pkg = t.read_json(&dir.join("package.json"));
    if let Some(exports) = pkg.as_ref().map(|p| &p["exports"]).filter(|e| !e.is_null()) {
        let key = if sub.is_empty() {
            ".".to_string()
        } else {
            format!("./{sub}")
        };
        let mut targets = BTreeSet::new();
        export_targets(exports, &key, &mut targets);
        return targets
            .into_iter()
            .filter_map(|target| {
                resolve_file_no_dir(t, &format!("{dir}/{}", target.trim_start_matches("./")))
            })
            .collect();
    }
    let at = if sub.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{sub}")
    };
    resolve_file(t, &at).into_iter().collect()
}

/// `#internal` specifiers: the `imports` map of the package `from` is in
/// (with the same conditions as `exports`); a target may itself be a package.
fn package_imports(t: &Tracer, spec: &str, from: &ImagePath) -> Vec<ImagePath> {
    let Some(dir) = from
        .ancestors()
        .take_while(|d| !d.is_root())
        .find(|d| t.is_file(&d.join("package.json")))
    else {
        return Vec::new();
    };
    let Some(imports) = t
        .read_json(&dir.join("package.json"))
        .map(|p| p["imports"].clone())
        .filter(|i| i.is_object())
    else {
        return Vec::new();
    };
    let mut targets = BTreeSet::new();
    export_targets(&imports, spec, &mut targets);
    let inside = dir.join("package.json");
    targets
        .into_iter()
        .flat_map(|target| {
            if let Some(relative) = target.strip_prefix("./") {
                resolve_file_no_dir(t, &format!("{dir}/{relative}"))
                    .into_iter()
                    .collect::<Vec<_>>()
            } else {
                resolve_specifier(t, &target, &inside)
            }
        })
        .collect()
}

/// The targets `exports` gives `key` (`.`, `./sub`), with `*` patterns
/// filled in, under every condition but the foreign ones.
fn export_targets(exports: &Value, key: &str, out: &mut BTreeSet<String>) {
    match exports {
        Value::String(s) if key == "." => {
            out.insert(s.clone());
        }
        Value::Array(list) => {
            for e in list {
                export_targets(e, key, out);
            }
        }
        Value::Object(map) => {
            let is_subpath_map = map.keys().any(|k| k.starts_with('.') || k.starts_with('#'));
            if !is_subpath_map {
                // Conditions for the package itself (`{"require": ..., "import": ...}`).
                if key == "." {
                    conditional_targets(exports, "", out);
                }
                return;
            }
            if let Some(v) = map.get(key) {
                conditional_targets(v, "", out);
                return;
            }
            // Patterns: `./features/*` → `./src/features/*.js`.
            for (k, v) in map {
                if let Some((pre, post)) = k.split_once('*') {
                    if let Some(star) = key.strip_prefix(pre).and_then(|r| r.strip_suffix(post)) {
                        conditional_targets(v, star, out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The file targets of one `exports` value: a string, an array of
/// fallbacks, or conditions (nested), with `*` replaced by `star`.
fn conditional_targets(v: &Value, star: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.replace('*', star));
        }
        Value::Array(list) => {
            for e in list {
                conditional_targets(e, star, out);
            }
        }
        Value::Object(map) => {
            for (cond, target) in map {
                if !FOREIGN_CONDITIONS.contains(&cond.as_str()) {
                    conditional_targets(target, star, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_and_package_names() {
        let src = "const a = require('./a');\nimport b from \"b/sub\";\nexport * from '@s/c';\nconst d = await import(\"node:fs\");\nrequire.resolve('e/package.json');\nmyrequire('no');\nrequire(`x/${y}`);\nimport './side-effect.css';\n";
        assert_eq!(
            specifiers(src),
            [
                "./a",
                "e/package.json",
                "b/sub",
                "@s/c",
                "node:fs",
                "./side-effect.css"
            ]
        );
        assert_eq!(
            split_package("@s/c/d/e"),
            Some(("@s/c".into(), "d/e".into()))
        );
        assert_eq!(split_package("lodash"), Some(("lodash".into(), "".into())));
        assert_eq!(
            split_package("lodash/fp"),
            Some(("lodash".into(), "fp".into()))
        );
    }

    #[test]
    fn imports_maps_use_the_same_conditions() {
        let imports: Value = serde_json::from_str(r##"{"#dep": {"node": "dep-node-native", "default": "./dep-polyfill.js"}, "#internal/*": "./src/internal/*.js"}"##).unwrap();
        let mut out = BTreeSet::new();
        export_targets(&imports, "#dep", &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["./dep-polyfill.js", "dep-node-native"]
        );
        let mut out = BTreeSet::new();
        export_targets(&imports, "#internal/a", &mut out);
        assert_eq!(out.into_iter().collect::<Vec<_>>(), ["./src/internal/a.js"]);
    }

    #[test]
    fn exports_maps_give_every_node_branch() {
        let exports: Value = serde_json::from_str(r#"{
            ".": {"types": "./i.d.ts", "import": "./esm/i.mjs", "require": "./cjs/i.js", "browser": "./b.js"},
            "./package.json": "./package.json",
            "./features/*": {"node": "./src/features/*.js", "default": "./dist/features/*.js"}
        }"#).unwrap();
        let mut out = BTreeSet::new();
        export_targets(&exports, ".", &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["./cjs/i.js", "./esm/i.mjs"]
        );
        let mut out = BTreeSet::new();
        export_targets(&exports, "./features/x", &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["./dist/features/x.js", "./src/features/x.js"]
        );
        let mut out = BTreeSet::new();
        export_targets(&Value::String("./main.js".into()), ".", &mut out);
        assert_eq!(out.len(), 1);
    }
}
