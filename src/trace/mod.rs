//! Tracing: what the image's programs need, kept with the reason that kept it.
//!
//! The evidence, in the order it is read:
//! 1. the roots: Entrypoint + Cmd, the Healthcheck, `--include-exe` and the
//!    programs among `--include` paths ([`roots`]);
//! 2. for every program, what the dynamic loader maps ([`ldso`], over
//!    [`elf`] and [`ldcache`]) or the `#!` interpreter of a script
//!    ([`program`](self));
//! 3. what an interpreter loads for its command line, one [`runtime`] per
//!    interpreter (shell, Python, Node.js, Java, Perl, Ruby, launchers);
//! 4. what glibc loads by name and what every process expects
//!    ([`essentials`](self): NSS, libgcc_s, certificates, users, /tmp, ...);
//! 5. paths that programs name: on their command lines, in their binaries,
//!    in the configuration they read, in the app's code
//!    ([`evidence`](self), [`named`](self)).
//!
//! [`Tracer`](tracer) holds one image's trace; a runtime sees it through the
//! methods it offers (keep, keep a tree, trace a program, run a command,
//! warn, read a file), never through its fields.

mod elf;
mod essentials;
mod evidence;
mod ldcache;
mod ldso;
mod named;
mod probed;
mod program;
mod roots;
mod runtime;
mod tracer;
mod tree;

pub use elf::ElfInfo;
pub use ldcache::{abi_flags, LdCache};
pub use probed::ProbeFound;
pub use roots::RunConfig;

use crate::image_path::ImagePath;
use crate::keep::{BadGlob, KeepSet};
use crate::layer::Meta;
use crate::rootfs::RootFs;
use crate::source::ImageConfig;
use tracer::Tracer;

/// What the user asked of the tracer.
#[derive(Clone, Debug, Default)]
pub struct TraceOptions {
    /// `--entrypoint` / `--cmd`: trace the image as if run with these.
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// `--include PATH|GLOB`: more paths to keep; programs and scripts among them are traced.
    pub include: Vec<String>,
    /// `--include-exe NAME`: more programs to trace.
    pub include_exe: Vec<String>,
    /// `--no-certs` turns this off.
    pub certs: bool,
    /// Keep only the third-party Python packages the app's imports reach
    /// (`--no-import-graph` turns this off and keeps every installed package).
    pub import_graph: bool,
    /// What a `--probe` run of the image touched: kept in union with what
    /// the static evidence keeps, never instead of it.
    pub probed: Option<Vec<crate::probe::Record>>,
}

impl TraceOptions {
    /// The defaults of the command line: certificates and the import graph on.
    pub fn new() -> Self {
        TraceOptions {
            certs: true,
            import_graph: true,
            ..Default::default()
        }
    }
}

/// Why an image could not be traced.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("the image has no Entrypoint or Cmd, so there is nothing to trace")]
    NothingToTrace,
    #[error("the entrypoint program {name:?} {why}")]
    Entrypoint { name: String, why: String },
    #[error(transparent)]
    Glob(#[from] BadGlob),
}

impl TraceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            TraceError::NothingToTrace => Some(
                "name programs with --include-exe, paths with --include, or keep paths with --keep"
                    .into(),
            ),
            TraceError::Entrypoint { name, .. } => Some(format!(
                "keep it as it is with --include {name}, trace another command with --entrypoint/--cmd, or keep paths with --keep"
            )),
            TraceError::Glob(_) => None,
        }
    }
}

/// A traced image: what to keep, and what the tracer could not resolve.
pub struct Traced {
    pub keep: KeepSet,
    /// Names, never values: Env is never printed.
    pub warnings: Vec<String>,
    /// Which kept paths the probe found, and which static tracing had (with `--probe`).
    pub probe: Option<ProbeFound>,
}

/// Trace `fs` as `config` runs it.
pub fn trace_image(
    fs: &mut RootFs,
    config: &ImageConfig,
    opts: &TraceOptions,
) -> Result<Traced, TraceError> {
    // A process may expect a world-writable /tmp even where the image has none.
    fs.ensure_dir(
        &ImagePath::root().join("tmp"),
        Meta {
            mode: 0o1777,
            ..Meta::implicit_dir()
        },
    );
    let fs: &RootFs = fs;
    let runtimes = runtime::all();
    let mut t = Tracer::new(fs, RunConfig::from_config(config), opts, &runtimes);
    t.roots(config)?;
    for rt in &runtimes {
        rt.finish(&mut t);
    }
    t.runtime_libraries();
    t.named_configuration();
    t.binary_evidence();
    t.essentials();
    // What the essentials brought in (OpenSSL's engines, NSS modules) names paths too.
    t.binary_evidence();
    // Last, so a path both found keeps the static reason, which says more.
    let probe = opts.probed.as_ref().map(|records| t.probed(records));
    let mut traced = t.finish();
    traced.probe = probe;
    Ok(traced)
}

#[cfg(test)]
mod tests;
