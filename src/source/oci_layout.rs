//! The OCI image layout (image-spec `image-layout.md`), as a directory or a tar.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, ANNOTATION_REF_NAME};

use super::choose::{choose, Want};
use super::store::BlobStore;
use super::{is_index, is_manifest, read_verified, Opened, Result, SourceError, SourceImage};
use crate::digest::Digest;
use crate::limits::METADATA_BYTES;

/// Nested indexes deeper than this are refused (and a cycle is caught by it).
const MAX_INDEX_DEPTH: usize = 8;

pub fn open(store: &BlobStore, tag: Option<&str>, name: &str, want: &Want) -> Result<Opened> {
    let raw = store.open("index.json")?.read_small(METADATA_BYTES)?;
    let index = ImageIndex::from_reader(&raw[..]).map_err(|source| SourceError::InvalidSpec {
        name: name.into(),
        what: "index.json".into(),
        source,
    })?;
    let top = pick_by_tag(index.manifests(), tag, name)?;
    open_top(store, top, want)
}

/// The image(s) `top` (a manifest or an index in `store`) describes.
pub fn open_top(store: &BlobStore, top: &Descriptor, want: &Want) -> Result<Opened> {
    let (manifests, from_index) = resolve(store, top, want, 0)?;
    let images = manifests
        .iter()
        .map(|m| read_manifest(store, m))
        .collect::<Result<Vec<_>>>()?;
    Ok(Opened {
        images,
        from_index,
        engine_read: None,
    })
}

/// The tag an index.json entry carries.
fn ref_name(d: &Descriptor) -> Option<String> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_REF_NAME))
        .cloned()
}

/// Choose the index entry that a tag names, or the only one when no tag is given.
fn pick_by_tag<'a>(
    entries: &'a [Descriptor],
    tag: Option<&str>,
    name: &str,
) -> Result<&'a Descriptor> {
    let tags = || {
        let known: Vec<String> = entries.iter().filter_map(ref_name).collect();
        if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        }
    };
    match tag {
        Some(tag) => entries
            .iter()
            .find(|d| ref_name(d).as_deref() == Some(tag))
            .ok_or_else(|| SourceError::NoSuchTag {
                name: name.into(),
                tag: tag.into(),
                present: tags(),
            }),
        None => match entries {
            [one] => Ok(one),
            [] => Err(SourceError::Empty { name: name.into() }),
            many => Err(SourceError::Ambiguous {
                name: name.into(),
                count: many.len(),
                how: format!("with :TAG; tags present: {}", tags()),
            }),
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
        return Err(SourceError::IndexTooDeep {
            max: MAX_INDEX_DEPTH,
            digest: desc.digest().to_string(),
        });
    }
    let digest = Digest::parse(desc.digest().as_ref())?;
    let raw = read_verified(
        &store.open_blob(&digest)?,
        &digest,
        Some(desc.size()),
        "manifest",
    )?;
    let media_type = desc.media_type();
    let invalid = |what: &str| {
        let what = format!("{what} {digest}");
        move |source| SourceError::InvalidSpec {
            name: "the layout".into(),
            what,
            source,
        }
    };
    if is_index(media_type) {
        let index = ImageIndex::from_reader(&raw[..]).map_err(invalid("image index"))?;
        let mut images = Vec::new();
        for chosen in choose(index.manifests(), want, &digest)? {
            images.extend(resolve(store, chosen, want, depth + 1)?.0);
        }
        return Ok((images, true));
    }
    if is_manifest(media_type) {
        let manifest = ImageManifest::from_reader(&raw[..]).map_err(invalid("image manifest"))?;
        return Ok((vec![manifest], false));
    }
    Err(SourceError::UnsupportedManifest {
        digest: digest.to_string(),
        media_type: media_type.to_string(),
    })
}

fn read_manifest(store: &BlobStore, manifest: &ImageManifest) -> Result<SourceImage> {
    let config_desc = manifest.config();
    let config_digest = Digest::parse(config_desc.digest().as_ref())?;
    let config_json = read_verified(
        &store.open_blob(&config_digest)?,
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
                return Err(SourceError::SizeMismatch {
                    what: "layer",
                    digest: digest.to_string(),
                    declared: l.size(),
                    actual: blob.len(),
                });
            }
            Ok((super::Blob::Local(blob), compression, Some(digest)))
        })
        .collect::<Result<Vec<_>>>()?;
    SourceImage::new(config_json, layers)
}
