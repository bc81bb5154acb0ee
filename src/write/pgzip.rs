//! Parallel, deterministic gzip.
//!
//! The input is cut into fixed 1 MiB chunks. Each chunk is deflated on its own
//! (on the rayon pool) with the previous chunk's last 32 KiB as a preset
//! dictionary, ended with a sync flush so chunks concatenate into one valid
//! deflate stream, as pigz does. Chunk boundaries depend only on byte offsets,
//! never on the number of threads, so the output (and its digest) is the same
//! on every machine. The CRC-32 of the chunks is combined in order.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc;

use flate2::{Compress, Compression, FlushCompress, Status};

const CHUNK: usize = 1 << 20;
const DICT: usize = 32 << 10;

type Compressed = io::Result<(Vec<u8>, crc32fast::Hasher)>;

/// A gzip writer whose chunks are compressed on the rayon pool while the
/// caller keeps producing input; results are written strictly in order.
pub struct ParallelGz<W: Write> {
    out: W,
    level: Compression,
    buf: Vec<u8>,
    /// Chunks being compressed, oldest first.
    in_flight: VecDeque<mpsc::Receiver<Compressed>>,
    max_in_flight: usize,
    /// Tail of the previous chunk: the next chunk's preset dictionary.
    dict: Vec<u8>,
    crc: crc32fast::Hasher,
    total: u64,
    /// The pool to compress on; `None` is rayon's global pool.
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
}

impl<W: Write> ParallelGz<W> {
    /// Start a gzip stream with a fixed header (no name, mtime 0, OS unknown).
    pub fn new(mut out: W, level: u32) -> io::Result<Self> {
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(ParallelGz {
            out,
            level: Compression::new(level),
            buf: Vec::with_capacity(CHUNK),
            in_flight: VecDeque::new(),
            max_in_flight: 4 * rayon::current_num_threads().max(1),
            dict: Vec::new(),
            crc: crc32fast::Hasher::new(),
            total: 0,
            pool: None,
        })
    }

    /// Compress on `pool` instead of the global pool.
    pub fn with_pool(
        out: W,
        level: u32,
        pool: std::sync::Arc<rayon::ThreadPool>,
    ) -> io::Result<Self> {
        let mut gz = Self::new(out, level)?;
        gz.max_in_flight = 4 * pool.current_num_threads();
        gz.pool = Some(pool);
        Ok(gz)
    }

    /// Hand `data` to the pool; `last` ends the deflate stream.
    fn spawn(&mut self, data: Vec<u8>, last: bool) -> io::Result<()> {
        let dict = std::mem::replace(&mut self.dict, tail(&data).to_vec());
        let level = self.level;
        let (tx, rx) = mpsc::sync_channel(1);
        let job = move || {
            let mut crc = crc32fast::Hasher::new();
            crc.update(&data);
            let _ = tx.send(deflate(&data, &dict, level, last).map(|d| (d, crc)));
        };
        match &self.pool {
            Some(pool) => pool.spawn(job),
            // On a pool thread, waiting for a queued task could deadlock: work inline.
            None if rayon::current_thread_index().is_some() => job(),
            None => rayon::spawn(job),
        }
        self.in_flight.push_back(rx);
        while self.in_flight.len() > self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(rx) = self.in_flight.pop_front() {
            let (deflated, crc) = rx
                .recv()
                .map_err(|_| io::Error::other("a compression task died"))??;
            self.out.write_all(&deflated)?;
            self.crc.combine(&crc);
        }
        Ok(())
    }

    /// Write the last block and the gzip trailer; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let last = std::mem::take(&mut self.buf);
        self.spawn(last, true)?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
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
            self.spawn(full, false)?;
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
