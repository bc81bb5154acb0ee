//! The image index of a multi-platform slim image: one entry per platform.

use oci_spec::image::{Arch, Descriptor, ImageIndexBuilder, MediaType, Os, PlatformBuilder};

use super::{descriptor_of, ImageBlobs, WriteError};
use crate::digest::Digest;

/// A serialized index and its digest.
pub struct IndexBlob {
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

/// A serialized OCI image index of `manifests` (also an OCI layout's index.json).
pub fn index_json(manifests: Vec<Descriptor>) -> Result<Vec<u8>, WriteError> {
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(|e| WriteError::Spec("image index", e))?;
    serde_json::to_vec(&index).map_err(|e| WriteError::Json("image index", e))
}

impl ImageBlobs {
    /// The descriptor of this image's manifest, with its platform, as an
    /// index (or an OCI layout's index.json) lists it.
    pub fn descriptor(&self) -> Result<Descriptor, WriteError> {
        let mut d = descriptor_of(
            MediaType::ImageManifest,
            self.manifest.len() as u64,
            &self.manifest_digest,
        );
        let p = &self.platform;
        let mut platform = PlatformBuilder::default()
            .os(Os::from(p.os.as_str()))
            .architecture(Arch::from(p.architecture.as_str()));
        if let Some(v) = &p.variant {
            platform = platform.variant(v.clone());
        }
        d.set_platform(Some(
            platform
                .build()
                .map_err(|e| WriteError::Spec("platform", e))?,
        ));
        Ok(d)
    }
}

/// An OCI image index listing `images` in order.
pub fn index_of(images: &[&ImageBlobs]) -> Result<IndexBlob, WriteError> {
    let manifests = images
        .iter()
        .map(|b| b.descriptor())
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = index_json(manifests)?;
    Ok(IndexBlob {
        digest: Digest::of(&bytes),
        bytes,
    })
}
