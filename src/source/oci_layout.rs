//! The OCI image layout (image-spec `image-layout.md`), as a directory or a tar.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use super::platform::{choose, Want};
use super::{BlobStore, Opened, SourceImage};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};

/// The annotation that carries the tag in an OCI layout's index.json.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Nested indexes deeper than this are refused (and a cycle is caught by it).
const MAX_INDEX_DEPTH: usize = 8;

pub fn open(store: &BlobStore, tag: Option<&str>, name: &str, want: &Want) -> Result<Opened> {
    let index_file = store.open("index.json")?;
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut index_file.reader(), &mut raw).at(&index_file.name)?;
    let index = ImageIndex::from_reader(&raw[..])
        .map_err(|e| Error::image(format!("{name}: invalid index.json: {e}")))?;
    let top = pick_by_tag(index.manifests(), tag, name)?;
    let (manifests, from_index) = resolve(store, top, want, 0)?;
    let images = manifests
        .iter()
        .map(|m| read_manifest(store, m))
        .collect::<Result<Vec<_>>>()?;
    Ok(Opened { images, from_index })
}

/// Choose the index entry that a tag names, or the only one when no tag is given.
fn pick_by_tag<'a>(
    entries: &'a [Descriptor],
    tag: Option<&str>,
    name: &str,
) -> Result<&'a Descriptor> {
    let ref_name = |d: &Descriptor| {
        d.annotations()
            .as_ref()
            .and_then(|a| a.get(REF_NAME))
            .cloned()
    };
    match tag {
        Some(tag) => entries
            .iter()
            .find(|d| ref_name(d).as_deref() == Some(tag))
            .ok_or_else(|| {
                let known: Vec<String> = entries.iter().filter_map(ref_name).collect();
                Error::image(format!(
                    "{name}: no image tagged {tag:?} (tags present: {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ))
            }),
        None => match entries {
            [one] => Ok(one),
            [] => Err(Error::image(format!("{name}: the layout holds no image"))),
            many => {
                let known: Vec<String> = many.iter().filter_map(ref_name).collect();
                Err(Error::image(format!(
                    "{name}: the layout holds {} images; name one with :TAG (tags present: {})",
                    many.len(),
                    known.join(", ")
                )))
            }
        },
    }
}

/// Follow an entry down to image manifests: an index (or Docker manifest
/// list, nested or not) gives the images `want` selects. Returns them and
/// whether an index was crossed.
fn resolve(
    store: &BlobStore,
    desc: &Descriptor,
    want: &Want,
    depth: usize,
) -> Result<(Vec<ImageManifest>, bool)> {
    if depth > MAX_INDEX_DEPTH {
        return Err(Error::image(format!(
            "image index nesting deeper than {MAX_INDEX_DEPTH} (a cycle?) at {}",
            desc.digest()
        )));
    }
    let digest = Digest::parse(desc.digest().as_ref())?;
    let blob = store.open_blob(&digest)?;
    let raw = blob.read_verified(&digest, Some(desc.size()), "manifest")?;
    let media_type = desc.media_type().to_string();
    if super::INDEX_TYPES.contains(&media_type.as_str()) {
        let index = ImageIndex::from_reader(&raw[..])
            .map_err(|e| Error::image(format!("image index {digest}: {e}")))?;
        let mut images = Vec::new();
        for chosen in choose(index.manifests(), want, &digest)? {
            images.extend(resolve(store, chosen, want, depth + 1)?.0);
        }
        return Ok((images, true));
    }
    if super::MANIFEST_TYPES.contains(&media_type.as_str()) {
        let manifest = ImageManifest::from_reader(&raw[..])
            .map_err(|e| Error::image(format!("image manifest {digest}: {e}")))?;
        return Ok((vec![manifest], false));
    }
    Err(Error::image(format!(
        "{digest}: unsupported manifest media type {media_type}"
    )))
}

fn read_manifest(store: &BlobStore, manifest: &ImageManifest) -> Result<SourceImage> {
    let config_desc = manifest.config();
    let config_digest = Digest::parse(config_desc.digest().as_ref())?;
    let config_json = store.open_blob(&config_digest)?.read_verified(
        &config_digest,
        Some(config_desc.size()),
        "config",
    )?;
    let layers = manifest
        .layers()
        .iter()
        .map(|l| {
            let (digest, compression) = super::layer_descriptor(l)?;
            let blob = store.open_blob(&digest)?;
            if blob.len() != l.size() {
                return Err(Error::image(format!(
                    "layer {digest}: manifest says {} bytes, blob has {}",
                    l.size(),
                    blob.len()
                )));
            }
            Ok((super::Blob::Local(blob), compression, Some(digest)))
        })
        .collect::<Result<Vec<_>>>()?;
    SourceImage::new(config_json, layers)
}
