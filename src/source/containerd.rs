//! containerd's image store (`containerd:NAME`), as ctr and nerdctl see it:
//! the socket of CONTAINERD_ADDRESS (default /run/containerd/containerd.sock)
//! and the namespace of CONTAINERD_NAMESPACE (default `default`), which `ctr`
//! reads itself.
//!
//! containerd keeps every blob it holds (indexes, manifests, configs and the
//! layers as pulled, compressed or not) in its content store, a directory of
//! `blobs/sha256/<hex>` files: the shape of an OCI layout without its
//! index.json. So `ctr images ls` names the image's top descriptor, `ctr
//! plugins ls` the content store's directory, and the image is read from
//! there like a layout: layer blobs straight from their files, nothing
//! exported or copied. If the directory cannot be read (slimify is not
//! root), the image is exported with `ctr images export` instead, saying why.

use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, MediaType};

use super::choose::Want;
use super::engine::{cannot_read, read_small, Fallback};
use super::store::{BlobStore, TarIndex};
use super::{oci_layout, EngineRead, Opened, Result, SourceError, SourceImage};
use crate::digest::{Digest, InvalidDigest};
use crate::docker::{self, Cli, DockerError};
use crate::reference::containerd_name;

fn ctr(args: &[&str]) -> Result<String> {
    Ok(docker::run_cli(Cli::Ctr, args)?)
}

pub fn open(name: &str, spool_dir: &Path, want: &Want, in_place: bool) -> Result<Opened> {
    // As given (what `ctr images import` of a short-named archive stores),
    // else as nerdctl and `ctr images pull` store it.
    let mut row = None;
    let full = containerd_name(name);
    for candidate in [name, full.as_str()] {
        let listed = ctr(&["images", "ls", &format!("name=={candidate}")])?;
        // REF TYPE DIGEST SIZE PLATFORMS LABELS, after a header line.
        row = listed
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|cols| cols.first().map(String::as_str) == Some(candidate));
        if row.is_some() {
            break;
        }
    }
    let row = row.ok_or_else(|| SourceError::NoSuchContainerdImage { name: full.clone() })?;
    let found = row[0].clone();
    let (media_type, digest) = match row.as_slice() {
        [_, t, d, ..] => (MediaType::from(t.as_str()), Digest::parse(d)?),
        _ => {
            return Err(SourceError::Docker(DockerError::Failed {
                cli: "ctr",
                verb: "images ls".into(),
                message: format!("unexpected answer: {}", row.join(" ")),
            }))
        }
    };
    let shown = format!("containerd:{name}");
    let fallback = if in_place {
        match content_root().and_then(|root| {
            let blob = root.join("blobs/sha256").join(digest.hex());
            let size = std::fs::metadata(&blob)
                .map_err(|e| cannot_read(&blob, &e))?
                .len();
            Ok((root, size))
        }) {
            Ok((root, size)) => {
                let top = descriptor(media_type, size, &digest)?;
                let mut opened = oci_layout::open_top(&BlobStore::Dir(root), &top, want)?;
                opened.engine_read = Some(EngineRead::InPlace {
                    driver: "containerd content",
                });
                return Ok(opened);
            }
            Err(why) => Some(why),
        }
    } else {
        None
    };
    let tar = spool_dir.join("ctr-export.tar");
    ctr(&["images", "export", &tar.to_string_lossy(), &found])?;
    let archive = BlobStore::Tar(TarIndex::scan(&tar)?);
    let mut opened = oci_layout::open(&archive, None, &shown, want)?;
    opened.engine_read = Some(EngineRead::Saved {
        by: "ctr images export",
        fallback,
    });
    Ok(opened)
}

fn descriptor(media_type: MediaType, size: u64, digest: &Digest) -> Result<Descriptor> {
    let oci = <oci_spec::image::Digest as std::str::FromStr>::from_str(digest.as_str())
        .map_err(|_| InvalidDigest(digest.to_string()))?;
    Ok(Descriptor::new(media_type, size, oci))
}

/// An image of the Docker engine's containerd image store, by the ID
/// `docker image inspect` gives (the manifest's or index's digest), read
/// from containerd's content store; the host's platform of an index.
pub(super) fn docker_image(id: &str) -> std::result::Result<SourceImage, Fallback> {
    super::engine_store::engine_is_local()?;
    let digest = Digest::parse(id).map_err(|e| e.to_string())?;
    let root = content_root()?;
    let blob = root.join("blobs/sha256").join(digest.hex());
    let raw = read_small(&blob)?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&raw)
        .ok()
        .and_then(|v| v.get("mediaType")?.as_str().map(MediaType::from))
        .ok_or_else(|| format!("{}: no mediaType", blob.display()))?;
    let top = descriptor(media_type, raw.len() as u64, &digest).map_err(|e| e.to_string())?;
    let opened = oci_layout::open_top(&BlobStore::Dir(root), &top, &Want::Host)
        .map_err(|e| e.to_string())?;
    let mut images = opened.images;
    match images.len() {
        1 => Ok(images.remove(0)),
        n => Err(format!("{id} holds {n} images for this platform")),
    }
}

/// The content store's directory, as the content plugin exports it.
fn content_root() -> std::result::Result<PathBuf, String> {
    let out = docker::run_cli(
        Cli::Ctr,
        &["plugins", "ls", "-d", "type==io.containerd.content.v1"],
    )
    .map_err(|e| e.to_string())?;
    let root = out
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("root"))
        .map(|r| PathBuf::from(r.trim()))
        .filter(|r| r.is_absolute())
        .ok_or("containerd does not say where its content store is")?;
    std::fs::read_dir(root.join("blobs/sha256"))
        .map_err(|e| cannot_read(&root.join("blobs/sha256"), &e))?;
    Ok(root)
}
