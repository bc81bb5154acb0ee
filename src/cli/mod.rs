//! Command-line arguments: the flags every subcommand shares, and one file
//! per subcommand (`slim`, `explain`, `batch`) that parses its own into
//! library types and calls the library.

pub mod batch;
pub mod docs;
pub mod explain;
pub mod slim;
pub mod verify;
pub mod workload;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use slimify::{Limits, Platform, Progress, RegistrySettings, Select, Settings, TraceOptions, Ui};

/// Turn a fat container image into a minimal one, after it was built.
///
/// SOURCE and TARGET use skopeo's transport names:
///   NAME[:TAG] or docker-daemon:NAME[:TAG]   the local Docker engine (DOCKER_HOST is honoured;
///                                            read in place from its overlay2 store when it can be)
///   docker-archive:PATH[:NAME:TAG]           a `docker save` tarball
///   oci:DIR[:TAG]                            an OCI image layout directory
///   oci-archive:PATH[:TAG]                   a tar of an OCI image layout
///   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]   a registry (OCI distribution API)
///   containers-storage:[STORE]NAME[:TAG]      podman's image store (through the podman CLI)
///   containerd:NAME[:TAG]                     containerd's image store (through ctr)
///
/// Without --keep, slimify traces what the image runs: the Entrypoint, Cmd and
/// Healthcheck programs (through PATH and WorkingDir), their dynamic loader and
/// every shared library as ld.so would find it in the image, NSS modules and
/// libgcc_s for glibc; what interpreters load: the commands of shell scripts,
/// the modules of Python's standard library and the packages the app's
/// imports may reach (virtualenvs and `pip install --user` included; the app
/// module gunicorn, uvicorn, flask, celery or Django's settings name), a
/// Node.js app's production dependencies (the scripts `npm start`, `yarn X` or
/// `node --run X` run, with the package manager; Next.js builds), a Java
/// runtime and the app's jars, the modules and gems Perl and Ruby programs
/// may load; the paths
/// programs name (on their command lines, as strings in their binaries, in
/// the configuration they read, in the app's code: a named file or tree is
/// kept, a named path missing from the image keeps its directory); VOLUME
/// content, CA certificates, /etc/passwd and /etc/group, the user's home
/// directory, resolver files, locale data, /tmp, the WorkingDir, and time zone
/// data when something uses it. The output is one gzip layer holding the kept
/// paths, with the source's config (entrypoint, env, user, ports, labels,
/// healthcheck, ...) unchanged. The source is never changed: a target that
/// names the source image is refused unless --force-overwrite-source is given.
///
/// With --probe, the source image also runs (in the Docker engine, under
/// slimify's ptrace recorder, --network none) with the workload flags, and
/// every path the run touched is kept too. With --verify, the source and the
/// slim image run side by side after writing and must behave the same.
///
/// Exit status: 0 done; 1 error; 2 usage; 3 --verify found the slim image
/// behaves differently, or a gate (--min-ratio, --max-size) failed (the slim
/// image is written, for inspection); 130 interrupted.
#[derive(Parser, Debug)]
#[command(
    name = "slimify",
    version = env!("SLIMIFY_VERSION"),
    verbatim_doc_comment,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Sub>,

    #[command(flatten)]
    pub slim: slim::SlimArgs,
}

#[derive(Subcommand, Debug)]
pub enum Sub {
    /// Say whether each PATH would be kept from IMAGE, and the chain of
    /// reasons why (exit 0 when all are), or why not (exit 1); an error (no
    /// such path, an unreadable image) exits 2. The image is read once for
    /// all paths; --json prints them as one JSON array. Takes the same
    /// selection flags.
    Explain(explain::ExplainArgs),
    /// Slim every `SOURCE TARGET` pair of a list, sharing layers between
    /// images: a layer several images have (by diff_id) is downloaded and
    /// decompressed once per run. Prints a table (image, before, after, ratio,
    /// seconds, status) to stdout; exits 1 if any image failed, after trying
    /// every one. Takes the selection, limit and registry flags too.
    Batch(batch::BatchArgs),
    /// Run FAT and SLIM (engine images) under the same workload and compare
    /// what they do: exit status, stdout and stderr, HTTP responses, --exec
    /// commands, the healthcheck. Exit 0 when they behave the same, 3 when
    /// they differ (with a short diff and the missing paths the slim run's
    /// errors name, each with the --include that keeps it).
    Verify(verify::VerifyArgs),
    /// Print a completion script for SHELL to stdout: `slimify completions
    /// bash > /etc/bash_completion.d/slimify` (zsh: a file `_slimify` on
    /// $fpath; fish: ~/.config/fish/completions/slimify.fish).
    Completions(docs::CompletionsArgs),
    /// Print slimify's man page (roff) to stdout: `slimify man >
    /// /usr/local/share/man/man1/slimify.1`.
    Man,
}

