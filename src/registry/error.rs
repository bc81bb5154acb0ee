//! What can go wrong talking to a registry, with the remedy when there is
//! an obvious one.

use oci_client::errors::OciDistributionError;

use crate::digest::Mismatch;
use crate::files::PathError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{name}: not a registry reference")]
    Reference {
        name: String,
        #[source]
        source: oci_client::ParseError,
    },
    /// A request failed; the cause chain says how (refused, TLS, HTTP status).
    #[error("{what} {name}")]
    Request {
        what: String,
        name: String,
        /// `HOST[:PORT]`, for hints.
        registry: String,
        #[source]
        source: Box<OciDistributionError>,
    },
    #[error(
        "{name}: {what} of {len} bytes is larger than the {max} byte limit for image metadata"
    )]
    TooLarge {
        name: String,
        what: &'static str,
        len: u64,
        max: u64,
    },
    #[error("{what}: the registry sent {sent} of the {declared} bytes the manifest declares")]
    Short {
        what: String,
        sent: u64,
        declared: u64,
    },
    #[error("{what}: the registry sent more than the {declared} bytes the manifest declares")]
    Long { what: String, declared: u64 },
    #[error("{name}: manifest {digest} is not JSON with a mediaType")]
    NoMediaType { name: String, digest: String },
    #[error(transparent)]
    Digest(#[from] Mismatch),
    #[error(
        "{registry}: the Docker config holds an identity token for it, which slimify cannot use"
    )]
    IdentityToken { registry: String },
    #[error("{registry}: reading credentials from the Docker config failed: {message}")]
    Credentials { registry: String, message: String },
    #[error("reading the registry's CA certificates")]
    Certificates(#[source] PathError),
    #[error("storing {what}")]
    Store {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted by a signal")]
    Interrupted,
}

impl RegistryError {
    /// The remedy for errors that have an obvious one.
    pub fn hint(&self) -> Option<String> {
        match self {
            RegistryError::Request {
                registry, source, ..
            } => request_hint(registry, source),
            RegistryError::IdentityToken { .. } => Some("pass --creds USER:PASSWORD".into()),
            _ => None,
        }
    }
}

/// Why a request failed, read from the typed error and its TLS cause.
fn request_hint(registry: &str, e: &OciDistributionError) -> Option<String> {
    use OciDistributionError as E;
    let denied = match e {
        E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => true,
        E::ServerError { code, .. } => *code == 401 || *code == 403,
        E::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                oci_client::errors::OciErrorCode::Unauthorized
                    | oci_client::errors::OciErrorCode::Denied
            )
        }),
        _ => false,
    };
    if denied {
        return Some(
            "check --creds (--src-creds, --dest-creds for one side), or the Docker config file's credentials for this registry".into(),
        );
    }
    match tls_cause(e)? {
        rustls::Error::InvalidMessage(_) => Some(format!(
            "this registry speaks plain HTTP: pass --insecure-registry {registry}"
        )),
        rustls::Error::InvalidCertificate(_) => Some(format!(
            "trust the registry's CA with --cert-dir DIR, or put it in /etc/docker/certs.d/{registry}/ca.crt"
        )),
        _ => None,
    }
}

/// The TLS error at the bottom of a failed request, if that is what failed.
/// (An `io::Error`'s own `source()` skips the error it wraps, so each one
/// met on the way is opened with `get_ref`.)
fn tls_cause(e: &OciDistributionError) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        next = err.source();
    }
    None
}
