//! The slim image's config and manifest.
//!
//! The config is carried as JSON rather than through oci-spec's typed struct:
//! the typed round trip drops Docker-only keys such as `Healthcheck` and
//! `OnBuild`, and everything under `config` (Entrypoint, Cmd, Env, WorkingDir,
//! User, ExposedPorts, Volumes, Labels, StopSignal, Healthcheck, ...) must
//! reach the slim image unchanged. Only the layer list and history change.

use std::str::FromStr;

use oci_spec::image::{Descriptor, ImageManifestBuilder, MediaType};
use serde_json::{json, Value};

use super::{WriteError, WrittenLayer};
use crate::digest::Digest;
use crate::platform::Platform;

/// Serialized config and manifest of one image, with their digests.
pub struct ImageBlobs {
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
    /// What index entries say it runs on.
    pub platform: Platform,
}

/// Keys that describe the build container rather than the image.
const BUILD_ONLY_KEYS: &[&str] = &["container", "container_config", "id", "parent"];

/// The slim config (the source's `config_json` with one layer and one
/// history entry) and its manifest.
pub fn slim_config(
    config_json: &[u8],
    platform: Platform,
    layer: &WrittenLayer,
    source_layers: usize,
) -> Result<ImageBlobs, WriteError> {
    let mut config: Value =
        serde_json::from_slice(config_json).map_err(|e| WriteError::Json("config", e))?;
    let obj = config.as_object_mut().ok_or(WriteError::Config)?;
    for key in BUILD_ONLY_KEYS {
        obj.remove(*key);
    }
    obj.insert(
        "rootfs".into(),
        json!({ "type": "layers", "diff_ids": [layer.diff_id.as_str()] }),
    );
    // History: one entry for the one layer. Its date is the source's, so the
    // same input always gives the same config digest.
    let mut entry = json!({
        "created_by": format!("slimify {}", env!("CARGO_PKG_VERSION")),
        "comment": format!("flattened from {source_layers} layer(s) and slimmed by slimify"),
    });
    if let Some(created) = obj.get("created") {
        entry["created"] = created.clone();
    }
    obj.insert("history".into(), json!([entry]));

    let config_bytes = serde_json::to_vec(&config).map_err(|e| WriteError::Json("config", e))?;
    let config_digest = Digest::of(&config_bytes);
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor_of(
            MediaType::ImageConfig,
            config_bytes.len() as u64,
            &config_digest,
        ))
        .layers(vec![descriptor_of(
            MediaType::ImageLayerGzip,
            layer.size,
            &layer.digest,
        )])
        .build()
        .map_err(|e| WriteError::Spec("manifest", e))?;
    let manifest_bytes =
        serde_json::to_vec(&manifest).map_err(|e| WriteError::Json("manifest", e))?;
    Ok(ImageBlobs {
        manifest_digest: Digest::of(&manifest_bytes),
        manifest: manifest_bytes,
        config: config_bytes,
        config_digest,
        platform,
    })
}

/// A descriptor of a blob slimify wrote (its digest is always a valid sha256).
pub fn descriptor_of(media_type: MediaType, size: u64, digest: &Digest) -> Descriptor {
    let d = oci_spec::image::Digest::from_str(digest.as_str())
        .expect("a sha256 digest slimify computed is a valid OCI digest");
    Descriptor::new(media_type, size, d)
}
