//! Why an image could not be opened.

use std::path::PathBuf;

use crate::blob::SmallReadError;
use crate::digest::{InvalidDigest, Mismatch};
use crate::docker::DockerError;
use crate::files::PathError;
use crate::registry::RegistryError;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{}: not an OCI image layout (no index.json)", dir.display())]
    NotALayout { dir: PathBuf },
    #[error("{name}: not a docker-archive (no manifest.json)")]
    NotADockerArchive { name: String },
    #[error("{}: not a tar archive ({why})", path.display())]
    NotAnArchive { path: PathBuf, why: &'static str },
    #[error("{archive}: no member {member:?} in the archive")]
    NoMember { archive: String, member: String },
    #[error("blob path {0:?} leaves the image directory")]
    MemberEscapes(String),
    #[error("{name}: {what} is not valid")]
    InvalidJson {
        name: String,
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{name}: {what} is not valid")]
    InvalidSpec {
        name: String,
        what: String,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("{name}: no image tagged {tag:?} (tags present: {present})")]
    NoSuchTag {
        name: String,
        tag: String,
        present: String,
    },
    #[error("{name}: no image named {image} (present: {present})")]
    NoSuchName {
        name: String,
        image: String,
        present: String,
    },
    #[error("{name}: holds no image")]
    Empty { name: String },
    #[error("{name}: holds {count} images; name one ({how})")]
    Ambiguous {
        name: String,
        count: usize,
        how: String,
    },
    #[error("no such image in the Docker engine: {name}")]
    NoSuchImage { name: String },
    #[error("no such image in containers-storage: {name}")]
    NoSuchStorageImage { name: String },
    #[error("no such image in containerd: {name}")]
    NoSuchContainerdImage { name: String },
    #[error("{}: a layer of the engine's store is indexed in place, never opened as a blob", dir.display())]
    InPlaceOnly { dir: std::path::PathBuf },
    #[error("image index nesting deeper than {max} (a cycle?) at {digest}")]
    IndexTooDeep { max: usize, digest: String },
    #[error("{digest}: unsupported manifest media type {media_type}")]
    UnsupportedManifest { digest: String, media_type: String },
    #[error("{name}: index entry {digest} is a {media_type}, not an image manifest (nested indexes are read from OCI layouts only)")]
    NestedIndex {
        name: String,
        digest: String,
        media_type: String,
    },
    #[error("layer {digest}: unsupported media type {media_type:?}")]
    UnsupportedMediaType { digest: String, media_type: String },
    #[error("{what} {digest}: the descriptor says {declared} bytes, the blob has {actual}")]
    SizeMismatch {
        what: &'static str,
        digest: String,
        declared: u64,
        actual: u64,
    },
    #[error("{name}: config {member:?} is not named by its digest, so it cannot be verified")]
    ConfigNotByDigest { name: String, member: String },
    #[error("the image config lists {diff_ids} diff_ids but the manifest has {layers} layers")]
    DiffIdCount { diff_ids: usize, layers: usize },
    #[error("image index {index} has no {want} image (platforms: {available}){}", if *.suggest { "; pick one with --platform" } else { "" })]
    NoPlatform {
        index: String,
        want: String,
        available: String,
        suggest: bool,
    },
    #[error("image index {index} lists no platform image")]
    NoPlatformImage { index: String },
    #[error("{reference} is a single {have} image, not {wanted}")]
    WrongPlatform {
        reference: String,
        have: String,
        wanted: String,
    },
    #[error(transparent)]
    Metadata(#[from] SmallReadError),
    #[error(transparent)]
    Digest(#[from] InvalidDigest),
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Io(#[from] PathError),
}

impl SourceError {
    pub fn hint(&self) -> Option<String> {
        match self {
            SourceError::Registry(e) => e.hint(),
            SourceError::Docker(e) => e.hint(),
            SourceError::NoSuchImage { .. } => {
                Some("`docker images` lists the engine's images; build or pull it first".into())
            }
            SourceError::NoSuchContainerdImage { .. } => Some(
                "`ctr images ls` lists the images of CONTAINERD_NAMESPACE (default `default`)"
                    .into(),
            ),
            SourceError::NoSuchStorageImage { .. } => {
                Some("`podman images` lists the store's images; build or pull it first".into())
            }
            _ => None,
        }
    }
}
