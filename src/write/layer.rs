//! The output layer: a tar of the kept paths, sorted, compressed with
//! [`ParallelGz`], hashed twice on the way (diff_id before compression, blob
//! digest after).
//!
//! Every header field comes from the flattened source (mode with its special
//! bits, uid/gid, mtime, xattrs as `SCHILY.xattr.*` PAX records) or is fixed
//! (empty user/group names), and paths are in byte order, so the same input
//! always gives the same bytes. Paths or link targets longer than the ustar
//! fields go into PAX `path`/`linkpath` records, which every runtime reads;
//! link targets are copied byte for byte.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};

use indicatif::ProgressBar;

use super::pgzip::ParallelGz;
use super::WriteError;
use crate::blob::BlobFile;
use crate::digest::{Digest, HashingWriter};
use crate::files::{IoContext, PathError};
use crate::keep::KeepSet;
use crate::layer::Kind;
use crate::rootfs::{Node, RootFs};

/// What was written, for the config and manifest.
pub struct WrittenLayer {
    /// The compressed blob, ready to be copied into the target.
    pub blob: BlobFile,
    /// sha256 of the compressed blob.
    pub digest: Digest,
    pub size: u64,
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
}

pub fn write_layer(
    fs: &RootFs,
    keep: &KeepSet,
    out: File,
    level: u32,
    progress: &ProgressBar,
) -> Result<WrittenLayer, WriteError> {
    let io_err = |e: io::Error| WriteError::Io(PathError::new("the output layer", e));
    let blob = HashingWriter::new(BufWriter::with_capacity(1 << 20, out));
    let gz = ParallelGz::new(blob, level).map_err(io_err)?;
    let mut tar = tar::Builder::new(HashingWriter::new(gz));
    // Hard links: the first kept path of an inode carries the data.
    let mut first_path: HashMap<u64, &str> = HashMap::new();
    for path in keep.paths() {
        if crate::interrupt::interrupted() {
            return Err(WriteError::Interrupted);
        }
        let node = fs
            .get(path.as_str())
            .ok_or_else(|| WriteError::NotInImage(path.clone()))?;
        let replacement = keep.replacement(path.as_str());
        let link_to = match node.kind {
            Kind::Dir => None,
            // New content is its own file, never a link to the old one's.
            _ if replacement.is_some() => None,
            _ => match first_path.get(&node.inode) {
                Some(first) => Some(*first),
                None => {
                    first_path.insert(node.inode, path.as_str());
                    None
                }
            },
        };
        append(&mut tar, fs, path.as_str(), node, link_to, replacement).map_err(|e| {
            WriteError::Io(PathError::new(
                format!("{path} (writing the output layer)"),
                e,
            ))
        })?;
        if let (Kind::File { size, .. }, None) = (&node.kind, link_to) {
            progress.inc(*size);
        }
    }
    let (gz, diff_id, _) = tar.into_inner().map_err(io_err)?.finish();
    let (buffered, digest, size) = gz.finish().map_err(io_err)?.finish();
    let file = buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .at("output layer")?;
    Ok(WrittenLayer {
        blob: BlobFile::from_file(file, "output layer".into())?,
        digest,
        size,
        diff_id,
    })
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    fs: &RootFs,
    path: &str,
    node: &Node,
    link_to: Option<&str>,
    replacement: Option<&[u8]>,
) -> io::Result<()> {
    use tar::EntryType as T;
    let mut header = tar::Header::new_ustar();
    header.set_mode(node.meta.mode);
    header.set_uid(node.meta.uid);
    header.set_gid(node.meta.gid);
    header.set_mtime(node.meta.mtime);
    header.set_size(0);
    let name = if node.is_dir() {
        format!("{path}/")
    } else {
        path.to_string()
    };
    let mut pax: Vec<(String, Vec<u8>)> = node
        .meta
        .xattrs
        .iter()
        .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.clone()))
        .collect();
    set_name(
        &mut header.as_old_mut().name,
        "path",
        name.as_bytes(),
        &mut pax,
    );
    let (kind, target) = match (&node.kind, link_to) {
        (_, Some(first)) => (T::Link, Some(first.to_string())),
        (Kind::File { size, .. }, None) => {
            header.set_size(replacement.map_or(*size, |r| r.len() as u64));
            (T::Regular, None)
        }
        (Kind::Dir, None) => (T::Directory, None),
        (Kind::Symlink(t), None) => (T::Symlink, Some(t.clone())),
        (Kind::CharDevice { major, minor }, None) => {
            header.set_device_major(*major)?;
            header.set_device_minor(*minor)?;
            (T::Char, None)
        }
        (Kind::BlockDevice { major, minor }, None) => {
            header.set_device_major(*major)?;
            header.set_device_minor(*minor)?;
            (T::Block, None)
        }
        (Kind::Fifo, None) => (T::Fifo, None),
    };
    header.set_entry_type(kind);
    if let Some(t) = target {
        set_name(
            &mut header.as_old_mut().linkname,
            "linkpath",
            t.as_bytes(),
            &mut pax,
        );
    }
    if !pax.is_empty() {
        tar.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
    }
    header.set_cksum();
    match (&node.kind, link_to) {
        (Kind::File { .. }, None) if replacement.is_some() => {
            tar.append(&header, replacement.unwrap_or_default())
        }
        (Kind::File { .. }, None) => {
            let reader = fs.open(node).expect("a file node has content");
            tar.append(&header, reader)
        }
        _ => tar.append(&header, io::empty()),
    }
}

/// Put `value` in a fixed ustar field, or in a PAX record when it does not fit
/// (the field then keeps a truncated copy for old readers).
fn set_name(field: &mut [u8], pax_key: &str, value: &[u8], pax: &mut Vec<(String, Vec<u8>)>) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    if value.len() > field.len() {
        pax.push((pax_key.to_string(), value.to_vec()));
    }
}
