//! The image index of a multi-platform slim image: one entry per platform.

use oci_spec::image::{Arch, Descriptor, ImageIndexBuilder, MediaType, Os, PlatformBuilder};

use super::{descriptor_of, ImageBlobs};
use crate::digest::Digest;
use crate::error::{Error, Result};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A serialized index and its digest.
pub struct IndexBlob {
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

/// A serialized OCI image index of `manifests` (also an OCI layout's index.json).
pub fn index_json(manifests: Vec<Descriptor>) -> Result<Vec<u8>> {
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(|e| Error::image(format!("building an image index: {e}")))?;
    serde_json::to_vec(&index).map_err(|e| Error::image(format!("serializing an image index: {e}")))
}

impl ImageBlobs {
    /// The descriptor of this image's manifest, with its platform, as an
    /// index (or an OCI layout's index.json) lists it.
    pub fn descriptor(&self) -> Result<Descriptor> {
        let mut d = descriptor_of(
            MediaType::ImageManifest,
            self.manifest.len() as u64,
            &self.manifest_digest,
        )?;
        let mut platform = PlatformBuilder::default()
            .os(Os::from(self.os.as_str()))
            .architecture(Arch::from(self.architecture.as_str()));
        if let Some(v) = &self.variant {
            platform = platform.variant(v.clone());
        }
        d.set_platform(Some(
            platform
                .build()
                .map_err(|e| Error::image(format!("platform: {e}")))?,
        ));
        Ok(d)
    }
}

/// An OCI image index listing `images` in order.
pub fn index_of(images: &[&ImageBlobs]) -> Result<IndexBlob> {
    let manifests = images
        .iter()
        .map(|b| b.descriptor())
        .collect::<Result<Vec<_>>>()?;
    let bytes = index_json(manifests)?;
    Ok(IndexBlob {
        digest: Digest::of(&bytes),
        bytes,
    })
}