/// The end of `--help`: three runs people start from.
const EXAMPLES: &str = "\
Examples:
  # Slim an image of the local engine, with a report of why each path stays
  slimify myapp:fat -o myapp:slim --report slim.json

  # In CI: run both images under a request, fail unless they answer alike
  # and the slim one is at least 3x smaller; write its SBOM for the scanners
  slimify myapp:fat -o myapp:slim --verify --http-get /health --min-ratio 3 --sbom slim.cdx.json

  # Why is a file kept (or dropped)?
  slimify explain myapp:fat /usr/lib/x86_64-linux-gnu/libssl.so.3";

/// The names of the subcommands, for "did you mean".
pub const SUBCOMMANDS: &[&str] = &["explain", "batch", "verify", "completions", "man"];

/// What to keep, how far to trust the source, how to reach registries:
/// the flags every command that reads images takes.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Slim only these platforms of a multi-platform source (repeatable or
    /// comma-separated). Default: every platform when the target can hold an
    /// image index (oci:, oci-archive:, docker://), else this machine's.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_delimiter = ',', value_parser = Platform::parse, help_heading = "Selection")]
    pub platform: Vec<Platform>,

    /// Directory for temporary spools (decompressed layers, `docker save` output).
    #[arg(
        long,
        value_name = "DIR",
        env = "SLIMIFY_TMPDIR",
        help_heading = "Reading"
    )]
    pub tmp_dir: Option<PathBuf>,

    /// Read an engine image through `docker save` (`podman save`, `ctr images
    /// export`), never in place from the engine's own store (which needs a
    /// local engine and root, and is used whenever it can be).
    #[arg(long, help_heading = "Reading")]
    pub no_in_place: bool,
}

impl ReadArgs {
    /// The run settings these flags give (writing flags at their defaults).
    pub fn settings(&self, ui: Ui) -> slimify::Result<Settings> {
        Ok(Settings {
            tmp_dir: self.tmp_dir.clone(),
            limits: self.limits.to_limits(),
            registry: self.registry.to_settings()?,
            platforms: self.platform.clone(),
            in_place: !self.no_in_place,
            ui,
            ..Settings::new(self.select.to_select())
        })
    }
}

/// How the slim image is written: the flags `slim` and `batch` share.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Output")]
pub struct WriteArgs {
    /// gzip level of the output layer (libdeflate's scale, 0-12). The default,
    /// 1, gave a layer slightly smaller than docker's own gzip on the demo image.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub compression_level: u32,

    /// Keep the uncompressed tar of every compressed layer read in DIR, by
    /// diff_id, and read layers from there when a later run needs them again.
    #[arg(long, value_name = "DIR", env = "SLIMIFY_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Write even when the target names the source image (the same engine
    /// tag, layout and tag, archive or registry reference), replacing it.
    #[arg(long)]
    pub force_overwrite_source: bool,

    /// Drop all package metadata. By default the slim image keeps what
    /// scanners read to find its packages, trimmed to what is kept: the
    /// dpkg status stanzas (or apk database entries) of packages with a
    /// kept file, their file lists and md5sums naming kept files only,
    /// their copyright files, /etc/os-release, and the dist-info or
    /// package.json of kept Python and npm packages. An RPM database is
    /// kept whole.
    #[arg(long)]
    pub no_package_metadata: bool,

