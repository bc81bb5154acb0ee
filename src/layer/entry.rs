//! Tar entries as the flattener needs them.

use std::io::Read;

use crate::limits::Limits;

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// Regular file: its bytes are at `offset..offset+size` of the layer content.
    File {
        offset: u64,
        size: u64,
    },
    Dir,
    /// Kept verbatim: the target is never rewritten.
    Symlink(String),
    /// A hard link to another path of the image (this or an earlier layer).
    HardLink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
    /// `.wh.NAME`: NAME (and everything under it) from lower layers is deleted.
    Whiteout,
    /// `.wh..wh..opq`: the directory's lower-layer children are hidden.
    Opaque,
}

/// One tar entry, with its path normalised (relative, no `.`; see
/// [`normalize_path`]). For whiteouts the path is the path being deleted; for
/// an opaque marker it is the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    pub meta: Meta,
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Turn a tar path into the image-relative form used everywhere: no leading
/// `/` or `./`, no `.` components, no trailing `/`. The root is `""`.
/// A `..` component is refused: it could only mean escaping the image root.
pub fn normalize_path(raw: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(format!("entry {raw:?} has a '..' component")),
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// Read all entries of an uncompressed layer tar, then the rest of the stream.
pub fn read_entries<R: Read>(reader: R, limits: &Limits) -> Result<Vec<Entry>, String> {
    let mut archive = tar::Archive::new(HeaderGuard::new(reader, limits));
    let mut out = Vec::new();
    {
        let entries = archive.entries().map_err(|e| format!("reading tar: {e}"))?;
        for (n, entry) in entries.enumerate() {
            limits.check_entries(n as u64 + 1)?;
            let mut entry = entry.map_err(|e| format!("reading tar: {e}"))?;
            if let Some(e) = convert(&mut entry, limits)? {
                out.push(e);
            }
        }
    }
    drain(&mut archive.into_inner().into_inner())
        .map_err(|e| format!("reading past the tar end: {e}"))?;
    Ok(out)
}

fn convert<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    limits: &Limits,
) -> Result<Option<Entry>, String> {
    use tar::EntryType as T;
    let raw_path = String::from_utf8(entry.path_bytes().into_owned()).map_err(|e| {
        format!(
            "entry path is not UTF-8: {:?}",
            String::from_utf8_lossy(e.as_bytes())
        )
    })?;
    limits
        .check_path(&raw_path)
        .map_err(|e| format!("entry {:?}...: {e}", truncated(&raw_path)))?;
    let path = normalize_path(&raw_path)?;
    let header = entry.header();
    let bad = |e: std::io::Error| format!("{raw_path:?}: {e}");
    let old = header.as_old();
    let (mode, uid, gid, mtime) = (
        lenient(&old.mode, header.mode().map(u64::from)).map_err(bad)? as u32 & 0o7777,
        lenient(&old.uid, header.uid()).map_err(bad)?,
        lenient(&old.gid, header.gid()).map_err(bad)?,
        lenient(&old.mtime, header.mtime()).map_err(bad)?,
    );
    let dev = (
        header.device_major().ok().flatten().unwrap_or(0),
        header.device_minor().ok().flatten().unwrap_or(0),
    );
    let link = || -> Result<String, String> {
        let bytes = entry
            .link_name_bytes()
            .ok_or_else(|| format!("{raw_path:?}: link without a target"))?;
        let target = String::from_utf8(bytes.into_owned())
            .map_err(|_| format!("{raw_path:?}: link target is not UTF-8"))?;
        limits
            .check_path(&target)
            .map_err(|e| format!("{raw_path:?}: link target: {e}"))?;
        Ok(target)
    };
    let kind = match header.entry_type() {
        T::Regular | T::Continuous => EntryKind::File {
            offset: entry.raw_file_position(),
            size: entry.size(),
        },
        T::Directory => EntryKind::Dir,
        T::Symlink => EntryKind::Symlink(link()?),
        T::Link => EntryKind::HardLink(normalize_path(&link()?)?),
        T::Char => EntryKind::CharDevice {
            major: dev.0,
            minor: dev.1,
        },
        T::Block => EntryKind::BlockDevice {
            major: dev.0,
            minor: dev.1,
        },
        T::Fifo => EntryKind::Fifo,
        T::GNUSparse => return Err(format!("{raw_path:?}: sparse files are not supported")),
        // Global PAX headers, GNU volume labels and the like describe no file.
        _ => return Ok(None),
    };
    let meta = Meta {
        mode,
        uid,
        gid,
        mtime,
        xattrs: xattrs(entry).map_err(|e| format!("{raw_path:?}: PAX header: {e}"))?,
    };
    // Whiteouts are recognised by their base name (OCI image-spec, layer.md).
    let (dir, base) = match path.rsplit_once('/') {
        Some((d, b)) => (d, b),
        None => ("", path.as_str()),
    };
    if base == OPAQUE {
        return Ok(Some(Entry {
            path: dir.to_string(),
            kind: EntryKind::Opaque,
            meta,
        }));
    }
    if let Some(name) = base.strip_prefix(WHITEOUT_PREFIX) {
        if name.starts_with(WHITEOUT_PREFIX) || name.is_empty() {
            // `.wh..wh.*` other than the opaque marker is aufs bookkeeping: ignore.
            return Ok(None);
        }
        if name == "." || name == ".." {
            return Err(format!("whiteout {raw_path:?} names {name:?}"));
        }
        let target = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        return Ok(Some(Entry {
            path: target,
            kind: EntryKind::Whiteout,
            meta,
        }));
    }
    Ok(Some(Entry { path, kind, meta }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_dotdot_refused() {
        assert_eq!(normalize_path("./usr/bin/").unwrap(), "usr/bin");
        assert_eq!(normalize_path("/etc//passwd").unwrap(), "etc/passwd");
        assert_eq!(normalize_path("./").unwrap(), "");
        assert!(normalize_path("usr/../../etc/shadow").is_err());
    }
}
