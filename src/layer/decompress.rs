//! Decoders for the three layer encodings, and small stream adapters.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc;

use indicatif::ProgressBar;

use crate::blob::BlobFile;
use crate::digest::{Digest, HashingReader};
use crate::limits::{Budget, Exceeded};
use crate::source::Compression;

/// Decide the compression of a blob without a media type by its magic bytes.
pub fn sniff(blob: &BlobFile) -> io::Result<Compression> {
    let mut magic = [0u8; 4];
    let mut r = blob.slice(0, 4);
    let mut n = 0;
    while n < 4 {
        match r.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        _ => Compression::None,
    })
}

/// Wrap `r` in the decoder for `c`. gzip uses flate2's zlib-rs backend, the
/// fastest inflate we measured; several gzip members are read as one stream.
pub fn decoder<'a, R: BufRead + 'a>(c: Compression, r: R) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::None | Compression::Sniff => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

/// Counts bytes read into a progress bar.
pub struct Counting<R> {
    inner: R,
    progress: ProgressBar,
}

impl<R> Counting<R> {
    pub fn new(inner: R, progress: ProgressBar) -> Self {
        Counting { inner, progress }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::interrupt::check()?;
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

/// Copies everything read through it into a writer (the decompressed spool).
pub struct Tee<R, W> {
    inner: R,
    out: W,
}

impl<R: Read, W: Write> Tee<R, W> {
    pub fn new(inner: R, out: W) -> Self {
        Tee { inner, out }
    }

    pub fn into_writer(self) -> W {
        self.out
    }
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// Decompressed data in flight between the inflater and the indexer.
pub type Chunk = io::Result<Vec<u8>>;

/// Why inflating a layer stopped.
#[derive(Debug, thiserror::Error)]
pub enum InflateError {
    #[error(transparent)]
    Limit(Exceeded),
    #[error("decompressing the layer")]
    Io(#[source] io::Error),
    /// The indexer stopped reading (it reports why).
    #[error("indexing stopped")]
    Stopped,
}

/// Read the `stored` bytes of a blob from `source`, hash them, inflate them
/// and send the tar stream in 1 MiB chunks. Returns the blob's digest (over
/// every byte, trailing ones included).
pub fn inflate_into(
    tx: mpsc::SyncSender<Chunk>,
    source: impl Read,
    stored: u64,
    c: Compression,
    progress: &ProgressBar,
    budget: &Budget,
) -> Result<Digest, InflateError> {
    let counted = Counting::new(source, progress.clone());
    let mut outer = io::BufReader::with_capacity(1 << 20, HashingReader::new(counted));
    let result = (|| {
        let mut decoder = decoder(c, &mut outer).map_err(InflateError::Io)?;
        let mut out = 0u64;
        loop {
            let mut buf = vec![0u8; 1 << 20];
            let n = read_up_to(&mut decoder, &mut buf).map_err(InflateError::Io)?;
            if n == 0 {
                break;
            }
            // Limits are checked as the stream inflates, so a bomb stops
            // after at most one chunk past the limit.
            out += n as u64;
            budget
                .take(n as u64, out, stored)
                .map_err(InflateError::Limit)?;
            buf.truncate(n);
            if tx.send(Ok(buf)).is_err() {
                return Err(InflateError::Stopped);
            }
        }
        drop(decoder);
        super::drain(&mut outer).map_err(InflateError::Io)?;
        Ok(())
    })();
    match result {
        Ok(()) => Ok(outer.into_inner().finish().0),
        Err(e) => {
            // The indexer sees the stream end in an error and stops; the
            // caller reads the typed reason from this thread's result.
            let _ = tx.send(Err(io::Error::other(e.to_string())));
            Err(e)
        }
    }
}

/// Fill `buf` as far as the stream allows; fewer bytes only at its end.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted && crate::interrupt::check().is_ok() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `Write` that sends what is written, in chunks, to a [`ChannelReader`] on
/// another thread (a download feeding the inflater). A reader that hung up
/// (it stopped for a reason of its own) makes writes fail with BrokenPipe,
/// and is remembered in `hung_up`.
pub struct ChannelWriter {
    tx: mpsc::SyncSender<Chunk>,
    pub hung_up: bool,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::SyncSender<Chunk>) -> Self {
        ChannelWriter { tx, hung_up: false }
    }

    /// End the stream with an error the reader returns.
    pub fn fail(&self, why: String) {
        let _ = self.tx.send(Err(io::Error::other(why)));
    }
}

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.tx.send(Ok(buf.to_vec())).is_err() {
            self.hung_up = true;
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `Read` over the chunks an [`inflate_into`] thread (or a [`ChannelWriter`])
/// sends; its end of the stream is the sender hanging up.
pub struct ChannelReader {
    rx: mpsc::Receiver<Chunk>,
    buf: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<Chunk>) -> Self {
        ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
