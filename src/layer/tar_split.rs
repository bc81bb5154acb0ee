//! A layer of the engine's store, indexed in place from its tar-split.
//!
//! For every layer it holds, Docker keeps a tar-split file
//! (`layerdb/sha256/<chain id>/tar-split.json.gz`, format of
//! github.com/vbatts/tar-split): the layer's original tar stream with every
//! file's data left out, as JSON lines. A `"type":2` line is a run of raw
//! tar bytes (headers, PAX records, padding), base64 in `payload`; a
//! `"type":1` line stands for the data of the file `name`, `size` bytes,
//! which lie in the layer's directory. `docker save` rebuilds each layer tar
//! from exactly these two parts.
//!
//! So does this module, without reading a file's data: it feeds the raw
//! bytes to the same tar reader as every other layer, with each file's data
//! stood in for by zeros, and notes at which offset of the stream each file's
//! data starts. Every header, PAX record, hard link and whiteout is then the
//! one `docker save` would have written, so the slim image is byte-for-byte
//! the one the `docker save` path makes; the kept files' bytes are read from
//! the layer directory when the writer copies them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use flate2::read::GzDecoder;
use indicatif::ProgressBar;
use serde::Deserialize;

use super::content::{Content, StoreDir};
use super::{entry, LayerCause, LayerIndex, ReadError};
use crate::limits::{Budget, Exceeded, PAX_HEADER_BYTES};
use crate::source::StoreLayer;

/// A layer of the store that cannot be read as the image said it would be.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: the layer's directory is gone: the image was deleted or changed while slimify read it", dir.display())]
    Gone { dir: PathBuf },
    #[error("{}: {source}", path.display())]
    TarSplit {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The longest JSON line accepted: a run of raw tar bytes holds at most a
/// PAX header (limited) and a few 512-byte blocks, base64-encoded.
const MAX_LINE: u64 = 2 * PAX_HEADER_BYTES + (1 << 16);

/// Index a layer of the store: read its tar-split, never its files.
pub(super) fn index(
    layer: &StoreLayer,
    progress: &ProgressBar,
    budget: &Budget,
) -> Result<LayerIndex, LayerCause> {
    if !layer.dir.is_dir() {
        return Err(StoreError::Gone {
            dir: layer.dir.clone(),
        }
        .into());
    }
    let tar_split = |source| StoreError::TarSplit {
        path: layer.tar_split.clone(),
        source,
    };
    let file = File::open(&layer.tar_split).map_err(tar_split)?;
    let lines = BufReader::with_capacity(1 << 16, GzDecoder::new(BufReader::new(file)));
    let mut stream = Stream::new(lines, progress.clone(), budget);
    let entries = entry::read_entries(&mut stream, &budget.limits);
    if let Some(x) = stream.exceeded.take() {
        return Err(LayerCause::Read(ReadError::Limit(x)));
    }
    let entries = entries.map_err(|e| match e {
        ReadError::Tar(io) => LayerCause::Store(tar_split(io)),
        other => LayerCause::Read(other),
    })?;
    Ok(LayerIndex {
        entries,
        content: Content::Store(Arc::new(StoreDir::new(layer.dir.clone(), stream.files))),
        tar_size: stream.pos,
    })
}

/// A tar-split line.
#[derive(Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    size: i64,
    #[serde(default)]
    payload: Option<String>,
}

const FILE: u8 = 1;
const SEGMENT: u8 = 2;

/// The layer's tar stream rebuilt from its tar-split, file data as zeros.
struct Stream<'a, R> {
    lines: R,
    line: Vec<u8>,
    line_number: u64,
    /// Raw tar bytes being passed on, and how many were.
    segment: Vec<u8>,
    taken: usize,
    /// Zeros still to pass for the current file's data.
    hole: u64,
    /// Bytes passed so far: the offset the next byte has in the tar stream.
    pos: u64,
    /// (data offset, name) of every file with data.
    files: Vec<(u64, Box<str>)>,
    done: bool,
    progress: ProgressBar,
    budget: &'a Budget,
    exceeded: Option<Exceeded>,
}

impl<'a, R: BufRead> Stream<'a, R> {
    fn new(lines: R, progress: ProgressBar, budget: &'a Budget) -> Self {
        Stream {
            lines,
            line: Vec::new(),
            line_number: 0,
            segment: Vec::new(),
            taken: 0,
            hole: 0,
            pos: 0,
            files: Vec::new(),
            done: false,
            progress,
            budget,
            exceeded: None,
        }
    }

