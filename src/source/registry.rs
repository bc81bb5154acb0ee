//! Images in a registry (`docker://`): manifest and config are fetched and
//! verified when the image is opened; layers only when they are read.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use oci_spec::image::{ImageIndex, ImageManifest};

use super::platform::{choose, Want};
use super::{Blob, BlobFile, Opened, SourceImage, INDEX_TYPES, MANIFEST_TYPES};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::registry::{Repo, Settings};

/// Largest image config we accept.
const MAX_CONFIG: u64 = 16 << 20;

pub fn open(reference: &str, settings: &Settings, want: &Want) -> Result<Opened> {
    let repo = Arc::new(Repo::connect(reference, settings)?);
    let top = repo.manifest(None)?;
    if !INDEX_TYPES.contains(&top.media_type.as_str()) {
        return Ok(Opened {
            images: vec![image_of(&repo, &top.bytes, &top.digest)?],
            from_index: false,
        });
    }
    let index = ImageIndex::from_reader(&top.bytes[..])
        .map_err(|e| Error::image(format!("{}: image index {}: {e}", repo.name, top.digest)))?;
    let images = choose(index.manifests(), want, &top.digest)?
        .into_iter()
        .map(|chosen| {
            let digest = Digest::parse(chosen.digest().as_ref())?;
            let fetched = repo.manifest(Some(&digest))?;
            if !MANIFEST_TYPES.contains(&fetched.media_type.as_str()) {
                return Err(Error::image(format!(
                    "{}: index entry {digest} is a {}, not an image manifest (nested indexes are read from OCI layouts only)",
                    repo.name, fetched.media_type
                )));
            }
            image_of(&repo, &fetched.bytes, &fetched.digest)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Opened {
        images,
        from_index: true,
    })
}

/// The image a manifest describes, its layers left in the registry.
fn image_of(repo: &Arc<Repo>, manifest: &[u8], digest: &Digest) -> Result<SourceImage> {
    let manifest = ImageManifest::from_reader(manifest)
        .map_err(|e| Error::image(format!("{}: image manifest {digest}: {e}", repo.name)))?;
    let config = manifest.config();
    let config_digest = Digest::parse(config.digest().as_ref())?;
    if config.size() > MAX_CONFIG {
        return Err(Error::image(format!(
            "{}: config {config_digest} is {} bytes, larger than the {MAX_CONFIG} byte limit for metadata",
            repo.name,
            config.size()
        )));
    }
    let mut config_json = Vec::new();
    repo.fetch_blob(&config_digest, config.size(), &mut config_json)?;
    config_digest.verify(
        &Digest::of(&config_json),
        &format!("config of {}", repo.name),
    )?;
    let layers = manifest
        .layers()
        .iter()
        .map(|l| {
            let (digest, compression) = super::layer_descriptor(l)?;
            let blob = Blob::Remote {
                repo: repo.clone(),
                digest: digest.clone(),
                size: l.size(),
            };
            Ok((blob, compression, Some(digest)))
        })
        .collect::<Result<Vec<_>>>()?;
    SourceImage::new(config_json, layers)
}

/// Download one layer blob into an unnamed spool file (its digest is
/// verified by `layer::index_layer`, which reads it next).
pub fn download(repo: &Repo, digest: &Digest, size: u64, spool_dir: &Path) -> Result<BlobFile> {
    let file = tempfile::tempfile_in(spool_dir).at(spool_dir)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    repo.fetch_blob(digest, size, &mut w)?;
    w.flush().at(spool_dir)?;
    let file = w.into_inner().map_err(|e| e.into_error()).at(spool_dir)?;
    BlobFile::from_file(file, format!("{digest} from {}", repo.name))
}
