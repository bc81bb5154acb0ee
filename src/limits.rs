//! Resource limits against hostile images (SECURITY.md): how much a crafted
//! image may make slimify decompress, index and hold in memory. Each limit
//! has a flag that raises it, and exceeding one is an [`Exceeded`] error
//! that names both.

use std::sync::atomic::{AtomicU64, Ordering};

/// The limits of one run. `0` turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Uncompressed bytes of all layers together (`--max-image-size`).
    pub image_bytes: u64,
    /// Tar entries in one layer (`--max-entries`).
    pub layer_entries: u64,
    /// Bytes of one entry's path or link target (`--max-path-length`).
    pub path_bytes: u64,
    /// Components of one path (`--max-path-depth`).
    pub path_depth: u64,
    /// Uncompressed / compressed size of one layer (`--max-compression-ratio`),
    /// checked once a layer has inflated past [`RATIO_GRACE`].
    pub compression_ratio: u64,
}

/// Small layers may compress very well (a few files of zeros); the ratio
/// guard only looks at layers past this many uncompressed bytes.
pub const RATIO_GRACE: u64 = 64 << 20;

/// Largest JSON document (index, manifest, config) read into memory. Real
/// ones are kilobytes; this is fixed, not a flag.
pub const METADATA_BYTES: u64 = 16 << 20;

/// A PAX extended header holds a few records (path, times, xattrs): 1 MiB is
/// plenty. Fixed, like [`METADATA_BYTES`].
pub const PAX_HEADER_BYTES: u64 = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            image_bytes: 64 << 30,
            layer_entries: 4_000_000,
            path_bytes: 4096,
            path_depth: 256,
            // Real layers inflate 3-10x; gzip reaches about 1030:1 on zeros,
            // zstd far more.
            compression_ratio: 250,
        }
    }
}

/// A limit that a layer went past.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error(
        "a path of {len} bytes exceeds the limit of {limit} bytes; raise it with --max-path-length"
    )]
    PathLength { len: u64, limit: u64 },
    #[error("a path {depth} directories deep exceeds the limit of {limit} components; raise it with --max-path-depth")]
    PathDepth { depth: u64, limit: u64 },
    #[error("the number of tar entries exceeds the limit of {limit} entries; raise it with --max-entries")]
    Entries { limit: u64 },
    #[error("the image's uncompressed size exceeds the limit of {limit} bytes; raise it with --max-image-size")]
    ImageSize { limit: u64 },
    #[error("the layer inflates more than {limit}:1 ({inflated} bytes from {stored}), which looks like a decompression bomb; raise the limit with --max-compression-ratio")]
    Ratio {
        limit: u64,
        inflated: u64,
        stored: u64,
    },
    #[error("a GNU long {what} of {len} bytes exceeds the limit of {limit} bytes; raise it with --max-path-length")]
    LongName {
        what: &'static str,
        len: u64,
        limit: u64,
    },
    #[error("a PAX header of {len} bytes exceeds the fixed limit of {PAX_HEADER_BYTES} bytes")]
    PaxHeader { len: u64 },
}

impl Limits {
    pub fn unlimited() -> Self {
        Limits {
            image_bytes: 0,
            layer_entries: 0,
            path_bytes: 0,
            path_depth: 0,
            compression_ratio: 0,
        }
    }

    /// Check one entry's path (or link target) against the length and depth limits.
    pub fn check_path(&self, path: &str) -> Result<(), Exceeded> {
        if self.path_bytes > 0 && path.len() as u64 > self.path_bytes {
            return Err(Exceeded::PathLength {
                len: path.len() as u64,
                limit: self.path_bytes,
            });
        }
        let depth = path.split('/').filter(|c| !c.is_empty()).count() as u64;
        if self.path_depth > 0 && depth > self.path_depth {
            return Err(Exceeded::PathDepth {
                depth,
                limit: self.path_depth,
            });
        }
        Ok(())
    }

    pub fn check_entries(&self, entries: u64) -> Result<(), Exceeded> {
        if self.layer_entries > 0 && entries > self.layer_entries {
            return Err(Exceeded::Entries {
                limit: self.layer_entries,
            });
        }
        Ok(())
    }
}

/// The uncompressed bytes one image has used so far, shared by the layers
/// being indexed in parallel.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    used: AtomicU64,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            used: AtomicU64::new(0),
        }
    }

    pub fn unlimited() -> Self {
        Budget::new(Limits::unlimited())
    }

    /// Account `n` more uncompressed bytes of a layer that has produced
    /// `layer_out` bytes in all from a `stored`-byte blob.
    pub fn take(&self, n: u64, layer_out: u64, stored: u64) -> Result<(), Exceeded> {
        let used = self.used.fetch_add(n, Ordering::Relaxed) + n;
        let l = &self.limits;
        if l.image_bytes > 0 && used > l.image_bytes {
            return Err(Exceeded::ImageSize {
                limit: l.image_bytes,
            });
        }
        if l.compression_ratio > 0
            && layer_out > RATIO_GRACE
            && layer_out / stored.max(1) > l.compression_ratio
        {
            return Err(Exceeded::Ratio {
                limit: l.compression_ratio,
                inflated: layer_out,
                stored,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_their_flags() {
        let l = Limits::default();
        let depth = l.check_path(&"a/".repeat(300)).unwrap_err();
        assert!(depth.to_string().contains("--max-path-depth"));
        let len = l.check_path(&"a".repeat(5000)).unwrap_err();
        assert!(len.to_string().contains("--max-path-length"));
        assert!(l.check_path("usr/bin/env").is_ok());
        let b = Budget::new(Limits {
            image_bytes: 100 << 20,
            ..l
        });
        assert!(b.take(50 << 20, 50 << 20, 1 << 20).is_ok());
        let e = b.take(60 << 20, 110 << 20, 1 << 20).unwrap_err();
        assert!(e.to_string().contains("--max-image-size"), "{e}");
        let b = Budget::new(l);
        let e = b.take(200 << 20, 200 << 20, 100 << 10).unwrap_err();
        assert!(e.to_string().contains("--max-compression-ratio"), "{e}");
    }
}
