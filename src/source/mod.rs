//! Reading images: every transport ends in the same [`SourceImage`], a
//! verified config plus a list of layer blobs that can be read in parallel.

mod choose;
mod config;
mod containerd;
mod containers_storage;
mod daemon;
mod docker_archive;
mod engine;
mod engine_store;
mod error;
mod oci_layout;
mod registry;
mod store;

pub(crate) use containers_storage::podman_store_flags;

pub use choose::Want;
pub use config::ImageConfig;
pub use engine::StoreLayer;
pub use error::SourceError;

use std::path::Path;
use std::sync::Arc;

use oci_spec::image::{MediaType, ToDockerV2S2};

use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::limits::METADATA_BYTES;
use crate::reference::ImageRef;
use store::{BlobStore, TarIndex};

type Result<T, E = SourceError> = std::result::Result<T, E>;

/// How a layer blob is compressed, decided from its media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    /// `docker save` archives carry no media types; look at the magic bytes.
    Sniff,
}

/// Docker's layer media types that have no OCI twin in oci-spec's list.
const DOCKER_LAYERS: &[(&str, Compression)] = &[
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        Compression::None,
    ),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        Compression::Gzip,
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        Compression::Zstd,
    ),
];

impl Compression {
    /// The compression an OCI or Docker layer media type means.
    pub fn of_media_type(media_type: &MediaType, digest: &Digest) -> Result<Self> {
        use MediaType as M;
        Ok(match media_type {
            M::ImageLayer | M::ImageLayerNonDistributable => Compression::None,
            M::ImageLayerGzip | M::ImageLayerNonDistributableGzip => Compression::Gzip,
            M::ImageLayerZstd | M::ImageLayerNonDistributableZstd => Compression::Zstd,
            other if Some(other.as_ref()) == M::ImageLayerGzip.to_docker_v2s2().ok() => {
                Compression::Gzip
            }
            other => DOCKER_LAYERS
                .iter()
                .find(|(name, _)| *name == other.as_ref())
                .map(|(_, c)| *c)
                .ok_or_else(|| SourceError::UnsupportedMediaType {
                    digest: digest.to_string(),
                    media_type: other.to_string(),
                })?,
        })
    }
}

/// An image index: OCI's, or Docker's manifest list.
pub(crate) fn is_index(media_type: &MediaType) -> bool {
    *media_type == MediaType::ImageIndex
        || Some(media_type.as_ref()) == MediaType::ImageIndex.to_docker_v2s2().ok()
}

/// A single image's manifest: OCI's, or Docker's schema 2.
pub(crate) fn is_manifest(media_type: &MediaType) -> bool {
    *media_type == MediaType::ImageManifest
        || Some(media_type.as_ref()) == MediaType::ImageManifest.to_docker_v2s2().ok()
}

/// Where a layer's bytes are.
pub enum Blob {
    /// In a file or archive on this machine.
    Local(BlobFile),
    /// In a registry, fetched on first use: a layer whose diff_id the layer
    /// cache already holds is never downloaded.
    Remote {
        repo: Arc<crate::registry::Repo>,
        digest: Digest,
        size: u64,
    },
    /// A layer directory of the local engine's store, read in place.
    Store(StoreLayer),
}

impl Blob {
    /// Stored size, as the manifest declares it for remote blobs.
    pub fn stored_size(&self) -> u64 {
        match self {
            Blob::Local(b) => b.len(),
            Blob::Remote { size, .. } => *size,
            Blob::Store(s) => s.size,
        }
    }

    /// The bytes as a readable range, downloading a remote blob (checked for
    /// size here, for its digest by `layer::index_layer` as it reads it)
    /// into an unnamed file in `spool_dir` first.
    pub fn open(&self, spool_dir: &Path) -> Result<BlobFile> {
        match self {
            Blob::Local(b) => Ok(b.clone()),
            Blob::Remote { repo, digest, size } => {
                registry::download(repo, digest, *size, spool_dir)
            }
            Blob::Store(s) => Err(SourceError::InPlaceOnly { dir: s.dir.clone() }),
        }
    }
}

/// What a reference names: one image, or the images of an index that were asked for.
pub struct Opened {
    pub images: Vec<SourceImage>,
    /// The reference named an index (so a target that can should get one).
    pub from_index: bool,
    /// For an engine image: how it was read.
    pub engine_read: Option<EngineRead>,
}

impl Opened {
    fn single(image: SourceImage) -> Self {
        Opened {
            images: vec![image],
            from_index: false,
            engine_read: None,
        }
    }
}

/// How an image of the local engine was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineRead {
    /// In place, from the engine's layer store (`driver`: "engine's overlay2",
    /// "containers-storage overlay").
    InPlace { driver: &'static str },
    /// Exported `by` `docker save`, `podman save` or `ctr images export`;
    /// `fallback` says why not in place, unless `--no-in-place` asked for it.
    Saved {
        by: &'static str,
        fallback: Option<String>,
    },
}

impl std::fmt::Display for EngineRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineRead::InPlace { driver } => write!(f, "in place from the {driver} store"),
            EngineRead::Saved { by, fallback: None } => write!(f, "through `{by}`"),
            EngineRead::Saved {
                by,
                fallback: Some(why),
            } => write!(f, "through `{by}`: {why}"),
        }
    }
}

