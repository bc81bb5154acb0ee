//! Tar entries as the flattener needs them.

use std::io::Read;

use crate::image_path::{DotDot, ImagePath};
use crate::limits::{Exceeded, Limits};

use super::drain;
use super::guard::HeaderGuard;

/// Metadata that must survive flattening unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch, as the tar header stores it.
    pub mtime: u64,
    /// Extended attributes (`SCHILY.xattr.*` PAX records), e.g. security.capability.
    pub xattrs: Vec<(String, Vec<u8>)>,
}

impl Meta {
    /// What the runtime gives a directory that a layer implies but never lists.
    pub fn implicit_dir() -> Self {
        Meta {
            mode: 0o755,
            uid: 0,
            gid: 0,
            mtime: 0,
            xattrs: Vec::new(),
        }
    }
}

/// What a path is, in a layer and in the flattened filesystem alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Regular file: its bytes are at `offset..offset+size` of a layer's content.
    File {
        offset: u64,
        size: u64,
    },
    Dir,
    /// Kept verbatim: the target is never rewritten.
    Symlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// What one layer entry does to the filesystem below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Puts a file, directory, link or device at the path.
    Add(Kind),
    /// A hard link to another path of the image (this or an earlier layer).
    HardLink(ImagePath),
    /// `.wh.NAME`: NAME (and everything under it) from lower layers is deleted.
    Whiteout,
    /// `.wh..wh..opq`: the directory's lower-layer children are hidden.
    Opaque,
}

/// One tar entry. For whiteouts the path is the path being deleted; for an
/// opaque marker it is the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: ImagePath,
    pub change: Change,
    pub meta: Meta,
}

