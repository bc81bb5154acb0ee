//! Atomic file writes: fill a temporary sibling, then rename it over the
//! target, so readers see the old file or the new one and never a part.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{leftovers, IoContext, PathError};

/// Replace a file atomically and durably.
pub fn replace_file(path: &Path, data: &[u8]) -> Result<(), PathError> {
    write_atomically(path, true, |w| w.write_all(data))
}

/// Write `path` by filling a temporary sibling (fsynced when `durable`) and
/// renaming it over `path`; a failure removes the temporary file.
pub fn write_atomically(
    path: &Path,
    durable: bool,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), PathError> {
    let parent = parent_of(path);
    let mut tmp = temp_file_in(&parent)?;
    {
        let mut w = io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        fill(&mut w).at(path)?;
        w.flush().at(path)?;
    }
    if durable {
        tmp.as_file().sync_all().at(path)?;
    }
    tmp.persist(path)
        .map_err(|e| PathError::new(path, e.error))?;
    Ok(())
}

/// A temporary file beside its final name, readable like any file we publish
/// (temporary files are created 0600), removed unless it is persisted.
pub fn temp_file_in(dir: &Path) -> Result<tempfile::NamedTempFile, PathError> {
    leftovers::remove_stale(dir, leftovers::BESIDE_TARGET);
    tempfile::Builder::new()
        .prefix(&leftovers::prefix(leftovers::BESIDE_TARGET))
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .at(dir)
}

/// Whether slimify will be able to create files in `dir`: tried by creating
/// (and removing) a temporary file there, the way the real write will.
pub fn check_writable_dir(dir: &Path) -> Result<(), PathError> {
    temp_file_in(dir).map(drop)
}

/// The directory `path` is in (`.` for a bare file name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
