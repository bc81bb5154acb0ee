//! Command-line arguments.

use std::path::PathBuf;

use clap::Parser;

/// Turn a fat container image into a minimal one, after it was built.
///
/// SOURCE and TARGET use skopeo's transport names:
///   NAME[:TAG] or docker-daemon:NAME[:TAG]   the local Docker engine (DOCKER_HOST is honoured)
///   docker-archive:PATH[:NAME:TAG]           a `docker save` tarball
///   oci:DIR[:TAG]                            an OCI image layout directory
///   oci-archive:PATH[:TAG]                   a tar of an OCI image layout
///
/// The output is one gzip layer holding the kept paths, with the source's
/// config (entrypoint, env, user, ports, labels, healthcheck, ...) unchanged.
#[derive(Parser, Debug)]
#[command(name = "slimify", version, verbatim_doc_comment)]
pub struct Cli {
    /// The image to read.
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// Where to write the slim image.
    #[arg(short, long, value_name = "TARGET")]
    pub output: String,

    /// Keep the paths matching GLOB (repeatable). Patterns are absolute image
    /// paths: `*` stays within a path component, `**` crosses them; parent
    /// directories of kept paths are kept too. `--keep '/**'` keeps everything.
    /// (Provisional: automatic tracing of what the entrypoint needs replaces it.)
    #[arg(long, value_name = "GLOB", required = true)]
    pub keep: Vec<String>,

    /// Write a JSON report of every kept path, its size and why it was kept.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// gzip level of the output layer (libdeflate's scale, 0-12). The default,
    /// 1, gave a layer slightly smaller than docker's own gzip on the demo image.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub compression_level: u32,

    /// Directory for temporary spools (decompressed layers, `docker save` output).
    #[arg(long, value_name = "DIR", env = "SLIMIFY_TMPDIR")]
    pub tmp_dir: Option<PathBuf>,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}
