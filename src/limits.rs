//! Resource limits against hostile images (SECURITY.md): how much a crafted
//! image may make slimify decompress, index and hold in memory. Each limit
//! has a flag that raises it, and exceeding one is an error that names both.

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
    pub fn check_path(&self, path: &str) -> Result<(), String> {
        if self.path_bytes > 0 && path.len() as u64 > self.path_bytes {
            return Err(exceeded(
                &format!("a path of {} bytes", path.len()),
                self.path_bytes,
                "bytes",
                "--max-path-length",
            ));
        }
        let depth = path.split('/').filter(|c| !c.is_empty()).count() as u64;
        if self.path_depth > 0 && depth > self.path_depth {
            return Err(exceeded(
                &format!("a path {depth} directories deep"),
                self.path_depth,
                "components",
                "--max-path-depth",
            ));
        }
        Ok(())
    }

    pub fn check_entries(&self, entries: u64) -> Result<(), String> {
        if self.layer_entries > 0 && entries > self.layer_entries {
            return Err(exceeded(
                "the number of tar entries",
                self.layer_entries,
                "entries",
                "--max-entries",
            ));
        }
        Ok(())
    }
}

fn exceeded(what: &str, limit: u64, unit: &str, flag: &str) -> String {
    format!("{what} exceeds the limit of {limit} {unit}; raise it with {flag}")
}

/// The uncompressed bytes one image has used so far, shared by the layers
/// being indexed in parallel.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    used: AtomicU64,
}

/// A limit was exceeded while reading a stream: travels inside an `io::Error`
/// so the reader can tell it from a corrupt stream.
#[derive(Debug)]
pub struct Exceeded(pub String);

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Exceeded {}

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
            return Err(Exceeded(exceeded(
                "the image's uncompressed size",
                l.image_bytes,
                "bytes",
                "--max-image-size",
            )));
        }
        if l.compression_ratio > 0
            && layer_out > RATIO_GRACE
            && layer_out / stored.max(1) > l.compression_ratio
        {
            return Err(Exceeded(format!(
                "the layer inflates more than {}:1 ({layer_out} bytes from {stored}), which looks like a decompression bomb; raise the limit with --max-compression-ratio",
                l.compression_ratio
            )));
        }
        Ok(())
    }
}

/// `4096`, `512K`, `64M`, `32G`, `1T` (binary units): the values of `--max-image-size`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{s:?}: unknown unit (use K, M, G or T)")),
            };
            (&s[..i], shift)
        }
        _ => (s, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (bytes, or a number with K, M, G or T)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_limits_name_their_flags() {
        assert_eq!(parse_size("64G").unwrap(), 64 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("1X").is_err() && parse_size("many").is_err());
        let l = Limits::default();
        assert!(l
            .check_path(&"a/".repeat(300))
            .unwrap_err()
            .contains("--max-path-depth"));
        assert!(l
            .check_path(&"a".repeat(5000))
            .unwrap_err()
            .contains("--max-path-length"));
        assert!(l.check_path("usr/bin/env").is_ok());
        let b = Budget::new(Limits {
            image_bytes: 100 << 20,
            ..l
        });
        assert!(b.take(50 << 20, 50 << 20, 1 << 20).is_ok());
        let e = b.take(60 << 20, 110 << 20, 1 << 20).unwrap_err().0;
        assert!(e.contains("--max-image-size"), "{e}");
        let b = Budget::new(l);
        let e = b.take(200 << 20, 200 << 20, 100 << 10).unwrap_err().0;
        assert!(e.contains("--max-compression-ratio"), "{e}");
    }
}
