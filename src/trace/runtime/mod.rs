//! What interpreters load that the ELF tracer cannot see: the programs a
//! shell script runs, a Python program's standard library and imports, a
//! Node.js app's production dependencies, a JRE's modules and dlopen'd
//! libraries, Perl's and Ruby's library paths, and the command a launcher
//! (`env`, `tini`, `gosu`, ...) runs.
//!
//! Each interpreter is a [`Runtime`]: it claims the programs it runs by
//! name (the name as invoked, then the file it resolves to) and traces one
//! command line at a time through the [`Tracer`]'s methods, deciding from
//! evidence in the image: the interpreter's location, its arguments, the
//! image's Env, and the files the app itself declares (package.json,
//! pyvenv.cfg, dist-info RECORD, a jar's manifest). A runtime's own memory
//! (what it has already kept) lives in its own struct; adding a runtime is
//! one file plus a line in [`all`].

mod java;
mod launcher;
mod node;
mod perl;
mod python;
mod ruby;
mod scripts;
mod shell;
mod shell_syntax;

use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

/// A program run with arguments: by the image config, a script's `#!` line,
/// or a command inside a shell script.
pub(in crate::trace) struct Invocation<'a> {
    /// The program's absolute image path as invoked (before symlinks: a
    /// virtualenv's `bin/python` matters even though it links elsewhere).
    pub program: &'a str,
    /// The whole command line, `argv[0]` first.
    pub argv: &'a [String],
    /// What runs it, for reasons and warnings: `entrypoint`, `the script /x.sh`.
    pub what: &'a str,
}

impl Invocation<'_> {
    /// The program as invoked, as an image path (for reasons).
    pub fn program_path(&self) -> ImagePath {
        ImagePath::parse(self.program).unwrap_or_default()
    }

    /// The program's name as invoked (`python3` for `/usr/bin/python3`).
    pub fn name(&self) -> &str {
        self.program.rsplit('/').next().unwrap_or(self.program)
    }
}

/// An interpreter (or launcher) and what it loads.
pub(in crate::trace) trait Runtime {
    /// Whether this runtime is the program named `base` (`python3.11`, `node`).
    fn runs(&self, base: &str) -> bool;

    /// Trace what running `inv` loads; `real` is the program's real path.
    fn trace(&self, inv: &Invocation, real: &ImagePath, t: &mut Tracer);

    /// After every command: evidence that comes from no command line
    /// (JAVA_HOME in Env).
    fn finish(&self, _t: &mut Tracer) {}
}

/// Every runtime, in the order they are asked.
pub(in crate::trace) fn all() -> Vec<Box<dyn Runtime>> {
    vec![
        Box::new(shell::Shell::default()),
        Box::new(python::Python::default()),
        Box::new(node::Node::default()),
        Box::new(java::Java::default()),
        Box::new(perl::Perl::default()),
        Box::new(ruby::Ruby::default()),
        Box::new(scripts::PackageScripts),
        Box::new(launcher::Launcher),
    ]
}

/// `python3.11`, `perl5.36`: `stem` followed by a version, or nothing.
fn versioned(base: &str, stem: &str) -> bool {
    base.strip_prefix(stem)
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// String literals in source code that start with `/`: the paths a program names.
pub(in crate::trace) fn absolute_literals(source: &str) -> impl Iterator<Item = &str> {
    source
        .split(['"', '\'', '`'])
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with('/') && s.len() < 256 && !s.contains('\n'))
}

/// The script an interpreter runs (`perl app.pl`, `ruby app.rb`): kept, with
/// the paths its source names and its directory as the app's. Gives its real
/// path and its text (the closure's root), or warns that it is missing.
/// An encoding's name as Perl's Encode and Ruby compare names loosely:
/// lowercase, letters and digits only (`Shift_JIS` and `shiftjis` meet).
fn encoding_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn keep_script(
    t: &mut Tracer,
    inv: &Invocation,
    script: &str,
    real: &ImagePath,
    language: &str,
) -> Option<(ImagePath, Option<String>)> {
    let abs = t.absolute(script);
    let Some(r) = t.real(&abs) else {
        t.warn(format!(
            "{}: {language} script {abs} is not in the image",
            inv.what
        ));
        return None;
    };
    t.keep(&r, Reason::runtime("script run by", real));
    let text = t.read_text(&abs);
    if let Some(text) = &text {
        t.keep_named_paths(absolute_literals(text), &r);
    }
    let why = Reason::runtime(format!("{language} application run by"), real);
    t.keep_app_dir(&r.parent(), &why, &|_| false);
    Some((r, text))
}

/// The value of a one-letter option written `-Ivalue` or `-I value`.
fn attached_or_next<'a>(attached: &str, rest: &mut impl Iterator<Item = &'a String>) -> String {
    if attached.is_empty() {
        rest.next().cloned().unwrap_or_default()
    } else {
        attached.to_string()
    }
}

#[cfg(test)]
mod apps_tests;
#[cfg(test)]
mod tests;
