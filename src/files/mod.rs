//! Files slimify writes on the host: atomic replacement, temporary names a
//! later run can clean up, and the spool directory of a run. Every I/O error
//! names the path it is about ([`PathError`]), the way `fs-err` does.

mod atomic;
pub mod leftovers;
mod spool;

pub use atomic::{check_writable_dir, parent_of, replace_file, write_atomically};
pub use spool::spool_dir;

use std::path::{Path, PathBuf};

/// An I/O error on a named file or directory.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct PathError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

impl PathError {
    pub fn new(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PathError {
            path: path.into(),
            source,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Attach a path to an `io::Error`, so none is reported without the file it is about.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T, PathError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T, PathError> {
        self.map_err(|source| PathError::new(path, source))
    }
}
