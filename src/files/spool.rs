//! A run's spool directory: decompressed layers, downloads, the written layer.

use std::path::Path;

use super::{leftovers, IoContext, PathError};

/// A new spool directory under `tmp_dir` (the system's temporary directory
/// when `None`), removed when dropped; a killed run's is removed by the next run.
pub fn spool_dir(tmp_dir: Option<&Path>) -> Result<tempfile::TempDir, PathError> {
    let root = tmp_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    leftovers::remove_stale(&root, leftovers::SPOOL);
    tempfile::Builder::new()
        .prefix(&leftovers::prefix(leftovers::SPOOL))
        .tempdir_in(&root)
        .at(&root)
}
