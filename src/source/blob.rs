//! Random access to blobs, whether they are files in a directory or members of a tar.
//!
//! Everything downstream reads blobs through [`BlobFile`]: a byte range of an
//! open file read with `pread`, so that many layers can be decompressed in
//! parallel from one archive without extracting it, and so that file contents
//! of uncompressed layers are later copied straight from the archive.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};

/// Largest JSON document (index, manifest, config) we are willing to load.
const MAX_JSON: u64 = 16 << 20;

/// A byte range of an open file.
#[derive(Clone, Debug)]
pub struct BlobFile {
    file: Arc<File>,
    offset: u64,
    len: u64,
    /// What to call it in errors: the file path, or `archive.tar:member`.
    pub name: String,
}

impl BlobFile {
    pub fn whole(path: &Path) -> Result<Self> {
        let file = File::open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        Ok(BlobFile {
            file: Arc::new(file),
            offset: 0,
            len,
            name: path.display().to_string(),
        })
    }

    /// Wrap an already-open file (a spool we wrote ourselves).
    pub fn from_file(file: File, name: String) -> Result<Self> {
        let len = file.metadata().at(&name)?.len();
        Ok(BlobFile {
            file: Arc::new(file),
            offset: 0,
            len,
            name,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A sub-range of this blob (`offset` relative to its start).
    pub fn slice(&self, offset: u64, len: u64) -> SliceReader {
        let len = len.min(self.len.saturating_sub(offset));
        SliceReader {
            file: self.file.clone(),
            pos: self.offset + offset,
            end: self.offset + offset + len,
        }
    }

    pub fn reader(&self) -> SliceReader {
        self.slice(0, self.len)
    }

    /// Read a small JSON blob whole, checking its digest (and size, when known).
    pub fn read_verified(&self, digest: &Digest, size: Option<u64>, what: &str) -> Result<Vec<u8>> {
        if self.len > MAX_JSON {
            return Err(Error::image(format!(
                "{what} {digest} is {} bytes, larger than the {MAX_JSON} byte limit for metadata",
                self.len
            )));
        }
        let mut r = HashingReader::new(self.reader());
        let mut buf = Vec::with_capacity(self.len as usize);
        r.read_to_end(&mut buf).at(&self.name)?;
        let (actual, n) = r.finish();
        digest.verify(&actual, &format!("{what} blob"))?;
        if let Some(size) = size {
            if size != n {
                return Err(Error::image(format!(
                    "{what} {digest}: descriptor says {size} bytes, blob has {n}"
                )));
            }
        }
        Ok(buf)
    }
}

/// `Read` over a byte range with positional reads: no shared cursor, so clones
/// of the same `File` can be read from many threads at once.
pub struct SliceReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for SliceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file is shorter than expected",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Where the blobs of an image live.
pub enum BlobStore {
    /// A directory: members are files below it.
    Dir(PathBuf),
    /// A tar file: members are found through an index of entry offsets.
    Tar(TarIndex),
}

impl BlobStore {
    /// Open a member by its relative path (`blobs/sha256/<hex>`, `manifest.json`).
    pub fn open(&self, member: &str) -> Result<BlobFile> {
        match self {
            BlobStore::Dir(dir) => {
                let rel = safe_relative(member)?;
                BlobFile::whole(&dir.join(rel))
            }
            BlobStore::Tar(index) => index.open(member),
        }
    }

    pub fn exists(&self, member: &str) -> bool {
        match self {
            BlobStore::Dir(dir) => safe_relative(member).is_ok_and(|r| dir.join(r).is_file()),
            BlobStore::Tar(index) => index.entries.contains_key(&normalize(member)),
        }
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<BlobFile> {
        self.open(&format!("blobs/sha256/{}", digest.hex()))
    }
}

/// Member paths are relative to the store; refuse anything that could leave it.
fn safe_relative(member: &str) -> Result<&Path> {
    let p = Path::new(member);
    if p.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        Ok(p)
    } else {
        Err(Error::image(format!(
            "blob path {member:?} leaves the image directory"
        )))
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
/// headers that seeks over the data.
pub struct TarIndex {
    file: Arc<File>,
    path: PathBuf,
    entries: HashMap<String, (u64, u64)>,
}

impl TarIndex {
    pub fn scan(path: &Path) -> Result<Self> {
        let file = File::open(path).at(path)?;
        let mut archive = tar::Archive::new(&file);
        let mut entries = HashMap::new();
        let bad = |e: io::Error| {
            Error::image(format!(
                "{}: not a readable tar archive: {e}",
                path.display()
            ))
        };
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            entries.insert(normalize(&name), (entry.raw_file_position(), entry.size()));
        }
        Ok(TarIndex {
            file: Arc::new(file),
            path: path.to_path_buf(),
            entries,
        })
    }

    pub fn open(&self, member: &str) -> Result<BlobFile> {
        let (offset, len) = *self.entries.get(&normalize(member)).ok_or_else(|| {
            Error::image(format!(
                "{}: no member {member:?} in the archive",
                self.path.display()
            ))
        })?;
        Ok(BlobFile {
            file: self.file.clone(),
            offset,
            len,
            name: format!("{}:{member}", self.path.display()),
        })
    }
}
