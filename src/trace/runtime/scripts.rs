//! Package-manager launchers: `npm start`, `npm run build`, `npm exec`,
//! `npx`, `yarn [run] X`, `pnpm [run] X` (also through corepack), and
//! `node --run X`. They run a script of the project's package.json as a
//! shell command line (`sh -c`), in the package's directory, with the
//! `node_modules/.bin` directories of the package and its ancestors first
//! in PATH, with its `pre` and `post` scripts. So: the launcher is kept
//! whole (npm is a large program; its own package tree and its
//! dependencies, the way Debian spreads them over the global module
//! folders too), and each script is traced as the command line it is.

use super::node::dependencies;
use super::{Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

/// The launchers, by the name they are run as.
const LAUNCHERS: &[&str] = &["npm", "npx", "yarn", "yarnpkg", "pnpm", "pnpx", "corepack"];

/// npm's own commands that run a script of the same name.
const NPM_LIFECYCLE: &[&str] = &["start", "stop", "test", "restart"];

pub(super) struct PackageScripts;

impl Runtime for PackageScripts {
    fn runs(&self, base: &str) -> bool {
        LAUNCHERS.contains(&base)
    }

    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer) {
        let mut name = inv.name().to_string();
        let mut args: Vec<String> = inv.argv.iter().skip(1).cloned().collect();
        if name == "corepack" {
            // `corepack yarn start`: corepack runs the package manager it names.
            if args.is_empty() {
                return;
            }
            name = args.remove(0);
        }
        keep_launcher(t, real, &name);
        let (options, words) = split_options(&args);
        let dir = options
            .iter()
            .find_map(|(f, v)| {
                matches!(f.as_str(), "--prefix" | "-C" | "--cwd" | "--dir").then_some(v.clone())
            })
            .flatten();
        let project = match dir {
            Some(d) => t.real(&t.absolute(&d)),
            None => Some(t.run().working_dir()),
        };
        let Some(project) = project else { return };
        let launcher = name.clone();
        let command: Option<(String, Vec<String>)> = match (name.as_str(), words.split_first()) {
            ("npx" | "pnpx", Some((exe, rest))) => {
                exec(t, inv, &project, exe, rest);
                None
            }
            ("npm" | "pnpm" | "yarn" | "yarnpkg", Some((cmd, rest)))
                if matches!(cmd.as_str(), "exec" | "x" | "dlx") =>
            {
                if let Some((exe, rest)) = rest.split_first() {
                    exec(t, inv, &project, exe, rest);
                }
                None
            }
            ("npm", Some((cmd, rest)))
                if matches!(cmd.as_str(), "run" | "run-script" | "rum" | "urn") =>
            {
                rest.split_first().map(|(s, r)| (s.clone(), r.to_vec()))
            }
            ("npm", Some((cmd, rest))) if NPM_LIFECYCLE.contains(&cmd.as_str()) => {
                Some((cmd.clone(), rest.to_vec()))
            }
            ("npm", Some((cmd, rest))) if matches!(cmd.as_str(), "t" | "tst") => {
                Some(("test".into(), rest.to_vec()))
            }
            ("yarn" | "yarnpkg" | "pnpm", Some((cmd, rest))) if cmd == "run" => {
                rest.split_first().map(|(s, r)| (s.clone(), r.to_vec()))
            }
            // `yarn start`, `pnpm dev`: any word that is a script of the project.
            ("yarn" | "yarnpkg" | "pnpm", Some((cmd, rest))) => Some((cmd.clone(), rest.to_vec())),
            (_, first) => {
                t.warn(format!(
                    "{}: `{launcher}{}` runs no script slimify knows of (start, run, exec, ...): only the package manager is kept",
                    inv.what,
                    first.map(|(c, _)| format!(" {c}")).unwrap_or_default()
                ));
                None
            }
        };
        if let Some((script, rest)) = command {
            let what = format!("{launcher} {script}");
            t.in_env(&project, &[], |t| {
                run_package_script(t, inv, &what, &script, &rest)
            });
        }
    }
}

/// Keep a package manager whole: the package its program is in (with its
/// own node_modules), and the packages it depends on (Debian's npm finds
/// many in the global module folders).
fn keep_launcher(t: &mut Tracer, real: &ImagePath, name: &str) {
    let Some(root) = real
        .ancestors()
        .take_while(|d| !d.is_root())
        .find(|d| t.is_file(&d.join("package.json")))
    else {
        return; // not a Node.js package (a native yarn, a shim elsewhere)
    };
    let why = Reason::runtime(format!("the package manager {name}, run as"), real);
    t.keep_tree_where(&root, &why, &|_| false);
    // corepack runs the yarn or pnpm it downloaded (or was given with
    // `corepack prepare`) into its home.
    if root.file_name() == "corepack" {
        let home = t
            .run()
            .env_var("COREPACK_HOME")
            .and_then(|h| ImagePath::parse(h).ok())
            .unwrap_or_else(|| t.home_dir().join(".cache/node/corepack"));
        t.keep_tree_where(&home, &why, &|_| false);
    }
    let requires = t
        .read_json(&root.join("package.json"))
        .map(|p| {
            super::node::production_dependencies(&p)
                .into_iter()
                .map(|d| (d, root.clone()))
                .collect()
        })
        .unwrap_or_default();
    dependencies(t, requires);
}

