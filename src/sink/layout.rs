//! OCI image layout directories (image-spec `image-layout.md`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use oci_spec::image::{Descriptor, ImageIndex, MediaType, ANNOTATION_REF_NAME};

use super::{Output, Payload, SinkError};
use crate::files::{leftovers, parent_of, replace_file, write_atomically, IoContext, PathError};
use crate::write::index_json;

type Result<T, E = SinkError> = std::result::Result<T, E>;

pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// The index.json entry for the output, tagged `tag` (and, for archives
/// that `docker load` reads, with the full image name containerd uses): the
/// image manifest with its platform, or the image index of several.
pub fn top_descriptor(
    out: &Output,
    tag: Option<&str>,
    image_name: Option<&str>,
) -> Result<Descriptor> {
    let mut d = match out.index {
        Some(index) => crate::write::descriptor_of(
            MediaType::ImageIndex,
            index.bytes.len() as u64,
            &index.digest,
        ),
        None => out.images[0].blobs.descriptor()?,
    };
    let mut ann = std::collections::HashMap::new();
    if let Some(t) = tag {
        ann.insert(ANNOTATION_REF_NAME.to_string(), t.to_string());
    }
    if let Some(n) = image_name {
        ann.insert("io.containerd.image.name".to_string(), n.to_string());
    }
    if !ann.is_empty() {
        d.set_annotations(Some(ann));
    }
    Ok(d)
}

/// Write into `dir`: a new layout is built beside it and renamed into place;
/// an existing layout gets the new blobs (each renamed into place) and then a
/// new index.json in one rename, replacing any image with the same tag.
pub fn write_dir(dir: &Path, out: &Output, tag: Option<&str>) -> Result<()> {
    let ours = top_descriptor(out, tag, None)?;
    // Runs writing into the same layout (or creating it) take turns: the
    // parent directory's lock covers the check, the merge and the rename, so
    // no run's tag is lost and no run finds a half-made layout.
    let parent = parent_of(dir);
    let lock = fs::File::open(&parent).at(&parent)?;
    lock.lock().at(&parent)?;
    if dir.join("index.json").is_file() {
        let old = ImageIndex::from_file(dir.join("index.json")).map_err(|source| {
            SinkError::InvalidIndex {
                dir: dir.to_path_buf(),
                source,
            }
        })?;
        let ref_name = |d: &Descriptor| {
            d.annotations()
                .as_ref()
                .and_then(|a| a.get(ANNOTATION_REF_NAME))
                .cloned()
        };
        let mut manifests: Vec<Descriptor> = old
            .manifests()
            .iter()
            .filter(|d| ref_name(d).as_deref() != tag)
            .cloned()
            .collect();
        manifests.push(ours);
        write_blobs(dir, out)?;
        return Ok(replace_file(
            &dir.join("index.json"),
            &index_json(manifests)?,
        )?);
    }
    let is_empty_dir = dir.is_dir() && fs::read_dir(dir).at(dir)?.next().is_none();
    if dir.exists() && !is_empty_dir {
        return Err(SinkError::NotALayout {
            dir: dir.to_path_buf(),
        });
    }
    leftovers::remove_stale(&parent, leftovers::BESIDE_TARGET);
    let tmp = tempfile::Builder::new()
        .prefix(&leftovers::prefix(leftovers::BESIDE_TARGET))
        .tempdir_in(&parent)
        .at(&parent)?;
    fs::write(tmp.path().join("oci-layout"), OCI_LAYOUT).at(tmp.path())?;
    write_blobs(tmp.path(), out)?;
    fs::write(tmp.path().join("index.json"), index_json(vec![ours])?).at(tmp.path())?;
    // A temporary directory is private (0700); the layout is not.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).at(tmp.path())?;
    // rename(2) replaces an empty directory, so an empty target is fine too.
    let staged = tmp.keep();
    fs::rename(&staged, dir).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        PathError::new(dir, e).into()
    })
}

fn write_blobs(dir: &Path, out: &Output) -> Result<(), PathError> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).at(&blobs)?;
    for (digest, payload) in out.blobs() {
        put_blob(&blobs, digest.hex(), payload)?;
    }
    Ok(())
}

/// Content-addressed, so an existing blob is already right; a new one is
/// written to a temporary name and renamed. Not fsynced: every reader
/// verifies blobs against their digest anyway.
fn put_blob(blobs: &Path, hex: &str, payload: Payload) -> Result<(), PathError> {
    let path = blobs.join(hex);
    if path.is_file() {
        return Ok(());
    }
    write_atomically(&path, false, |w| payload.write_to(w))
}