/// A manifest's layer descriptor: its digest and how it is compressed.
fn layer_descriptor(d: &oci_spec::image::Descriptor) -> Result<(Digest, Compression)> {
    let digest = Digest::parse(d.digest().as_ref())?;
    let compression = Compression::of_media_type(d.media_type(), &digest)?;
    Ok((digest, compression))
}

/// One layer to read: where its bytes are, how they are packed, and the
/// digests its compressed and uncompressed streams must have.
pub struct LayerBlob {
    pub blob: Blob,
    pub compression: Compression,
    /// Digest of the blob as stored; `None` for legacy `docker save` layers,
    /// which are named by directory, not digest (the diff_id still covers them).
    pub digest: Option<Digest>,
    /// The config's `rootfs.diff_ids` entry: digest of the uncompressed tar.
    pub diff_id: Digest,
}

/// A source image, fully described and verified up to the layer contents.
pub struct SourceImage {
    /// The config exactly as stored (its digest was checked).
    pub config_json: Vec<u8>,
    pub config: ImageConfig,
    pub layers: Vec<LayerBlob>,
}

impl SourceImage {
    /// Build from a verified config and the layer blobs of a manifest, checking
    /// that the config's diff_ids and the layer list line up.
    fn new(config_json: Vec<u8>, layers: Vec<(Blob, Compression, Option<Digest>)>) -> Result<Self> {
        let config = ImageConfig::parse(&config_json)?;
        let diff_ids = config.diff_ids();
        if diff_ids.len() != layers.len() {
            return Err(SourceError::DiffIdCount {
                diff_ids: diff_ids.len(),
                layers: layers.len(),
            });
        }
        let layers = layers
            .into_iter()
            .zip(diff_ids)
            .map(|((blob, compression, digest), id)| {
                Ok(LayerBlob {
                    blob,
                    compression,
                    digest,
                    diff_id: Digest::parse(id)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SourceImage {
            config_json,
            config,
            layers,
        })
    }

    /// Sum of the stored (possibly compressed) layer sizes.
    pub fn stored_size(&self) -> u64 {
        self.layers.iter().map(|l| l.blob.stored_size()).sum()
    }
}

/// Read a metadata blob whole and check it against its digest (and size, when known).
fn read_verified(
    blob: &BlobFile,
    digest: &Digest,
    size: Option<u64>,
    what: &'static str,
) -> Result<Vec<u8>> {
    let buf = blob.read_small(METADATA_BYTES)?;
    digest.verify(&Digest::of(&buf), &format!("{what} blob"))?;
    if let Some(size) = size {
        if size != buf.len() as u64 {
            return Err(SourceError::SizeMismatch {
                what,
                digest: digest.to_string(),
                declared: size,
                actual: buf.len() as u64,
            });
        }
    }
    Ok(buf)
}

/// Open any source reference; `want` says which images of an index to read.
/// `spool_dir` receives temporary copies that a transport needs (the Docker
/// engine's `docker save` stream). `in_place`: read an engine image from the
/// engine's layer store where possible (`--no-in-place` turns it off).
pub fn open(
    reference: &ImageRef,
    spool_dir: &Path,
    registry: &crate::registry::Settings,
    want: &Want,
    in_place: bool,
) -> Result<Opened> {
    let opened = match reference {
        ImageRef::Registry { reference } => registry::open(reference, registry, want)?,
        ImageRef::Daemon { name } => {
            let (image, read) = daemon::open(name, spool_dir, in_place)?;
            Opened {
                engine_read: Some(read),
                ..Opened::single(image)
            }
        }
        ImageRef::Containerd { name } => containerd::open(name, spool_dir, want, in_place)?,
        ImageRef::Storage { store, name } => {
            let (image, read) =
                containers_storage::open(store.as_deref(), name, spool_dir, in_place)?;
            Opened {
                engine_read: Some(read),
                ..Opened::single(image)
            }
        }
        ImageRef::DockerArchive { path, name } => {
            let store = BlobStore::Tar(TarIndex::scan(path)?);
            Opened::single(docker_archive::open(
                &store,
                name.as_deref(),
                &path.display().to_string(),
            )?)
        }
        ImageRef::Oci { dir, tag } => {
            if !dir.join("index.json").is_file() {
                return Err(SourceError::NotALayout { dir: dir.clone() });
            }
            oci_layout::open(
                &BlobStore::Dir(dir.clone()),
                tag.as_deref(),
                &dir.display().to_string(),
                want,
            )?
        }
        ImageRef::OciArchive { path, tag } => {
            let store = BlobStore::Tar(TarIndex::scan(path)?);
            oci_layout::open(&store, tag.as_deref(), &path.display().to_string(), want)?
        }
    };
    // A single image asked for by platform must be that platform.
    if let (false, Want::These(wanted)) = (opened.from_index, want) {
        let have = opened.images[0].config.platform();
        if !wanted.iter().any(|w| w.covers(&have)) {
            return Err(SourceError::WrongPlatform {
                reference: reference.to_string(),
                have: have.to_string(),
                wanted: wanted
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(opened)
}
