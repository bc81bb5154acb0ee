//! Reading images: every transport ends in the same [`SourceImage`], a verified
//! config plus a list of layer blobs that can be read in parallel.

mod blob;
mod daemon;
mod docker_archive;
mod oci_layout;
pub mod platform;
mod registry;

pub use blob::{BlobFile, BlobStore, SliceReader, TarIndex};

use std::path::Path;
use std::sync::Arc;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::reference::ImageRef;

/// How a layer blob is compressed, decided from its media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    /// `docker save` archives carry no media types; look at the magic bytes.
    Sniff,
}

impl Compression {
    /// Map an OCI or Docker layer media type to its compression.
    pub fn from_media_type(media_type: &str, digest: &Digest) -> Result<Self> {
        use Compression::*;
        let c = match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => None,
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Gzip,
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
            | "application/vnd.docker.image.rootfs.diff.tar.zstd" => Zstd,
            other => {
                return Err(Error::UnsupportedMediaType {
                    digest: digest.to_string(),
                    media_type: other.to_string(),
                })
            }
        };
        Ok(c)
    }
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
}

impl Blob {
    /// Stored size, as the manifest declares it for remote blobs.
    pub fn len(&self) -> u64 {
        match self {
            Blob::Local(b) => b.len(),
            Blob::Remote { size, .. } => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        }
    }
}

/// Index media types: OCI image index and Docker manifest list.
pub const INDEX_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Single-image manifest media types, OCI and Docker schema 2.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// What a reference names: one image, or the images of an index that were asked for.
pub struct Opened {
    pub images: Vec<SourceImage>,
    /// The reference named an index (so a target that can should get one).
    pub from_index: bool,
}

impl Opened {
    fn single(image: SourceImage) -> Self {
        Opened {
            images: vec![image],
            from_index: false,
        }
    }
}

/// A manifest's layer descriptor: its digest and how it is compressed.
pub(crate) fn layer_descriptor(d: &oci_spec::image::Descriptor) -> Result<(Digest, Compression)> {
    let digest = Digest::parse(d.digest().as_ref())?;
    let compression = Compression::from_media_type(d.media_type().as_ref(), &digest)?;
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
    pub config: serde_json::Value,
    pub layers: Vec<LayerBlob>,
}

impl SourceImage {
    /// Build from a verified config and the layer blobs of a manifest, checking
    /// that the config's diff_ids and the layer list line up.
    pub(crate) fn new(
        config_json: Vec<u8>,
        layers: Vec<(Blob, Compression, Option<Digest>)>,
    ) -> Result<Self> {
        let config: serde_json::Value = serde_json::from_slice(&config_json)
            .map_err(|e| Error::image(format!("image config is not valid JSON: {e}")))?;
        // Validate the parts of the config we rely on with the OCI types.
        oci_spec::image::ImageConfiguration::from_reader(&config_json[..]).map_err(|e| {
            Error::image(format!(
                "image config is not a valid OCI/Docker config: {e}"
            ))
        })?;
        let diff_ids = config
            .pointer("/rootfs/diff_ids")
            .and_then(|v| v.as_array())
            .ok_or_else(|| Error::image("image config has no rootfs.diff_ids"))?;
        if diff_ids.len() != layers.len() {
            return Err(Error::image(format!(
                "image config lists {} diff_ids but the manifest has {} layers",
                diff_ids.len(),
                layers.len()
            )));
        }
        let layers = layers
            .into_iter()
            .zip(diff_ids)
            .map(|((blob, compression, digest), id)| {
                let id = id
                    .as_str()
                    .ok_or_else(|| Error::image("a diff_id in the image config is not a string"))?;
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
        self.layers.iter().map(|l| l.blob.len()).sum()
    }
}

/// Open any source reference; `want` says which images of an index to read.
/// `spool_dir` receives temporary copies that a transport needs (the Docker
/// engine's `docker save` stream).
pub fn open(
    reference: &ImageRef,
    spool_dir: &Path,
    registry: &crate::registry::Settings,
    want: &platform::Want,
) -> Result<Opened> {
    let opened = match reference {
        ImageRef::Registry { reference } => registry::open(reference, registry, want)?,
        ImageRef::Daemon { name } => Opened::single(daemon::open(name, spool_dir)?),
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
                return Err(Error::image(format!(
                    "{}: not an OCI image layout (no index.json)",
                    dir.display()
                )));
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
    if let (false, platform::Want::These(wanted)) = (opened.from_index, want) {
        let have = platform::Platform::of_config(&opened.images[0].config);
        if !wanted.iter().any(|w| w.covers(&have)) {
            return Err(Error::image(format!(
                "{reference} is a single {have} image, not {}",
                wanted
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(opened)
}
