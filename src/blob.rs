//! Random access to byte ranges of files: the one way every step reads bytes
//! it did not produce itself (layer blobs, decompressed spools, the written
//! layer).
//!
//! A [`BlobFile`] is a range of an open file read with `pread`, so many
//! layers can be decompressed in parallel from one archive without extracting
//! it, and kept files are later copied straight from where they lie.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::files::{IoContext, PathError};

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
    /// All of the file at `path`.
    pub fn whole(path: &Path) -> Result<Self, PathError> {
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
    pub fn from_file(file: File, name: String) -> Result<Self, PathError> {
        let len = file.metadata().at(&name)?.len();
        Ok(BlobFile {
            file: Arc::new(file),
            offset: 0,
            len,
            name,
        })
    }

    /// `len` bytes at `offset` of an open file (a member of an archive).
    pub fn range(file: Arc<File>, offset: u64, len: u64, name: String) -> Self {
        BlobFile {
            file,
            offset,
            len,
            name,
        }
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

    /// The whole blob in memory, refused past `max` bytes (metadata documents
    /// only: an index, a manifest, a config).
    pub fn read_small(&self, max: u64) -> Result<Vec<u8>, SmallReadError> {
        if self.len > max {
            return Err(SmallReadError::TooLarge {
                name: self.name.clone(),
                len: self.len,
                max,
            });
        }
        let mut buf = Vec::with_capacity(self.len as usize);
        self.reader()
            .read_to_end(&mut buf)
            .at(&self.name)
            .map_err(SmallReadError::Io)?;
        Ok(buf)
    }
}

/// Why a metadata document could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum SmallReadError {
    #[error("{name} is {len} bytes, larger than the {max} byte limit for image metadata")]
    TooLarge { name: String, len: u64, max: u64 },
    #[error(transparent)]
    Io(PathError),
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