    /// The format of --sbom: CycloneDX 1.5 JSON or SPDX 2.3 JSON.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = SbomFormatArg::Cyclonedx)]
    pub sbom_format: SbomFormatArg,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// How phases are shown: `tty` bars (the default when stderr is a
    /// terminal), `plain` lines, one per finished phase with its sizes and
    /// seconds (the default otherwise, for CI logs), or `none`.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = ProgressArg::Auto, hide_default_value = true)]
    pub progress: ProgressArg,
}

/// `--sbom-format` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbomFormatArg {
    Cyclonedx,
    Spdx,
}

/// `--progress` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressArg {
    Auto,
    Tty,
    Plain,
    None,
}

impl WriteArgs {
    /// What the user sees while it works. `--format json` leaves stderr to
    /// errors unless `--progress` asks for more.
    pub fn ui(&self, json: bool) -> Ui {
        let progress = match self.progress {
            ProgressArg::Auto if json => Progress::None,
            ProgressArg::Auto => Progress::Auto,
            ProgressArg::Tty => Progress::Tty,
            ProgressArg::Plain => Progress::Plain,
            ProgressArg::None => Progress::None,
        };
        Ui::with_progress(self.quiet, progress)
    }

    /// `settings` with these flags applied.
    pub fn apply(&self, settings: Settings) -> Settings {
        Settings {
            compression_level: self.compression_level,
            cache_dir: self.cache_dir.clone(),
            overwrite_source: self.force_overwrite_source,
            package_metadata: !self.no_package_metadata,
            sbom_format: match self.sbom_format {
                SbomFormatArg::Cyclonedx => slimify::SbomFormat::CycloneDx,
                SbomFormatArg::Spdx => slimify::SbomFormat::Spdx,
            },
            ..settings
        }
    }
}

/// Resource limits against hostile images (SECURITY.md); 0 turns one off.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Limits (against hostile images; 0 turns one off)")]
pub struct LimitArgs {
    /// Most uncompressed bytes all layers together may hold (K, M, G, T suffixes).
    #[arg(long, value_name = "SIZE", default_value = "64G", value_parser = slimify::parse_size)]
    pub max_image_size: u64,

    /// Most tar entries one layer may have.
    #[arg(long, value_name = "N", default_value_t = Limits::default().layer_entries)]
    pub max_entries: u64,

    /// Longest path or link target an entry may have, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().path_bytes)]
    pub max_path_length: u64,

    /// Most directory levels a path may have.
    #[arg(long, value_name = "N", default_value_t = Limits::default().path_depth)]
    pub max_path_depth: u64,

    /// Largest uncompressed:compressed ratio of a layer past 64 MiB (a
    /// decompression bomb guard).
    #[arg(long, value_name = "RATIO", default_value_t = Limits::default().compression_ratio)]
    pub max_compression_ratio: u64,
}

impl LimitArgs {
    pub fn to_limits(&self) -> Limits {
        Limits {
            image_bytes: self.max_image_size,
            layer_entries: self.max_entries,
            path_bytes: self.max_path_length,
            path_depth: self.max_path_depth,
            compression_ratio: self.max_compression_ratio,
        }
    }
}

/// How to reach registries (`docker://` sources and targets).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry (docker:// sources and targets)")]
pub struct RegistryArgs {
    /// Log in to every registry as USER:PASSWORD instead of using the Docker
    /// config file ($DOCKER_CONFIG or ~/.docker/config.json, credential helpers included).
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "SLIMIFY_CREDS",
        hide_env_values = true
    )]
    pub creds: Option<String>,

    /// Log in to the source's registry as USER:PASSWORD (over --creds).
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "SLIMIFY_SRC_CREDS",
        hide_env_values = true
    )]
    pub src_creds: Option<String>,

    /// Log in to the target's registry as USER:PASSWORD (over --creds).
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "SLIMIFY_DEST_CREDS",
        hide_env_values = true
    )]
    pub dest_creds: Option<String>,

    /// Speak plain HTTP to this registry (repeatable). TLS is verified for every other.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,

    /// Also trust the CA certificates (*.crt) in DIR (repeatable). Certificates
    /// in /etc/docker/certs.d/HOST[:PORT]/ and /etc/containers/certs.d/HOST[:PORT]/
    /// are always trusted for their registry, as by docker and skopeo.
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Vec<PathBuf>,
}

