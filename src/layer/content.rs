//! Where a layer's regular-file bytes are: in a tar stream (a blob, or the
//! spool of a decompressed one), or in the files of a layer directory of the
//! engine's own store, read in place.
//!
//! In both cases a file is named by the offset of its data in the layer's tar
//! stream (`Kind::File { offset, .. }`): for a store directory that stream is
//! the one its tar-split describes, and the offset maps to the file's name.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::blob::{BlobFile, SliceReader};

/// A layer's file contents.
#[derive(Clone, Debug)]
pub enum Content {
    /// An uncompressed tar stream: a file's bytes lie at its offset.
    Tar(BlobFile),
    /// A layer directory of the engine's store.
    Store(Arc<StoreDir>),
}

impl Content {
    /// A reader over the `size` bytes of the file whose data starts at `offset`.
    pub fn open(&self, offset: u64, size: u64) -> FileReader {
        match self {
            Content::Tar(blob) => FileReader::Slice(blob.slice(offset, size)),
            Content::Store(dir) => FileReader::Store(StoreFile {
                dir: dir.clone(),
                offset,
                size,
                file: None,
            }),
        }
    }
}

/// The bytes of one regular file.
pub enum FileReader {
    Slice(SliceReader),
    Store(StoreFile),
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            FileReader::Slice(r) => r.read(buf),
            FileReader::Store(r) => r.read(buf),
        }
    }
}

/// A layer directory (overlay2's `diff`) and, for each file of the layer's
/// tar stream, its data offset and its name in the directory.
#[derive(Debug)]
pub struct StoreDir {
    root: PathBuf,
    /// (data offset in the tar stream, name), ascending by offset.
    files: Vec<(u64, Box<str>)>,
}

impl StoreDir {
    pub fn new(root: PathBuf, files: Vec<(u64, Box<str>)>) -> Self {
        debug_assert!(files.windows(2).all(|w| w[0].0 < w[1].0));
        StoreDir { root, files }
    }

    fn name_at(&self, offset: u64) -> Option<&str> {
        let i = self.files.binary_search_by_key(&offset, |(o, _)| *o).ok()?;
        Some(&self.files[i].1)
    }

    /// Open the file whose data starts at `offset`, checking that it is still
    /// the regular file of `size` bytes the layer's tar-split describes.
    fn open(&self, offset: u64, size: u64) -> io::Result<File> {
        let name = self.name_at(offset).ok_or_else(|| {
            io::Error::other(format!("no file at offset {offset} of {:?}", self.root))
        })?;
        let path = self.root.join(name.trim_start_matches('/'));
        let changed = |what: String| {
            io::Error::other(format!(
                "{}: {what}: the image changed or was deleted while slimify read it",
                path.display()
            ))
        };
        let file = open_beneath(&self.root, name).map_err(|e| changed(e.to_string()))?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(changed("no longer a regular file".into()));
        }
        if meta.size() != size {
            return Err(changed(format!(
                "{} bytes, the layer says {size}",
                meta.size()
            )));
        }
        Ok(file)
    }
}

/// One file of a store directory, opened on first read (the trace and the
/// writer ask for many readers; few are read).
pub struct StoreFile {
    dir: Arc<StoreDir>,
    offset: u64,
    size: u64,
    file: Option<io::Take<File>>,
}

impl Read for StoreFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // An empty file has no data in the stream, so no offset of its own.
        if self.size == 0 {
            return Ok(0);
        }
        if self.file.is_none() {
            self.file = Some(self.dir.open(self.offset, self.size)?.take(self.size));
        }
        let file = self.file.as_mut().expect("opened above");
        let n = file.read(buf)?;
        if n == 0 && file.limit() > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a file of the engine's store became shorter while slimify read it",
            ));
        }
        Ok(n)
    }
}

/// Open `name` below the directory `root` without following a symlink in
/// any of its components: what the store holds is the image's filesystem,
/// whose links point into the image, never into the host's.
pub fn open_beneath(root: &Path, name: &str) -> io::Result<File> {
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} leaves its layer directory"),
        ));
    }
    let mut dir = File::open(root)?;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let flags = libc::O_CLOEXEC
            | libc::O_NOFOLLOW
            | libc::O_NOCTTY
            | if last {
                // A FIFO put where a file was must not block the open.
                libc::O_RDONLY | libc::O_NONBLOCK
            } else {
                libc::O_PATH | libc::O_DIRECTORY
            };
        let c = std::ffi::CString::new(std::ffi::OsStr::new(part).as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: `dir` is an open descriptor and `c` a NUL-terminated name.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => io::Error::new(
                    e.kind(),
                    format!("{part:?} is not a directory or is a symlink"),
                ),
                _ => e,
            });
        }
        // SAFETY: `fd` was just returned by openat and is owned by nobody else.
        dir = unsafe { File::from_raw_fd(fd) };
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_below_the_root_and_never_through_a_link() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
        std::fs::write(root.path().join("usr/bin/tool"), b"#!/bin/sh\n").unwrap();
        std::os::unix::fs::symlink("/etc", root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("usr/bin", root.path().join("bin")).unwrap();
        let mut s = String::new();
        open_beneath(root.path(), "usr/bin/tool")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "#!/bin/sh\n");
        assert!(open_beneath(root.path(), "./usr//bin/tool").is_ok());
        for bad in [
            "etc/passwd",
            "bin/tool",
            "etc",
            "../etc/passwd",
            "usr/../../x",
        ] {
            assert!(open_beneath(root.path(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_store_file_that_changed_is_an_error_naming_it() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a"), b"12345").unwrap();
        let dir = Arc::new(StoreDir::new(
            root.path().to_path_buf(),
            vec![(512, "a".into()), (2048, "gone".into())],
        ));
        let content = Content::Store(dir);
        let mut buf = Vec::new();
        content.open(512, 5).read_to_end(&mut buf).unwrap();
        assert_eq!(buf, b"12345");
        assert_eq!(content.open(1024, 0).read_to_end(&mut buf).unwrap(), 0);
        let e = content.open(512, 7).read_to_end(&mut buf).unwrap_err();
        assert!(e.to_string().contains("5 bytes, the layer says 7"), "{e}");
        let e = content.open(2048, 1).read_to_end(&mut buf).unwrap_err();
        assert!(
            e.to_string().contains("gone") && e.to_string().contains("changed or was deleted"),
            "{e}"
        );
    }
}