    /// Read the next line into the segment or the hole.
    fn next_record(&mut self) -> io::Result<()> {
        self.line.clear();
        self.line_number += 1;
        let n = (&mut self.lines)
            .take(MAX_LINE)
            .read_until(b'\n', &mut self.line)?;
        if n == 0 {
            self.done = true;
            return Ok(());
        }
        let bad = |why: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("tar-split line {}: {why}", self.line_number),
            )
        };
        if n as u64 == MAX_LINE && self.line.last() != Some(&b'\n') {
            return Err(bad(format!("longer than {MAX_LINE} bytes")));
        }
        let record: Record = serde_json::from_slice(&self.line).map_err(|e| bad(e.to_string()))?;
        match record.kind {
            SEGMENT => {
                let payload = record.payload.unwrap_or_default();
                self.segment = base64::engine::general_purpose::STANDARD
                    .decode(payload)
                    .map_err(|e| bad(e.to_string()))?;
                self.taken = 0;
            }
            FILE if record.size > 0 => {
                let size = record.size as u64;
                let used = self.pos + size;
                if let Err(x) = self.budget.take(size, used, used) {
                    let e = io::Error::other(x.to_string());
                    self.exceeded = Some(x);
                    return Err(e);
                }
                // A name that is not UTF-8 comes as `name_raw`: the tar
                // reader refuses its header before this name is ever used.
                let name = record.name.unwrap_or_default();
                self.files.push((self.pos, name.into_boxed_str()));
                self.hole = size;
            }
            FILE => {}
            other => return Err(bad(format!("unknown entry type {other}"))),
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Stream<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::interrupt::check()?;
        loop {
            if self.taken < self.segment.len() {
                let n = (self.segment.len() - self.taken).min(buf.len());
                buf[..n].copy_from_slice(&self.segment[self.taken..self.taken + n]);
                self.taken += n;
                self.pos += n as u64;
                self.progress.inc(n as u64);
                return Ok(n);
            }
            if self.hole > 0 {
                let n = self.hole.min(buf.len() as u64) as usize;
                buf[..n].fill(0);
                self.hole -= n as u64;
                self.pos += n as u64;
                self.progress.inc(n as u64);
                return Ok(n);
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            self.next_record()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Change, Kind};
    use crate::limits::Limits;
    use std::io::Write;

    /// A tar-split of `tar` with the data of every regular file left out,
    /// as tar-split's own packer writes it.
    fn split(tar: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut archive = tar::Archive::new(tar);
        let mut last = 0usize;
        let seg = |out: &mut Vec<u8>, bytes: &[u8]| {
            let p = base64::engine::general_purpose::STANDARD.encode(bytes);
            writeln!(out, r#"{{"type":2,"payload":"{p}","position":0}}"#).unwrap();
        };
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            let start = e.raw_file_position() as usize;
            let size = e.size() as usize;
            seg(&mut out, &tar[last..start]);
            let name = e.path().unwrap().display().to_string();
            writeln!(
                out,
                r#"{{"type":1,"name":"{name}","size":{size},"payload":null,"position":1}}"#
            )
            .unwrap();
            last = start + size;
        }
        seg(&mut out, &tar[last..]);
        out
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_layer_indexes_like_its_tar_and_reads_from_its_directory() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, "usr/", io::empty()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o4755);
        h.set_size(5);
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, "usr/tool", &b"hello"[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        b.append_link(&mut h, "usr/again", "usr/tool").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        b.append_data(&mut h, "etc/.wh.motd", io::empty()).unwrap();
        let tar = b.into_inner().unwrap();

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("usr")).unwrap();
        std::fs::write(dir.path().join("usr/tool"), b"hello").unwrap();
        let ts = dir.path().join("tar-split.json.gz");
        std::fs::write(&ts, gz(&split(&tar))).unwrap();
        let layer = StoreLayer {
            dir: dir.path().to_path_buf(),
            tar_split: ts,
            size: 5,
        };
        let index = index(&layer, &ProgressBar::hidden(), &Budget::unlimited()).unwrap();
        let expected = entry::read_entries(&tar[..], &Limits::default()).unwrap();
        assert_eq!(index.entries, expected);
        assert_eq!(index.tar_size, tar.len() as u64);
        let Change::Add(Kind::File { offset, size }) = index.entries[1].change else {
            panic!("{:?}", index.entries[1]);
        };
        let mut data = String::new();
        index
            .content
            .open(offset, size)
            .read_to_string(&mut data)
            .unwrap();
        assert_eq!(data, "hello");
        assert!(matches!(index.entries[3].change, Change::Whiteout));

        // A layer larger than the image limit is refused by its declared sizes.
        let small = Budget::new(Limits {
            image_bytes: 4,
            ..Limits::default()
        });
        let e = super::index(&layer, &ProgressBar::hidden(), &small).unwrap_err();
        assert!(matches!(e, LayerCause::Read(ReadError::Limit(_))), "{e}");
    }

    #[test]
    fn a_damaged_tar_split_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let ts = dir.path().join("tar-split.json.gz");
        std::fs::write(&ts, gz(b"{\"type\":2,\"payload\":\"!!!\"}\n")).unwrap();
        let layer = StoreLayer {
            dir: dir.path().to_path_buf(),
            tar_split: ts,
            size: 0,
        };
        let e = index(&layer, &ProgressBar::hidden(), &Budget::unlimited()).unwrap_err();
        let text = format!("{e}");
        assert!(
            text.contains("tar-split.json.gz") && text.contains("line 1"),
            "{text}"
        );
        std::fs::remove_dir_all(dir.path()).unwrap();
        let e = index(&layer, &ProgressBar::hidden(), &Budget::unlimited()).unwrap_err();
        assert!(format!("{e}").contains("directory is gone"), "{e}");
    }
}
