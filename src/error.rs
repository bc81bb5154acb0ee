//! One error type for the whole pipeline.
//!
//! Every variant carries the thing it is about (a path, a digest, a layer, a
//! reference) so that the one line `main` prints is enough to act on.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The image reference could not be parsed or names an unknown transport.
    #[error("{0}")]
    Reference(String),

    /// A blob's content does not hash to the digest that names it.
    #[error(
        "{what} {expected}: digest mismatch (content hashes to {actual}); the image is corrupt"
    )]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    /// A layer's media type is not one we can decompress.
    #[error("layer {digest}: unsupported media type {media_type:?}")]
    UnsupportedMediaType { digest: String, media_type: String },

    /// Reading or decoding one layer failed (truncated stream, bad tar, ...).
    #[error("layer {layer} ({digest}): {reason}")]
    Layer {
        layer: usize,
        digest: String,
        reason: String,
    },

    /// The image metadata (index, manifest, config) is missing or malformed.
    #[error("{0}")]
    Image(String),

    /// The Docker engine (or its CLI) refused or failed.
    #[error("docker: {0}")]
    Docker(String),

    /// A registry refused or failed a request.
    #[error("registry: {0}")]
    Registry(String),

    /// A command-line option was given a value we cannot use.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn image(msg: impl Into<String>) -> Self {
        Error::Image(msg.into())
    }
}

/// Attach a path to an `io::Error`, the way `fs-err` does, so no I/O error is
/// reported without the file it is about.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}
