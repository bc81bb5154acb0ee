//! Layers shared between images are read once.
//!
//! Images built on one base share its layers, and a layer's diff_id (the
//! digest of its uncompressed tar) names its content whatever the compression
//! or transport. [`LayerCache`] keeps each layer's index by diff_id for the
//! length of a run, so `slimify batch` decompresses a shared base layer once
//! (and downloads it once: remote blobs are fetched only on a miss). Two jobs
//! that want the same layer at once take turns on its slot, so the second
//! waits for the first's index rather than building its own.
//!
//! With a cache directory, the uncompressed tar of every compressed layer is
//! also kept there, as `layers/<diff_id hex>.tar`, for later runs: a hit then
//! costs reading and hashing the tar (its diff_id is verified again, so a
//! damaged cache file is noticed, removed and rebuilt) instead of inflating.
//!
//! The in-run cache is bounded by the uncompressed bytes it holds
//! (`capacity`): past it the least recently used layers are dropped, and
//! their spool files disappear once no image still reads them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;

use super::{index_layer, Content, LayerError, LayerIndex};
use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::files::{IoContext, PathError};
use crate::limits::Budget;
use crate::source::{Blob, Compression, LayerBlob};

/// One diff_id's slot: empty until a job has indexed it.
type Slot = Arc<Mutex<Option<Arc<LayerIndex>>>>;

pub struct LayerCache {
    /// Where layer spools (and downloads) go; the caller owns the directory.
    spool_dir: PathBuf,
    /// `--cache-dir`: uncompressed layer tars kept across runs.
    dir: Option<PathBuf>,
    /// Most uncompressed bytes kept indexed in memory-backed spools (0: keep nothing).
    capacity: u64,
    slots: Mutex<Slots>,
    pub stats: Stats,
}

#[derive(Default)]
struct Slots {
    by_id: HashMap<Digest, Slot>,
    /// diff_ids, least recently used first, with their tar sizes once known.
    recent: Vec<(Digest, u64)>,
}

/// What the cache did, for the batch summary.
#[derive(Default, Debug)]
pub struct Stats {
    /// Layers indexed from their source (decompressed, or read in place).
    pub misses: AtomicU64,
    /// Layers found indexed in this run.
    pub hits: AtomicU64,
    /// Layers read from the cache directory instead of their source.
    pub disk_hits: AtomicU64,
}

impl LayerCache {
    /// A cache for one run. `capacity` 0 disables sharing (a single image).
    pub fn new(spool_dir: &Path, dir: Option<PathBuf>, capacity: u64) -> Result<Self, PathError> {
        if let Some(d) = &dir {
            std::fs::create_dir_all(d.join("layers")).at(d)?;
        }
        Ok(LayerCache {
            spool_dir: spool_dir.to_path_buf(),
            dir,
            capacity,
            slots: Mutex::new(Slots::default()),
            stats: Stats::default(),
        })
    }

    /// The index of `layer`, from this run's cache, the cache directory, or its source.
    pub fn index(
        &self,
        number: usize,
        layer: &LayerBlob,
        progress: &ProgressBar,
        budget: &Budget,
    ) -> Result<Arc<LayerIndex>, LayerError> {
        let slot = self.slot(&layer.diff_id);
        let mut held = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = held.as_ref() {
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
            progress.inc(layer.blob.stored_size());
            return Ok(found.clone());
        }
        let index = Arc::new(self.build(number, layer, progress, budget)?);
        if self.capacity > 0 {
            *held = Some(index.clone());
            drop(held);
            self.admitted(&layer.diff_id, index.tar_size);
        }
        Ok(index)
    }

    fn slot(&self, id: &Digest) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pos) = slots.recent.iter().position(|(d, _)| d == id) {
            let used = slots.recent.remove(pos);
            slots.recent.push(used);
        }
        slots.by_id.entry(id.clone()).or_default().clone()
    }

    /// Record a new layer's size, and drop the least recently used layers
    /// while the cache holds more than its capacity (never the newest).
    fn admitted(&self, id: &Digest, size: u64) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.recent.retain(|(d, _)| d != id);
        slots.recent.push((id.clone(), size));
        let mut total: u64 = slots.recent.iter().map(|(_, s)| s).sum();
        while total > self.capacity && slots.recent.len() > 1 {
            let (old, size) = slots.recent.remove(0);
            slots.by_id.remove(&old);
            total -= size;
        }
    }

    /// Index a layer nobody in this run has: from the cache directory if it
    /// holds a good copy, else from the source (keeping a copy for later runs).
    fn build(
        &self,
        number: usize,
        layer: &LayerBlob,
        progress: &ProgressBar,
        budget: &Budget,
    ) -> Result<LayerIndex, LayerError> {
        // A layer of the engine's store is read in place: cheaper than any copy.
        let kept = match &layer.blob {
            Blob::Store(_) => None,
            _ => self.kept_path(&layer.diff_id),
        };
        let Some(kept) = kept else {
            self.stats.misses.fetch_add(1, Ordering::Relaxed);
            return index_layer(number, layer, &self.spool_dir, progress, budget);
        };
        if let Ok(file) = BlobFile::whole(&kept) {
            let cached = LayerBlob {
                blob: Blob::Local(file),
                compression: Compression::None,
                digest: None,
                diff_id: layer.diff_id.clone(),
            };
            match index_layer(number, &cached, &self.spool_dir, progress, budget) {
                Ok(index) => {
                    self.stats.disk_hits.fetch_add(1, Ordering::Relaxed);
                    progress.inc(layer.blob.stored_size().saturating_sub(index.tar_size));
                    return Ok(index);
                }
                // A damaged or truncated cache file: drop it, use the source.
                Err(_) => {
                    let _ = std::fs::remove_file(&kept);
                }
            }
        }
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        let index = index_layer(number, layer, &self.spool_dir, progress, budget)?;
        if let (false, Content::Tar(tar)) = (is_uncompressed(layer), &index.content) {
            keep_copy(tar, &kept).map_err(|e| LayerError {
                index: number,
                digest: layer.diff_id.to_string(),
                cause: e.into(),
            })?;
        }
        Ok(index)
    }

    fn kept_path(&self, id: &Digest) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join("layers").join(format!("{}.tar", id.hex())))
    }
}

/// An uncompressed source layer is its own tar: caching it would only copy it.
fn is_uncompressed(layer: &LayerBlob) -> bool {
    match (&layer.compression, &layer.blob) {
        (Compression::None, _) => true,
        (Compression::Sniff, Blob::Local(b)) => {
            super::decompress::sniff(b).is_ok_and(|c| c == Compression::None)
        }
        _ => false,
    }
}

/// Copy a verified layer tar into the cache directory under a temporary
/// name, then rename it into place: concurrent runs sharing the directory
/// (CI shards on one volume) see a whole file or none.
fn keep_copy(tar: &BlobFile, path: &Path) -> Result<(), PathError> {
    crate::files::write_atomically(path, false, |w| {
        std::io::copy(&mut tar.reader(), w).map(|_| ())
    })
}
