//! `oci-archive:` and `docker-archive:` targets.
//!
//! Both are written as a tar of an OCI layout; a docker-archive adds the
//! `manifest.json` that `docker load` reads, which is what Docker 25 and later
//! write too, so one archive serves Docker engines old and new. The tar itself
//! is deterministic (fixed order, mode, owner and mtime).

use std::io::{self, Write};
use std::path::Path;

use serde_json::json;

use super::layout::{index_json, manifest_descriptor, write_atomically, OCI_LAYOUT};
use super::OutputImage;
use crate::error::{Error, Result};

pub enum Flavor<'a> {
    /// `oci-archive:PATH[:TAG]`
    Oci(Option<&'a str>),
    /// `docker-archive:PATH[:NAME:TAG]`
    Docker(Option<&'a str>),
}

/// Write the archive to a temporary file beside `path`, then rename it over.
pub fn write_atomic(path: &Path, image: &OutputImage, flavor: Flavor) -> Result<()> {
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{}: is a directory, expected an archive file path",
            path.display()
        )));
    }
    write_atomically(path, true, |w| write_archive(w, image, &flavor))
}

pub fn write_archive(w: &mut dyn Write, image: &OutputImage, flavor: &Flavor) -> io::Result<()> {
    let b = image.blobs;
    let (tag, docker_name) = match flavor {
        Flavor::Oci(tag) => (*tag, None),
        // containerd and Docker 25+ tag with the short tag plus the full name.
        Flavor::Docker(name) => (name.and_then(|n| n.rsplit_once(':').map(|(_, t)| t)), *name),
    };
    let desc = manifest_descriptor(b, tag, docker_name).map_err(io::Error::other)?;
    let index = index_json(vec![desc]).map_err(io::Error::other)?;
    let config_member = format!("blobs/sha256/{}", b.config_digest.hex());
    let layer_member = format!("blobs/sha256/{}", image.layer_digest.hex());

    let mut tar = tar::Builder::new(w);
    dir(&mut tar, "blobs/")?;
    dir(&mut tar, "blobs/sha256/")?;
    let mut blobs = vec![
        (config_member.clone(), None),
        (format!("blobs/sha256/{}", b.manifest_digest.hex()), None),
        (layer_member.clone(), Some(image.layer)),
    ];
    blobs.sort_by(|a, c| a.0.cmp(&c.0));
    for (member, layer) in blobs {
        match layer {
            Some(layer) => {
                let mut h = file_header(layer.len());
                let mut r = layer.reader();
                tar.append_data(&mut h, &member, &mut r)?;
            }
            None => {
                let data: &[u8] = if member == config_member {
                    &b.config
                } else {
                    &b.manifest
                };
                file(&mut tar, &member, data)?;
            }
        }
    }
    file(&mut tar, "index.json", &index)?;
    if let Flavor::Docker(name) = flavor {
        let manifest = json!([{
            "Config": config_member,
            "RepoTags": name.map(|n| vec![n]).unwrap_or_default(),
            "Layers": [layer_member],
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
