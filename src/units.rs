//! Sizes and durations as people read and write them.

use std::time::Duration;

/// `452.3 MB`: decimal units, as `docker images` prints sizes.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Seconds rounded to hundredths, for summaries and reports.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}

/// A size that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error("{0:?}: unknown unit (use K, M, G or T)")]
    Unit(String),
    #[error("{0:?} is not a size (bytes, or a number with K, M, G or T)")]
    NotANumber(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// `4096`, `512K`, `64M`, `32G`, `1T` (binary units): the values of `--max-image-size`.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let s = s.trim();
    let (num, shift) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(SizeError::Unit(s.into())),
            };
            (&s[..i], shift)
        }
        _ => (s, 0),
    };
    let n: u64 = num.parse().map_err(|_| SizeError::NotANumber(s.into()))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| SizeError::TooLarge(s.into()))
}

/// `30MB`, `1.5GB` (decimal, as the summary prints sizes), `30MiB` (binary),
/// or what [`parse_size`] reads: the values of `--max-size`.
pub fn parse_human_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let units: [(&str, f64); 9] = [
        ("KiB", 1024.0),
        ("MiB", 1024.0 * 1024.0),
        ("GiB", 1024.0 * 1024.0 * 1024.0),
        ("TiB", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("B", 1.0),
    ];
    for (unit, factor) in units {
        if let Some(num) = t.strip_suffix(unit) {
            let n: f64 = num
                .trim()
                .parse()
                .map_err(|_| SizeError::NotANumber(s.into()))?;
            if !(n.is_finite() && n >= 0.0) {
                return Err(SizeError::NotANumber(s.into()));
            }
            let bytes = n * factor;
            if bytes > u64::MAX as f64 {
                return Err(SizeError::TooLarge(s.into()));
            }
            return Ok(bytes.round() as u64);
        }
    }
    parse_size(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_sizes_read_as_the_summary_prints_them() {
        assert_eq!(parse_human_size("30MB"), Ok(30_000_000));
        assert_eq!(parse_human_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_human_size("2MiB"), Ok(2 << 20));
        assert_eq!(parse_human_size("64M"), Ok(64 << 20));
        assert_eq!(parse_human_size("100"), Ok(100));
        assert!(parse_human_size("ten MB").is_err());
        assert!(parse_human_size("-1MB").is_err());
        assert!(parse_human_size("5PB").is_err());
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("64G").unwrap(), 64 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("1X").is_err() && parse_size("many").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(human(999), "999 B");
        assert_eq!(human(452_300_000), "452.3 MB");
    }
}
