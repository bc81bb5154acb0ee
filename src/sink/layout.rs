//! OCI image layout directories (image-spec `image-layout.md`).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, MediaType};

use super::{leftovers, Output};
use crate::error::{Error, IoContext, Result};
use crate::source::BlobFile;

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
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
        )?,
        None => out.images[0].blobs.descriptor()?,
    };
    let mut ann = std::collections::HashMap::new();
    if let Some(t) = tag {
        ann.insert(REF_NAME.to_string(), t.to_string());
    }
    if let Some(n) = image_name {
        ann.insert("io.containerd.image.name".to_string(), n.to_string());
    }
    if !ann.is_empty() {
        d.set_annotations(Some(ann));
    }
    Ok(d)
}

/// An OCI layout's index.json is an image index like any other.
pub use crate::write::index_json;

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
        let old = ImageIndex::from_file(dir.join("index.json")).map_err(|e| {
            Error::image(format!(
                "{}: existing index.json is invalid: {e}",
                dir.display()
            ))
        })?;
        let ref_name = |d: &Descriptor| {
            d.annotations()
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
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
        return replace_file(&dir.join("index.json"), &index_json(manifests)?);
    }
    let is_empty_dir = dir.is_dir() && fs::read_dir(dir).at(dir)?.next().is_none();
    if dir.exists() && !is_empty_dir {
        return Err(Error::Usage(format!(
            "{}: exists and is not an OCI image layout; refusing to write into it",
            dir.display()
        )));
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
        Error::Io {
            path: dir.to_path_buf(),
            source: e,
        }
    })
}

fn write_blobs(dir: &Path, out: &Output) -> Result<()> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).at(&blobs)?;
    for image in &out.images {
        let b = image.blobs;
        put_blob(&blobs, b.config_digest.hex(), |w| w.write_all(&b.config))?;
        put_blob(&blobs, b.manifest_digest.hex(), |w| {
            w.write_all(&b.manifest)
        })?;
        put_blob(&blobs, image.layer_digest.hex(), |w| {
            copy_blob(image.layer, w)
        })?;
    }
    if let Some(index) = out.index {
        put_blob(&blobs, index.digest.hex(), |w| w.write_all(&index.bytes))?;
    }
    Ok(())
}

pub fn copy_blob(blob: &BlobFile, w: &mut dyn Write) -> io::Result<()> {
    io::copy(&mut blob.reader(), w).map(|_| ())
}

/// Content-addressed, so an existing blob is already right; a new one is
/// written to a temporary name and renamed. Not fsynced: every reader
/// verifies blobs against their digest anyway.
fn put_blob(
    blobs: &Path,
    hex: &str,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let path = blobs.join(hex);
    if path.is_file() {
        return Ok(());
    }
    write_atomically(&path, false, fill)
}

/// Replace a file atomically and durably.
pub fn replace_file(path: &Path, data: &[u8]) -> Result<()> {
    write_atomically(path, true, |w| w.write_all(data))
}

/// Write `path` by filling a temporary sibling (fsynced when `durable`) and
/// renaming it over `path`: readers see the old file or the new one, never a
/// part, and a failure removes the temporary file.
pub fn write_atomically(
    path: &Path,
    durable: bool,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let parent = parent_of(path);
    let mut tmp = temp_file_in(&parent)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        fill(&mut w).at(path)?;
        w.flush().at(path)?;
    }
    if durable {
        tmp.as_file().sync_all().at(path)?;
    }
    tmp.persist(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// A temporary file beside its final name, readable like any file we publish
/// (temporary files are created 0600), removed unless it is persisted.
pub fn temp_file_in(dir: &Path) -> Result<tempfile::NamedTempFile> {
    leftovers::remove_stale(dir, leftovers::BESIDE_TARGET);
    tempfile::Builder::new()
        .prefix(&leftovers::prefix(leftovers::BESIDE_TARGET))
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .at(dir)
}

pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
