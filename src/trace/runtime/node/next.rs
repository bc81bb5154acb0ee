//! Next.js: `next start` serves a project's build output (`.next/`), and
//! Next itself already computed what its server loads: `next build` writes
//! a trace (`*.nft.json`, made with @vercel/nft) beside the server and each
//! page, and `required-server-files.json`. Those files are kept as Next
//! lists them; the `next` CLI and the project's `next.config` are walked
//! file by file. The `next` package is not kept whole: most of it (the
//! compiler, the SWC binaries, the dev server) is for `next build` and
//! `next dev`.
//!
//! `output: 'standalone'` builds: `node .next/standalone/server.js` runs a
//! directory Next already trimmed to what its server loads (Next copies
//! the traced files into it): kept whole as it is, and nothing outside it
//! (the project's own node_modules, where Node would look next, is what
//! the standalone build leaves behind).

use super::walk::walk;
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

/// Where `next start` finds its project, when `entry` (the script node
/// runs) is the `next` CLI and the command is `start`.
pub(super) fn start_project(t: &Tracer, entry: &ImagePath, args: &[String]) -> Option<ImagePath> {
    if !entry.as_str().ends_with("next/dist/bin/next") {
        return None;
    }
    // next start [dir] [-p PORT] [-H HOST] [--keepAliveTimeout MS]
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("start") {
        return None;
    }
    let mut dir = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" | "--port" | "-H" | "--hostname" | "--keepAliveTimeout" => {
                it.next();
            }
            f if f.starts_with('-') => {}
            d => {
                dir = Some(d.to_string());
                break;
            }
        }
    }
    let dir = dir.unwrap_or_else(|| ".".into());
    t.real(&t.absolute(&dir)).filter(|d| t.is_dir(d))
}

/// The standalone directory `entry` is the server of: `server.js` beside
/// the `.next/required-server-files.json` and `node_modules` Next wrote.
pub(super) fn standalone_root(t: &Tracer, entry: &ImagePath) -> Option<ImagePath> {
    let root = entry.parent();
    (entry.file_name() == "server.js"
        && t.is_file(&root.join(".next/required-server-files.json"))
        && t.is_dir(&root.join("node_modules")))
    .then_some(root)
}

/// Keep a standalone build whole (but its cache).
pub(super) fn trace_standalone(t: &mut Tracer, root: &ImagePath, node: &ImagePath) {
    let why = Reason::runtime(
        "Next.js standalone server (traced by next build), run by",
        node,
    );
    let cache = root.join(".next/cache");
    t.keep_tree_where(root, &why, &|p| p.starts_with(&cache));
}

/// Keep what `next start` serves `project` with.
pub(super) fn trace_start(t: &mut Tracer, project: &ImagePath, cli: &ImagePath) {
    let why = Reason::runtime("Next.js project served by next start from", project);
    let dist = project.join(".next");
    let skip = |p: &ImagePath| {
        p.starts_with(&dist.join("cache")) || p.starts_with(&dist.join("standalone"))
    };
    t.keep_tree_where(&dist, &why, &skip);
    for name in [
        "package.json",
        "public",
        ".env",
        ".env.production",
        ".env.local",
        ".env.production.local",
        "tsconfig.json",
        "jsconfig.json",
    ] {
        t.keep_tree_where(&project.join(name), &why, &|_| false);
    }
    let mut entries = vec![cli.clone()];
    for config in [
        "next.config.js",
        "next.config.mjs",
        "next.config.cjs",
        "next.config.ts",
    ] {
        let c = project.join(config);
        if t.is_file(&c) {
            t.keep(&c, why.clone());
            entries.push(c);
        }
    }
    // What Next's own traces list, relative to each trace file.
    let traces: Vec<ImagePath> = t
        .fs()
        .descendants(&dist)
        .filter(|(p, _)| !skip(p) && p.file_name().ends_with(".nft.json"))
        .map(|(p, _)| p.clone())
        .collect();
    for trace in traces {
        let Some(json) = t.read_json(&trace) else {
            continue;
        };
        let why_trace = Reason::runtime("listed in Next.js's trace", &trace);
        for f in json["files"].as_array().into_iter().flatten() {
            if let Some(f) = f.as_str() {
                keep_listed(t, &format!("{}/{f}", trace.parent()), &why_trace);
            }
        }
    }
    let required = dist.join("required-server-files.json");
    if let Some(json) = t.read_json(&required) {
        let why_req = Reason::runtime("listed in", &required);
        for f in json["files"].as_array().into_iter().flatten() {
            if let Some(f) = f.as_str() {
                keep_listed(t, &format!("{project}/{f}"), &why_req);
            }
        }
    }
    // The CLI and the config, module by module.
    let walked = walk(t, entries);
    let why_walk = Reason::runtime("loaded by the next CLI", cli);
    for f in walked.files.iter().chain(&walked.manifests) {
        t.keep_links(f.as_str());
        t.keep(f, why_walk.clone());
    }
    for addon in &walked.addons {
        t.program(&addon.to_string(), why_walk.clone());
    }
}

/// A file a trace lists (a native addon among them is traced as ELF).
fn keep_listed(t: &mut Tracer, path: &str, why: &Reason) {
    let Some(real) = t.real(path) else {
        return;
    };
    if real.file_name().ends_with(".node") {
        t.program(path, why.clone());
    } else {
        t.keep_links(path);
        t.keep_tree_where(&real, why, &|_| false);
    }
}