/// Options before the command (`npm --prefix app start`), and the words.
fn split_options(args: &[String]) -> (Vec<(String, Option<String>)>, Vec<String>) {
    const WITH_VALUE: &[&str] = &[
        "--prefix",
        "-C",
        "--cwd",
        "--dir",
        "-w",
        "--workspace",
        "--filter",
    ];
    let mut options = Vec::new();
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some((f, v)) = a.split_once('=').filter(|_| a.starts_with("--")) {
            options.push((f.to_string(), Some(v.to_string())));
        } else if WITH_VALUE.contains(&a.as_str()) {
            options.push((a.clone(), it.next().cloned()));
        } else if a.starts_with('-') && words.is_empty() {
            options.push((a.clone(), None));
        } else {
            words.push(a.clone());
        }
    }
    (options, words)
}

/// The `node_modules/.bin` directories of `project` and its ancestors,
/// nearest first: what npm puts first in PATH.
fn bin_dirs(t: &Tracer, project: &ImagePath) -> Vec<String> {
    std::iter::once(project.clone())
        .chain(project.ancestors())
        .map(|d| d.join("node_modules/.bin"))
        .filter(|b| t.is_dir(b))
        .map(|b| b.to_string())
        .collect()
}

/// The package.json a script runs from: the nearest one at or above the
/// working directory.
fn project_manifest(t: &Tracer) -> Option<ImagePath> {
    let wd = t.run().working_dir();
    let found = std::iter::once(wd.clone())
        .chain(wd.ancestors())
        .map(|d| d.join("package.json"))
        .find(|m| t.is_file(m));
    found
}

/// Trace `npm run NAME` (and `npm start`, `yarn NAME`, `node --run NAME`):
/// the `preNAME`, `NAME` and `postNAME` scripts of the project, each as
/// `sh -c SCRIPT` in the project's directory with its `.bin` directories
/// first in PATH. npm's defaults: `start` is `node server.js` when there is
/// no start script and a server.js; `restart` is stop then start.
pub(super) fn run_package_script(
    t: &mut Tracer,
    inv: &Invocation,
    what: &str,
    name: &str,
    args: &[String],
) {
    let Some(manifest) = project_manifest(t) else {
        t.warn(format!(
            "{}: {what}: no package.json in the working directory or above",
            inv.what
        ));
        return;
    };
    let project = manifest.parent();
    t.keep(
        &manifest,
        Reason::runtime(
            format!("the scripts of {what}, run by"),
            &inv.program_path(),
        ),
    );
    for rc in [".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmrc"] {
        let f = project.join(rc);
        if t.is_file(&f) {
            t.keep(
                &f,
                Reason::runtime("configuration read by", &inv.program_path()),
            );
        }
    }
    let scripts = t
        .read_json(&manifest)
        .map(|p| p["scripts"].clone())
        .unwrap_or_default();
    let script = |n: &str| scripts[n].as_str().map(str::to_string);
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut add = |n: String, line: Option<String>| {
        if let Some(l) = line {
            lines.push((n, l));
        }
    };
    let main = match (name, script(name)) {
        (_, Some(s)) => Some(s),
        ("start", None) if t.is_file(&project.join("server.js")) => Some("node server.js".into()),
        ("restart", None) => {
            for n in [
                "prestop",
                "stop",
                "poststop",
                "prestart",
                "start",
                "poststart",
            ] {
                add(n.to_string(), script(n));
            }
            None
        }
        _ => None,
    };
    if main.is_none() && name != "restart" {
        t.warn(format!(
            "{}: {what}: {manifest} has no script {name:?}",
            inv.what
        ));
        return;
    }
    add(format!("pre{name}"), script(&format!("pre{name}")));
    // The arguments after the script's name go to the script itself.
    add(
        name.to_string(),
        main.map(|m| {
            std::iter::once(m)
                .chain(args.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    );
    add(format!("post{name}"), script(&format!("post{name}")));
    let Some(sh) = t.resolve_program("sh") else {
        t.warn(format!(
            "{}: {what}: no sh in the image to run its scripts",
            inv.what
        ));
        return;
    };
    let bins = bin_dirs(t, &project);
    let label = what.split(' ').next().unwrap_or(what);
    for (n, line) in lines {
        let what = format!("{label} script {n} of {manifest}");
        t.keep_program(
            &sh,
            Reason::runtime(format!("runs {what}, started by"), &inv.program_path()),
        );
        let argv = vec!["sh".to_string(), "-c".to_string(), line];
        t.in_env(&project, &bins, |t| {
            t.invoke(&Invocation {
                program: &sh,
                argv: &argv,
                what: &what,
            })
        });
    }
}

/// `npx X ARGS`, `npm exec X -- ARGS`: a program from the project's
/// `.bin` directories (or PATH), run with its arguments.
fn exec(t: &mut Tracer, inv: &Invocation, project: &ImagePath, exe: &str, rest: &[String]) {
    let bins = bin_dirs(t, project);
    let rest: Vec<String> = rest.iter().filter(|a| *a != "--").cloned().collect();
    let what = format!("{} (exec {exe})", inv.what);
    t.in_env(project, &bins, |t| match t.resolve_program(exe) {
        Some(p) => {
            t.keep_program(
                &p,
                Reason::runtime(
                    format!("run by {}, started by", inv.name()),
                    &inv.program_path(),
                ),
            );
            let argv: Vec<String> = std::iter::once(exe.to_string()).chain(rest).collect();
            t.invoke(&Invocation {
                program: &p,
                argv: &argv,
                what: &what,
            });
        }
        None => t.warn(format!(
            "{}: {exe:?} (run by {}) is not installed in the image; npx would download it",
            inv.what,
            inv.name()
        )),
    });
}
