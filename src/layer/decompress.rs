//! Decoders for the three layer encodings, and small stream adapters.

use std::io::{self, BufRead, Read, Write};

use indicatif::ProgressBar;

use crate::source::{BlobFile, Compression};

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
