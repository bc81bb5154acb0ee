//! Layers: decompress each blob once, verify it, and index its tar entries.
//!
//! A layer is never extracted. [`index_layer`] reads the stream one time and
//! records, for every entry, its metadata and where its bytes are: in the blob
//! itself when the blob is an uncompressed tar in a seekable file, or in a
//! spool of the decompressed stream otherwise. The writer later copies kept
//! files from there without decompressing anything again.

pub mod cache;
mod content;
mod decompress;
mod entry;
mod guard;
mod tar_split;

pub use content::{Content, FileReader};
pub use decompress::InflateError;
pub use entry::{Change, Entry, EntryError, Kind, Meta, ReadError};
pub use tar_split::StoreError;

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use indicatif::ProgressBar;

use crate::blob::BlobFile;
use crate::digest::{HashingReader, Mismatch};
use crate::files::{IoContext, PathError};
use crate::limits::Budget;
use crate::source::{Blob, Compression, LayerBlob, SourceError};

/// Everything a layer contributes, in tar order.
#[derive(Debug)]
pub struct LayerIndex {
    pub entries: Vec<Entry>,
    /// Where `Kind::File` offsets point.
    pub content: Content,
    /// Size of the uncompressed tar stream.
    pub tar_size: u64,
}

/// A layer that could not be read, with what it is (its place in the image
/// and its digest) and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot read layer {index} ({digest})")]
pub struct LayerError {
    pub index: usize,
    pub digest: String,
    #[source]
    pub cause: LayerCause,
}

