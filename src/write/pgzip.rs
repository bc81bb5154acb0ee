//! Parallel, deterministic gzip.
//!
//! The input is cut into fixed 1 MiB chunks. Each chunk is deflated on its own
//! (on the rayon pool) with the previous chunk's last 32 KiB as a preset
//! dictionary, ended with a sync flush so chunks concatenate into one valid
//! deflate stream, as pigz does. Chunk boundaries depend only on byte offsets,
//! never on the number of threads, so the output (and its digest) is the same
//! on every machine. The CRC-32 of the chunks is combined in order.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};
use rayon::prelude::*;

const CHUNK: usize = 1 << 20;
const DICT: usize = 32 << 10;

pub struct ParallelGz<W: Write> {
    out: W,
    level: Compression,
    buf: Vec<u8>,
    pending: Vec<Vec<u8>>,
    /// Tail of the last chunk already compressed: the next chunk's dictionary.
    dict: Vec<u8>,
    crc: crc32fast::Hasher,
    total: u64,
    batch: usize,
}

impl<W: Write> ParallelGz<W> {
    /// Start a gzip stream with a fixed header (no name, mtime 0, OS unknown).
    pub fn new(mut out: W, level: u32) -> io::Result<Self> {
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(ParallelGz {
            out,
            level: Compression::new(level),
            buf: Vec::with_capacity(CHUNK),
            pending: Vec::new(),
            dict: Vec::new(),
            crc: crc32fast::Hasher::new(),
            total: 0,
            batch: 2 * rayon::current_num_threads().max(1),
        })
    }

    /// Compress what is pending; `last` is compressed with a final block.
    fn compress_pending(&mut self, last: Option<Vec<u8>>) -> io::Result<()> {
        let mut chunks = std::mem::take(&mut self.pending);
        let final_index = last.as_ref().map(|_| chunks.len());
        chunks.extend(last);
        if chunks.is_empty() {
            return Ok(());
        }
        let dicts: Vec<&[u8]> = std::iter::once(&self.dict[..])
            .chain(chunks.iter().map(|c| tail(c)))
            .collect();
        let level = self.level;
        let results: Vec<io::Result<(Vec<u8>, crc32fast::Hasher)>> = chunks
            .par_iter()
            .enumerate()
            .map(|(i, data)| {
                let mut crc = crc32fast::Hasher::new();
                crc.update(data);
                let deflated = deflate(data, dicts[i], level, Some(i) == final_index)?;
                Ok((deflated, crc))
            })
            .collect();
        for r in results {
            let (deflated, crc) = r?;
            self.out.write_all(&deflated)?;
            self.crc.combine(&crc);
        }
        self.dict = tail(chunks.last().expect("non-empty")).to_vec();
        Ok(())
    }

    /// Write the last block and the gzip trailer; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let last = std::mem::take(&mut self.buf);
        self.compress_pending(Some(last))?;
        let crc = self.crc.clone().finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.write_all(&(self.total as u32).to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn tail(c: &[u8]) -> &[u8] {
    &c[c.len().saturating_sub(DICT)..]
}

fn deflate(data: &[u8], dict: &[u8], level: Compression, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(level, false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 4096);
    loop {
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = c.total_in() as usize == data.len();
        let done = match status {
            Status::StreamEnd => true,
            // A sync flush is complete once all input is in and output space was left over.
            _ => !last && all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
        }
        out.reserve(out.capacity().max(64 << 10));
    }
}

impl<W: Write> Write for ParallelGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.total += n as u64;
        if self.buf.len() == CHUNK {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.pending.push(full);
            if self.pending.len() >= self.batch {
                self.compress_pending(None)?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunk boundaries must not depend on when callers flush.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(len: usize) -> Vec<u8> {
        // Compressible but not trivial: words with a changing counter.
        let mut v = Vec::with_capacity(len);
        let mut i = 0u64;
        while v.len() < len {
            v.extend_from_slice(format!("line {i} of the layer {}\n", i % 97).as_bytes());
            i = i
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                >> 40;
        }
        v.truncate(len);
        v
    }

    fn gz(data: &[u8], threads: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut w = ParallelGz::new(Vec::new(), 6).unwrap();
            // Uneven writes, to show the chunking ignores write boundaries.
            for piece in data.chunks(77_777) {
                w.write_all(piece).unwrap();
            }
            w.finish().unwrap()
        })
    }

    #[test]
    fn round_trips_through_a_standard_gzip_decoder() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 12345] {
            let data = sample(len);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&gz(&data, 2)[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "length {len}");
        }
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        let data = sample(9 * CHUNK + 4321);
        assert_eq!(gz(&data, 1), gz(&data, 3));
    }
}
