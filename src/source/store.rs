//! Where the blobs of an image on this machine live: files in a directory
//! (an OCI layout) or members of a tar (an archive, a `docker save` spool),
//! each opened as a [`BlobFile`] range without extracting anything.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::SourceError;
use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::files::IoContext;

pub enum BlobStore {
    /// A directory: members are files below it.
    Dir(PathBuf),
    /// A tar file: members are found through an index of entry offsets.
    Tar(TarIndex),
}

impl BlobStore {
    /// Open a member by its relative path (`blobs/sha256/<hex>`, `manifest.json`).
    pub fn open(&self, member: &str) -> Result<BlobFile, SourceError> {
        match self {
            BlobStore::Dir(dir) => {
                let rel = safe_relative(member)?;
                Ok(BlobFile::whole(&dir.join(rel))?)
            }
            BlobStore::Tar(index) => index.open(member),
        }
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<BlobFile, SourceError> {
        self.open(&format!("blobs/sha256/{}", digest.hex()))
    }
}

/// Member paths are relative to the store; refuse anything that could leave it.
fn safe_relative(member: &str) -> Result<&Path, SourceError> {
    let p = Path::new(member);
    if p.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        Ok(p)
    } else {
        Err(SourceError::MemberEscapes(member.to_string()))
    }
}

fn normalize(member: &str) -> String {
    member
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Offsets of the regular-file members of a tar, found by one pass over its
/// headers that seeks over the data, and its symlink and hard-link members:
/// `docker save` stores a layer whose content equals an earlier layer's as a
/// symlink to that layer's `layer.tar`.
pub struct TarIndex {
    file: Arc<File>,
    path: PathBuf,
    entries: HashMap<String, Member>,
}

enum Member {
    /// `(offset, length)` of a regular file's data.
    File(u64, u64),
    /// Another member (a normalised path in the archive).
    Link(String),
}

/// Links followed to open one member before giving up (a loop).
const MAX_MEMBER_LINKS: usize = 8;

impl TarIndex {
    /// Index the archive at `path`. A file that is not a tar is refused with
    /// a reason of our own: the tar crate's messages quote header fields,
    /// which for a file that is not a tar are its raw contents.
    pub fn scan(path: &Path) -> Result<Self, SourceError> {
        let file = File::open(path).at(path)?;
        let mut archive = tar::Archive::new(&file);
        let mut entries = HashMap::new();
        let bad = |e: io::Error| SourceError::NotAnArchive {
            path: path.to_path_buf(),
            why: if e.kind() == io::ErrorKind::UnexpectedEof {
                "it ends in the middle of an entry"
            } else {
                "an invalid tar header"
            },
        };
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let kind = entry.header().entry_type();
            let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
            let member = if kind.is_file() || kind == tar::EntryType::Continuous {
                Member::File(entry.raw_file_position(), entry.size())
            } else if kind.is_symlink() || kind.is_hard_link() {
                let Some(target) = entry.link_name_bytes() else {
                    continue;
                };
                let target = String::from_utf8_lossy(&target).into_owned();
                // A symlink is relative to its own directory; a hard link
                // names a member from the archive's root.
                let base = match name.rsplit_once('/') {
                    Some((dir, _)) if kind.is_symlink() && !target.starts_with('/') => dir,
                    _ => "",
                };
                Member::Link(resolve_dots(&format!("{base}/{target}")))
            } else {
                continue;
            };
            entries.insert(name, member);
        }
        if entries.is_empty() && std::fs::metadata(path).at(path)?.len() > 0 {
            // The tar crate reads a file of zeros (or of anything that
            // fails no checksum) as an empty archive.
            return Err(SourceError::NotAnArchive {
                path: path.to_path_buf(),
                why: "no file in it",
            });
        }
        Ok(TarIndex {
            file: Arc::new(file),
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn open(&self, member: &str) -> Result<BlobFile, SourceError> {
        let missing = || SourceError::NoMember {
            archive: self.path.display().to_string(),
            member: member.to_string(),
        };
        let mut name = normalize(member);
        for _ in 0..MAX_MEMBER_LINKS {
            match self.entries.get(&name).ok_or_else(missing)? {
                Member::File(offset, len) => {
                    return Ok(BlobFile::range(
                        self.file.clone(),
                        *offset,
                        *len,
                        format!("{}:{member}", self.path.display()),
                    ))
                }
                Member::Link(target) => name = target.clone(),
            }
        }
        Err(missing())
    }
}

/// `a/../b/./c` → `b/c`; `..` never climbs above the archive's root.
fn resolve_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_stored_as_a_link_to_an_identical_one_opens() {
        // `docker save` of an image whose two layers have the same content.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "aaa/layer.tar", &b"layer"[..])
            .unwrap();
        for (name, target) in [
            ("bbb/layer.tar", "../aaa/layer.tar"),
            ("ccc/layer.tar", "../ccc/layer.tar"),
        ] {
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_size(0);
            l.set_mode(0o777);
            l.set_mtime(0);
            b.append_link(&mut l, name, target).unwrap();
        }
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("save.tar");
        std::fs::write(&path, b.into_inner().unwrap()).unwrap();
        let index = TarIndex::scan(&path).unwrap();
        let blob = index.open("bbb/layer.tar").unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut blob.reader(), &mut data).unwrap();
        assert_eq!(data, b"layer");
        assert!(index.open("ccc/layer.tar").is_err());
        assert_eq!(resolve_dots("x/../../y/./z"), "y/z");
    }
}