#[derive(Debug, thiserror::Error)]
pub enum LayerCause {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Inflate(#[from] InflateError),
    #[error(transparent)]
    Digest(#[from] Mismatch),
    #[error(transparent)]
    Fetch(#[from] SourceError),
    #[error(transparent)]
    Io(#[from] PathError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("interrupted by a signal")]
    Interrupted,
}

impl LayerError {
    pub fn hint(&self) -> Option<String> {
        match &self.cause {
            LayerCause::Fetch(e) => e.hint(),
            _ => None,
        }
    }
}

/// Decompress, verify (blob digest and diff_id) and index one layer.
pub fn index_layer(
    number: usize,
    layer: &LayerBlob,
    spool_dir: &Path,
    progress: &ProgressBar,
    budget: &Budget,
) -> Result<LayerIndex, LayerError> {
    index_layer_inner(number, layer, spool_dir, progress, budget).map_err(|cause| LayerError {
        index: number,
        digest: layer.digest.as_ref().unwrap_or(&layer.diff_id).to_string(),
        // A stream cut by Ctrl-C reads as a broken stream: say what it was.
        cause: if crate::interrupt::interrupted() {
            LayerCause::Interrupted
        } else {
            cause
        },
    })
}

fn index_layer_inner(
    number: usize,
    layer: &LayerBlob,
    spool_dir: &Path,
    progress: &ProgressBar,
    budget: &Budget,
) -> Result<LayerIndex, LayerCause> {
    let blob = match (&layer.blob, layer.compression) {
        (Blob::Store(store), _) => return tar_split::index(store, progress, budget),
        (Blob::Remote { repo, digest, size }, c @ (Compression::Gzip | Compression::Zstd)) => {
            return index_downloaded(
                number, layer, repo, digest, *size, c, spool_dir, progress, budget,
            )
        }
        (other, _) => other.open(spool_dir)?,
    };
    let compression = match layer.compression {
        Compression::Sniff => decompress::sniff(&blob).at(&blob.name)?,
        c => c,
    };
    // An uncompressed blob's digest is its diff_id: hash it once, as the diff_id.
    let blob_digest = match (compression, &layer.digest) {
        (Compression::None, Some(d)) => {
            d.verify(
                &layer.diff_id,
                &format!("uncompressed layer {number}: diff_id vs blob"),
            )?;
            None
        }
        (_, d) => d.as_ref(),
    };

    if compression == Compression::None {
        // The blob is the tar: index it in place, no spool needed.
        let size = blob.len();
        budget
            .take(size, size, size)
            .map_err(|e| LayerCause::Read(e.into()))?;
        let counted = decompress::Counting::new(blob.reader(), progress.clone());
        let mut tar = HashingReader::new(io::BufReader::with_capacity(1 << 20, counted));
        let entries = entry::read_entries(&mut tar, &budget.limits)?;
        let (diff_id, tar_size) = tar.finish();
        layer
            .diff_id
            .verify(&diff_id, &format!("layer {number} content (diff_id)"))?;
        return Ok(LayerIndex {
            entries,
            content: Content::Tar(blob),
            tar_size,
        });
    }

    index_compressed(
        number,
        layer,
        blob.reader(),
        blob.len(),
        compression,
        blob_digest,
        spool_dir,
        progress,
        budget,
    )
}

/// A compressed layer in a registry, in one pass: a thread downloads it
/// into the inflater as the bytes arrive, so nothing is spooled and read
/// again, and a pull costs about the slower of downloading and inflating.
#[allow(clippy::too_many_arguments)]
fn index_downloaded(
    number: usize,
    layer: &LayerBlob,
    repo: &crate::registry::Repo,
    digest: &crate::digest::Digest,
    size: u64,
    compression: Compression,
    spool_dir: &Path,
    progress: &ProgressBar,
    budget: &Budget,
) -> Result<LayerIndex, LayerCause> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(16);
        let downloader = scope.spawn(move || {
            let mut w = decompress::ChannelWriter::new(tx);
            let fetched = repo.fetch_blob(digest, size, &mut w);
            if let Err(e) = &fetched {
                w.fail(e.to_string());
            }
            (fetched, w.hung_up)
        });
        let indexed = index_compressed(
            number,
            layer,
            decompress::ChannelReader::new(rx),
            size,
            compression,
            Some(digest),
            spool_dir,
            progress,
            budget,
        );
        let (fetched, hung_up) = downloader.join().expect("downloader thread panicked");
        match (fetched, indexed) {
            // The indexer stopped first, for its own reason, and hung up.
            (Err(_), Err(why)) if hung_up => Err(why),
            (Err(e), _) => Err(LayerCause::Fetch(e.into())),
            (Ok(()), indexed) => indexed,
        }
    })
}

/// Inflate, verify and index a compressed layer read from `source`.
#[allow(clippy::too_many_arguments)]
fn index_compressed(
    number: usize,
    layer: &LayerBlob,
    source: impl Read + Send,
    stored: u64,
    compression: Compression,
    blob_digest: Option<&crate::digest::Digest>,
    spool_dir: &Path,
    progress: &ProgressBar,
    budget: &Budget,
) -> Result<LayerIndex, LayerCause> {
    // Compressed: a helper thread reads, hashes and inflates while this one
    // hashes, indexes and spools the tar, so a single large layer (the usual
    // base layer) keeps two cores busy.
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(4);
        let inflater = scope
            .spawn(|| decompress::inflate_into(tx, source, stored, compression, progress, budget));
        let mut tar = HashingReader::new(decompress::ChannelReader::new(rx));
        let file = tempfile::tempfile_in(spool_dir).at(spool_dir)?;
        let mut tee = decompress::Tee::new(&mut tar, BufWriter::with_capacity(1 << 20, file));
        let entries = entry::read_entries(&mut tee, &budget.limits);
        let spool = tee.into_writer();
        let (diff_id, tar_size) = tar.finish(); // drops the receiver: the inflater cannot block
        let inflated = inflater.join().expect("inflater thread panicked");
        // What stopped the inflater is the cause of whatever the tar reader
        // saw (a limit, a corrupt stream); `Stopped` means the reader stopped
        // first, for a reason of its own.
        let blob_actual = match inflated {
            Ok(d) => Some(d),
            Err(InflateError::Stopped) => None,
            Err(e) => return Err(e.into()),
        };
        let entries = entries?;
        // The reader drains the stream to its end, so the inflater finished.
        let blob_actual = blob_actual.ok_or(LayerCause::Inflate(InflateError::Stopped))?;
        layer.diff_id.verify(
            &diff_id,
            &format!("layer {number} uncompressed content (diff_id)"),
        )?;
        if let Some(expected) = blob_digest {
            expected.verify(&blob_actual, &format!("layer {number} blob"))?;
        }
        let file = spool
            .into_inner()
            .map_err(|e| e.into_error())
            .at(spool_dir)?;
        Ok(LayerIndex {
            entries,
            content: Content::Tar(spooled(file, number)?),
            tar_size,
        })
    })
}

fn spooled(mut file: File, number: usize) -> Result<BlobFile, PathError> {
    let name = format!("spool of layer {number}");
    file.flush().at(&name)?;
    BlobFile::from_file(file, name)
}

/// Read a stream to its end (tar end-of-archive blocks, padding) so that its
/// digest covers every byte.
pub(crate) fn drain(r: &mut impl Read) -> io::Result<u64> {
    io::copy(r, &mut io::sink())
}