/// An entry slimify refuses to index.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("entry path is not UTF-8: {0:?}")]
    NotUtf8(String),
    #[error("entry {0}")]
    DotDot(#[from] DotDot),
    #[error("entry {path:?}...")]
    Limit {
        path: String,
        #[source]
        source: Exceeded,
    },
    #[error("{path:?}: its {field} field")]
    Field {
        path: String,
        field: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{0:?}: link without a target")]
    NoLinkTarget(String),
    #[error("{0:?}: link target is not UTF-8")]
    LinkNotUtf8(String),
    #[error("{0:?}: sparse files are not supported")]
    Sparse(String),
    #[error("whiteout {path:?} names {name:?}")]
    WhiteoutOfDot { path: String, name: String },
}

/// Why reading a layer's tar stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Limit(#[from] Exceeded),
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error("reading the tar stream")]
    Tar(#[source] std::io::Error),
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Read all entries of an uncompressed layer tar, then the rest of the stream.
pub fn read_entries<R: Read>(reader: R, limits: &Limits) -> Result<Vec<Entry>, ReadError> {
    let mut archive = tar::Archive::new(HeaderGuard::new(reader, limits));
    let result = collect(&mut archive, limits);
    let mut guard = archive.into_inner();
    // A limit the guard hit is why the tar crate failed.
    if let Some(x) = guard.exceeded() {
        return Err(ReadError::Limit(x.clone()));
    }
    let entries = result?;
    drain(&mut guard).map_err(ReadError::Tar)?;
    Ok(entries)
}

fn collect<R: Read>(
    archive: &mut tar::Archive<HeaderGuard<R>>,
    limits: &Limits,
) -> Result<Vec<Entry>, ReadError> {
    let mut out = Vec::new();
    for (n, entry) in archive.entries().map_err(ReadError::Tar)?.enumerate() {
        limits.check_entries(n as u64 + 1)?;
        let mut entry = entry.map_err(ReadError::Tar)?;
        if let Some(e) = convert(&mut entry, limits)? {
            out.push(e);
        }
    }
    Ok(out)
}

fn convert<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    limits: &Limits,
) -> Result<Option<Entry>, EntryError> {
    use tar::EntryType as T;
    let raw_path = String::from_utf8(entry.path_bytes().into_owned()).map_err(|e| {
        EntryError::NotUtf8(truncated(&String::from_utf8_lossy(e.as_bytes())).into())
    })?;
    limits
        .check_path(&raw_path)
        .map_err(|source| EntryError::Limit {
            path: truncated(&raw_path).into(),
            source,
        })?;
    let path = ImagePath::parse(&raw_path)?;
    let header = entry.header();
    let field = |name: &'static str| {
        let path = raw_path.clone();
        move |source| EntryError::Field {
            path,
            field: name,
            source,
        }
    };
    let old = header.as_old();
    let (mode, uid, gid, mtime) = (
        lenient(&old.mode, header.mode().map(u64::from)).map_err(field("mode"))? as u32 & 0o7777,
        lenient(&old.uid, header.uid()).map_err(field("uid"))?,
        lenient(&old.gid, header.gid()).map_err(field("gid"))?,
        lenient(&old.mtime, header.mtime()).map_err(field("mtime"))?,
    );
    let dev = (
        header.device_major().ok().flatten().unwrap_or(0),
        header.device_minor().ok().flatten().unwrap_or(0),
    );
    let link = || -> Result<String, EntryError> {
        let bytes = entry
            .link_name_bytes()
            .ok_or_else(|| EntryError::NoLinkTarget(raw_path.clone()))?;
        let target = String::from_utf8(bytes.into_owned())
            .map_err(|_| EntryError::LinkNotUtf8(raw_path.clone()))?;
        limits
            .check_path(&target)
            .map_err(|source| EntryError::Limit {
                path: truncated(&raw_path).into(),
                source,
            })?;
        Ok(target)
    };
    let change = match header.entry_type() {
        T::Regular | T::Continuous => Change::Add(Kind::File {
            offset: entry.raw_file_position(),
            size: entry.size(),
        }),
        T::Directory => Change::Add(Kind::Dir),
        T::Symlink => Change::Add(Kind::Symlink(link()?)),
        T::Link => Change::HardLink(ImagePath::parse(&link()?)?),
        T::Char => Change::Add(Kind::CharDevice {
            major: dev.0,
            minor: dev.1,
        }),
        T::Block => Change::Add(Kind::BlockDevice {
            major: dev.0,
            minor: dev.1,
        }),
        T::Fifo => Change::Add(Kind::Fifo),
        T::GNUSparse => return Err(EntryError::Sparse(raw_path)),
        // Global PAX headers, GNU volume labels and the like describe no file.
        _ => return Ok(None),
    };
    let meta = Meta {
        mode,
        uid,
        gid,
        mtime,
        xattrs: xattrs(entry).map_err(field("PAX header"))?,
    };
    // Whiteouts are recognised by their base name (OCI image-spec, layer.md).
    let (dir, base) = (path.parent(), path.file_name());
    if base == OPAQUE {
        return Ok(Some(Entry {
            path: dir,
            change: Change::Opaque,
            meta,
        }));
    }
    if let Some(name) = base.strip_prefix(WHITEOUT_PREFIX) {
        if name.starts_with(WHITEOUT_PREFIX) || name.is_empty() {
            // `.wh..wh.*` other than the opaque marker is aufs bookkeeping: ignore.
            return Ok(None);
        }
        if name == "." || name == ".." {
            return Err(EntryError::WhiteoutOfDot {
                path: raw_path,
                name: name.into(),
            });
        }
        return Ok(Some(Entry {
            path: dir.join(name),
            change: Change::Whiteout,
            meta,
        }));
    }
    Ok(Some(Entry { path, change, meta }))
}

/// The start of a long path, for an error message.
fn truncated(path: &str) -> &str {
    let mut end = path.len().min(80);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

/// An all-NUL or all-blank numeric field is 0, as GNU tar and Go's
/// archive/tar read it; some image builders leave uid/gid/mtime empty.
fn lenient(raw: &[u8], parsed: std::io::Result<u64>) -> std::io::Result<u64> {
    match parsed {
        Err(_) if raw.iter().all(|&b| b == 0 || b == b' ') => Ok(0),
        other => other,
    }
}

fn xattrs<R: Read>(entry: &mut tar::Entry<'_, R>) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    if let Some(exts) = entry.pax_extensions()? {
        for ext in exts {
            let ext = ext?;
            if let Ok(key) = ext.key() {
                if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                    out.push((name.to_string(), ext.value_bytes().to_vec()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}
