//! Images in a registry (`docker://`): manifest and config are fetched and
//! verified when the image is opened; layers only when they are read.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use oci_spec::image::{ImageIndex, ImageManifest, MediaType};

use super::choose::{choose, Want};
use super::{is_index, is_manifest, Blob, Opened, Result, SourceError, SourceImage};
use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::files::IoContext;
use crate::limits::METADATA_BYTES;
use crate::registry::{RegistryError, Repo, Role, Settings};

pub fn open(reference: &str, settings: &Settings, want: &Want) -> Result<Opened> {
    let repo = Arc::new(Repo::connect(reference, settings, Role::Source)?);
    let top = repo.manifest(None)?;
    if !is_index(&MediaType::from(top.media_type.as_str())) {
        return Ok(Opened {
            images: vec![image_of(&repo, &top.bytes, &top.digest)?],
            from_index: false,
            engine_read: None,
        });
    }
    let index =
        ImageIndex::from_reader(&top.bytes[..]).map_err(|source| SourceError::InvalidSpec {
            name: repo.name.clone(),
            what: format!("image index {}", top.digest),
            source,
        })?;
    let images = choose(index.manifests(), want, &top.digest)?
        .into_iter()
        .map(|chosen| {
            let digest = Digest::parse(chosen.digest().as_ref())?;
            let fetched = repo.manifest(Some(&digest))?;
            if !is_manifest(&MediaType::from(fetched.media_type.as_str())) {
                return Err(SourceError::NestedIndex {
                    name: repo.name.clone(),
                    digest: digest.to_string(),
                    media_type: fetched.media_type,
                });
            }
            image_of(&repo, &fetched.bytes, &fetched.digest)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Opened {
        images,
        from_index: true,
        engine_read: None,
    })
}

/// The image a manifest describes, its layers left in the registry.
fn image_of(repo: &Arc<Repo>, manifest: &[u8], digest: &Digest) -> Result<SourceImage> {
    let manifest =
        ImageManifest::from_reader(manifest).map_err(|source| SourceError::InvalidSpec {
            name: repo.name.clone(),
            what: format!("image manifest {digest}"),
            source,
        })?;
    let config = manifest.config();
    let config_digest = Digest::parse(config.digest().as_ref())?;
    if config.size() > METADATA_BYTES {
        return Err(RegistryError::TooLarge {
            name: repo.name.clone(),
            what: "config",
            len: config.size(),
            max: METADATA_BYTES,
        }
        .into());
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
    Ok(BlobFile::from_file(
        file,
        format!("{digest} from {}", repo.name),
    )?)
}
