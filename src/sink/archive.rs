//! `oci-archive:` and `docker-archive:` targets.
//!
//! Both are written as a tar of an OCI layout; a docker-archive adds the
//! `manifest.json` that `docker load` reads, which is what Docker 25 and later
//! write too, so one archive serves Docker engines old and new. The tar itself
//! is deterministic (fixed order, mode, owner and mtime).

use std::io::{self, Write};
use std::path::Path;

use serde_json::json;

use super::layout::{top_descriptor, OCI_LAYOUT};
use super::{Output, Payload, SinkError};
use crate::files::write_atomically;
use crate::write::index_json;

pub enum Flavor<'a> {
    /// `oci-archive:PATH[:TAG]`
    Oci(Option<&'a str>),
    /// `docker-archive:PATH[:NAME:TAG]`
    Docker(Option<&'a str>),
}

/// Write the archive to a temporary file beside `path`, then rename it over.
pub fn write_atomic(path: &Path, out: &Output, flavor: Flavor) -> Result<(), SinkError> {
    if path.is_dir() {
        return Err(SinkError::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(write_atomically(path, true, |w| {
        write_archive(w, out, &flavor)
    })?)
}

/// A docker-archive holds one image (the sink checks); an OCI archive may
/// hold the several images of an index.
pub fn write_archive(w: &mut dyn Write, out: &Output, flavor: &Flavor) -> io::Result<()> {
    let (tag, docker_name) = match flavor {
        Flavor::Oci(tag) => (*tag, None),
        // containerd and Docker 25+ tag with the short tag plus the full name.
        Flavor::Docker(name) => (name.and_then(|n| n.rsplit_once(':').map(|(_, t)| t)), *name),
    };
    let desc = top_descriptor(out, tag, docker_name).map_err(io::Error::other)?;
    let index = index_json(vec![desc]).map_err(io::Error::other)?;
    let member = |d: &crate::digest::Digest| format!("blobs/sha256/{}", d.hex());

    let mut tar = tar::Builder::new(w);
    dir(&mut tar, "blobs/")?;
    dir(&mut tar, "blobs/sha256/")?;
    // Every blob once, in name order: small JSON documents and layer files.
    for (digest, payload) in out.blobs() {
        let mut h = file_header(payload.len());
        match payload {
            Payload::File(layer) => tar.append_data(&mut h, member(digest), &mut layer.reader())?,
            Payload::Bytes(data) => tar.append_data(&mut h, member(digest), data)?,
        }
    }
    file(&mut tar, "index.json", &index)?;
    if let Flavor::Docker(name) = flavor {
        let image = &out.images[0];
        let manifest = json!([{
            "Config": member(&image.blobs.config_digest),
            "RepoTags": name.map(|n| vec![n]).unwrap_or_default(),
            "Layers": [member(image.layer_digest)],
        }]);
        file(&mut tar, "manifest.json", manifest.to_string().as_bytes())?;
    }
    file(&mut tar, "oci-layout", OCI_LAYOUT)?;
    tar.into_inner()?.flush()?;
    Ok(())
}

fn file_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

fn file<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> io::Result<()> {
    let mut h = file_header(data.len() as u64);
    tar.append_data(&mut h, name, data)
}

fn dir<W: Write>(tar: &mut tar::Builder<W>, name: &str) -> io::Result<()> {
    let mut h = file_header(0);
    h.set_mode(0o755);
    h.set_entry_type(tar::EntryType::Directory);
    tar.append_data(&mut h, name, io::empty())
}

/// Write `out` as a docker-archive tagged `name` into `spool_dir`, hand it to
/// an engine's load (`docker load`, `podman load`: `by`), and require that
/// the engine says it loaded `name` (podman puts an unqualified name under
/// localhost/, which still contains it).
pub(super) fn load_into_engine(
    by: &'static str,
    name: &str,
    out: &super::Output,
    spool_dir: &Path,
    load: impl FnOnce(&str) -> Result<String, crate::docker::DockerError>,
) -> Result<(), super::SinkError> {
    let archive = spool_dir.join(format!("{}.tar", by.replace(' ', "-")));
    write_atomic(&archive, out, Flavor::Docker(Some(name)))?;
    let said = load(&archive.to_string_lossy())?;
    if !said.contains(name) {
        return Err(super::SinkError::NotLoaded {
            by,
            name: name.into(),
            said: said.trim().into(),
        });
    }
    Ok(())
}