impl RegistryArgs {
    pub fn to_settings(&self) -> slimify::Result<RegistrySettings> {
        let parse = |flag, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| RegistrySettings::parse_creds(flag, v))
                .transpose()
        };
        Ok(RegistrySettings {
            creds: parse("--creds", &self.creds)?,
            src_creds: parse("--src-creds", &self.src_creds)?,
            dest_creds: parse("--dest-creds", &self.dest_creds)?,
            insecure: self.insecure_registry.clone(),
            cert_dirs: self.cert_dir.clone(),
        })
    }
}

/// What to keep: tracing (default), or exactly `--keep`; then `--exclude`.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Selection")]
pub struct SelectArgs {
    /// Keep exactly the paths matching GLOB (repeatable) instead of tracing.
    /// Patterns are absolute image paths: `*` stays within a path component,
    /// `**` crosses them; parents of kept paths are kept too. `--keep '/**'`
    /// keeps everything (a flattened copy).
    #[arg(long, value_name = "GLOB")]
    pub keep: Vec<String>,

    /// Also keep the paths matching PATH|GLOB, and trace every program or
    /// script among them (repeatable).
    #[arg(long, value_name = "PATH|GLOB", conflicts_with = "keep")]
    pub include: Vec<String>,

    /// Also trace the program NAME (found through the image's PATH) (repeatable).
    #[arg(long, value_name = "NAME", conflicts_with = "keep")]
    pub include_exe: Vec<String>,

    /// Drop the paths matching GLOB from what would be kept (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Trace as if the image were run with this entrypoint (words split on
    /// blanks, or a JSON array); like `docker run --entrypoint`, the image's
    /// Cmd is then dropped unless --cmd is given.
    #[arg(long, value_name = "CMD", conflicts_with = "keep", value_parser = split_command)]
    pub entrypoint: Option<CommandLine>,

    /// Trace as if the image were run with these arguments (blank-split or a JSON array).
    #[arg(long, value_name = "ARGS", conflicts_with = "keep", value_parser = split_command)]
    pub cmd: Option<CommandLine>,

    /// Do not keep the image's CA certificates.
    #[arg(long, conflicts_with = "keep")]
    pub no_certs: bool,

    /// Keep every installed Python package and the whole standard libraries
    /// of Python, Perl and Ruby, every codec and encoding table included,
    /// instead of only what the app's import closure reaches (for plugins
    /// or encodings named only by data at run time).
    #[arg(long, conflicts_with = "keep")]
    pub no_import_graph: bool,
}

impl SelectArgs {
    pub fn to_select(&self) -> Select {
        Select {
            keep: self.keep.clone(),
            trace: TraceOptions {
                entrypoint: self.entrypoint.clone().map(|c| c.0),
                cmd: self.cmd.clone().map(|c| c.0),
                include: self.include.clone(),
                include_exe: self.include_exe.clone(),
                certs: !self.no_certs,
                import_graph: !self.no_import_graph,
                probed: None,
            },
            exclude: self.exclude.clone(),
        }
    }
}

/// A `--entrypoint` / `--cmd` value that starts like a JSON array and is not one.
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is not a JSON array of strings")]
pub struct BadCommand {
    value: String,
    #[source]
    source: serde_json::Error,
}

/// A whole command line given as one flag value (clap would take a `Vec`
/// for a list of flag values).
#[derive(Debug, Clone)]
pub struct CommandLine(Vec<String>);

/// `--entrypoint` / `--cmd` values: a JSON array, or words split on blanks.
pub fn split_command(s: &str) -> Result<CommandLine, BadCommand> {
    if s.trim_start().starts_with('[') {
        serde_json::from_str(s)
            .map(CommandLine)
            .map_err(|source| BadCommand {
                value: s.to_string(),
                source,
            })
    } else {
        Ok(CommandLine(
            s.split_whitespace().map(str::to_string).collect(),
        ))
    }
}
