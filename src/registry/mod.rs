//! Registries: the OCI distribution API behind `docker://` references.
//!
//! The HTTP, token and chunked-upload work is oci-client's. It is async and
//! the pipeline is not, so one tokio runtime per process runs its futures and
//! [`Repo`] offers blocking calls that rayon threads can make concurrently.
//! Credentials come from `--creds` (`--src-creds`, `--dest-creds`) or the Docker config file
//! ([`auth`]); TLS is verified against the system roots plus the per-registry
//! CA directories Docker and Podman read ([`tls`]); plain HTTP only for hosts
//! named with `--insecure-registry`.

mod auth;
mod error;
mod repo;
mod tls;

pub use error::RegistryError;
pub use repo::Repo;

use std::path::PathBuf;
use std::sync::OnceLock;

/// How to reach registries: from the command line, the same for every image.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `--creds USER:PASSWORD`, used for every registry instead of the Docker config.
    pub creds: Option<(String, String)>,
    /// `--src-creds`: for reading sources only, over `creds` (skopeo's flag).
    pub src_creds: Option<(String, String)>,
    /// `--dest-creds`: for writing targets only, over `creds`.
    pub dest_creds: Option<(String, String)>,
    /// `--insecure-registry HOST[:PORT]`: spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// `--cert-dir DIR`: more CA certificates (`*.crt`) to trust.
    pub cert_dirs: Vec<PathBuf>,
}

impl Settings {
    /// Parse the value of `flag` (`--creds USER:PASSWORD`; the password may contain `:`).
    pub fn parse_creds(flag: &'static str, s: &str) -> Result<(String, String), BadCreds> {
        match s.split_once(':') {
            Some((u, p)) if !u.is_empty() => Ok((u.to_string(), p.to_string())),
            _ => Err(BadCreds { flag }),
        }
    }

    /// The credentials given on the command line for `role`: its own flag's,
    /// else `--creds`.
    pub(crate) fn creds_for(&self, role: Role) -> Option<&(String, String)> {
        match role {
            Role::Source => self.src_creds.as_ref(),
            Role::Target => self.dest_creds.as_ref(),
        }
        .or(self.creds.as_ref())
    }
}

/// Whether a registry is read from or written to: the two may need
/// different credentials (`--src-creds`, `--dest-creds`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Source,
    Target,
}

/// A credentials flag's value without a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} must be USER:PASSWORD (the password may be empty)")]
pub struct BadCreds {
    pub flag: &'static str,
}

/// The process's async runtime, started on first use. Two workers are plenty:
/// the work is waiting on sockets; hashing and inflating happen on our threads.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("slimify-registry")
            .enable_all()
            .build()
            .expect("cannot start the async runtime for registry I/O")
    })
}

/// Run a future to completion from synchronous code (never from a runtime thread).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}
