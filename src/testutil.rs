//! Synthetic layers for unit tests: tar streams built in memory, entry by entry.

use std::io::Write;

use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::layer::{index_layer, LayerIndex};
use crate::source::{Compression, LayerBlob};

/// Builds one layer tar with exactly the headers a test asks for.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    pub fn new() -> Self {
        LayerBuilder {
            tar: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    pub fn file(mut self, path: &str, data: &[u8]) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, 0o644, data.len() as u64);
        self.tar.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn file_with(mut self, path: &str, data: &[u8], mode: u32, uid: u64, gid: u64) -> Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.tar.append_data(&mut h, path, data).unwrap();
        self
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Directory, mode, 0);
        self.tar
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.tar.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.tar.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn fifo(mut self, path: &str) -> Self {
        let mut h = Self::header(tar::EntryType::Fifo, 0o600, 0);
        self.tar
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    pub fn char_device(mut self, path: &str, major: u32, minor: u32) -> Self {
        let mut h = Self::header(tar::EntryType::Char, 0o666, 0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        self.tar
            .append_data(&mut h, path, std::io::empty())
            .unwrap();
        self
    }

    /// A file preceded by PAX records (e.g. `SCHILY.xattr.security.capability`).
    pub fn file_with_pax(mut self, path: &str, data: &[u8], pax: &[(&str, &[u8])]) -> Self {
        self.tar.append_pax_extensions(pax.iter().copied()).unwrap();
        self.file(path, data)
    }

    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, b"")
    }

    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// A copy of the layer built so far, to trace it several ways.
    pub fn clone_layer(&self) -> LayerBuilder {
        let mut tar = tar::Builder::new(Vec::new());
        let bytes = self.tar.get_ref().clone();
        std::io::Write::write_all(tar.get_mut(), &bytes).unwrap();
        LayerBuilder { tar }
    }

    pub fn bytes(self) -> Vec<u8> {
        self.tar.into_inner().unwrap()
    }
}

/// Store `tar` (optionally gzip-compressed) in a temporary file and describe it
/// as a source layer with correct digests.
pub fn layer_blob(dir: &std::path::Path, n: usize, tar: &[u8], gzip: bool) -> LayerBlob {
    let diff_id = Digest::of(tar);
    let stored = if gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(tar).unwrap();
        e.finish().unwrap()
    } else {
        tar.to_vec()
    };
    let path = dir.join(format!("layer{n}"));
    std::fs::write(&path, &stored).unwrap();
    LayerBlob {
        blob: crate::source::Blob::Local(BlobFile::whole(&path).unwrap()),
        compression: if gzip {
            Compression::Gzip
        } else {
            Compression::None
        },
        digest: Some(Digest::of(&stored)),
        diff_id,
    }
}

/// Index layers the way the pipeline does.
pub fn index_all(dir: &std::path::Path, tars: &[Vec<u8>], gzip: bool) -> Vec<LayerIndex> {
    tars.iter()
        .enumerate()
        .map(|(i, t)| {
            let blob = layer_blob(dir, i, t, gzip);
            index_layer(
                i,
                &blob,
                dir,
                &indicatif::ProgressBar::hidden(),
                &crate::limits::Budget::unlimited(),
            )
            .unwrap()
        })
        .collect()
}
