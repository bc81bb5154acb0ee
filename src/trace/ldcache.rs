//! The image's own `/etc/ld.so.cache`, parsed the way glibc's `dl-cache.c`
//! reads it, so library lookups see exactly what the dynamic loader inside the
//! image would see (never the host's cache).
//!
//! Two layouts exist: the "new" format (`glibc-ld.so.cache1.1`, the only one
//! glibc >= 2.32 writes) and the old `ld.so-1.7.0` format, which glibc < 2.32
//! wrote with a new-format table appended ("compat"). String offsets in the
//! new format are relative to the new header.

use std::fmt;

const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
const OLD_HEADER: usize = 16;
const OLD_ENTRY: usize = 12;

/// `flags & FLAG_TYPE_MASK` of a glibc (ELF, libc6) entry.
const FLAG_ELF_LIBC6: u32 = 0x0003;
const FLAG_TYPE_MASK: u32 = 0x00ff;
const FLAG_REQUIRED_MASK: u32 = 0xff00;

/// One library the cache knows: `soname => path`, for one ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEntry {
    pub soname: String,
    pub path: String,
    /// glibc's `FLAG_*` bits: the low byte is the library type, the high byte the ABI.
    pub flags: u32,
    pub hwcap: u64,
}

#[derive(Debug, Default)]
pub struct LdCache {
    pub entries: Vec<CacheEntry>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct CacheError(pub String);

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed ld.so.cache: {}", self.0)
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, CacheError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
        .ok_or_else(|| CacheError(format!("truncated at byte {at}")))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, CacheError> {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")))
        .ok_or_else(|| CacheError(format!("truncated at byte {at}")))
}

/// A NUL-terminated string at `at` of `b`.
fn cstr(b: &[u8], at: usize) -> Result<String, CacheError> {
    let tail = b
        .get(at..)
        .ok_or_else(|| CacheError(format!("string offset {at} is past the end")))?;
    let end = tail
        .iter()
        .position(|&c| c == 0)
        .ok_or_else(|| CacheError(format!("string at {at} is not terminated")))?;
    String::from_utf8(tail[..end].to_vec())
        .map_err(|_| CacheError(format!("string at {at} is not UTF-8")))
}

impl LdCache {
    /// Parse a cache file. Entries keep the file's order, which is the order
    /// ld.so searches them in (ldconfig sorts them by preference).
    pub fn parse(file: &[u8]) -> Result<Self, CacheError> {
        let new = if file.starts_with(NEW_MAGIC) {
            0
        } else if file.starts_with(OLD_MAGIC) {
            let nlibs = u32_at(file, OLD_MAGIC.len() + 1)? as usize;
            let end = nlibs
                .checked_mul(OLD_ENTRY)
                .and_then(|n| n.checked_add(OLD_HEADER))
                .ok_or_else(|| CacheError("old-format entry count overflows".into()))?;
            let aligned = end.div_ceil(8) * 8;
            if !file
                .get(aligned..)
                .is_some_and(|t| t.starts_with(NEW_MAGIC))
            {
                return Err(CacheError(
                    "old format without a new-format table is not supported".into(),
                ));
            }
            aligned
        } else {
            return Err(CacheError("unknown magic".into()));
        };
        let table = &file[new..];
        let nlibs = u32_at(table, 20)? as usize;
        let needed = nlibs
            .checked_mul(NEW_ENTRY)
            .and_then(|n| n.checked_add(NEW_HEADER))
            .ok_or_else(|| CacheError("entry count overflows".into()))?;
        if needed > table.len() {
            return Err(CacheError(format!(
                "{nlibs} entries do not fit in {} bytes",
                table.len()
            )));
        }
        let mut entries = Vec::with_capacity(nlibs);
        for i in 0..nlibs {
            let at = NEW_HEADER + i * NEW_ENTRY;
            entries.push(CacheEntry {
                flags: u32_at(table, at)?,
                soname: cstr(table, u32_at(table, at + 4)? as usize)?,
                path: cstr(table, u32_at(table, at + 8)? as usize)?,
                hwcap: u64_at(table, at + 16)?,
            });
        }
        Ok(LdCache { entries })
    }

    /// Paths the cache gives for `soname` for an ABI (`abi_flags`, see
    /// [`abi_flags`]), in the order ld.so tries them.
    pub fn lookup<'a>(&'a self, soname: &'a str, abi: u32) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |e| {
                e.soname == soname
                    && e.flags & FLAG_TYPE_MASK == FLAG_ELF_LIBC6
                    && e.flags & FLAG_REQUIRED_MASK == abi
            })
            .map(|e| e.path.as_str())
    }
}

/// glibc's `_DL_CACHE_DEFAULT_ID` ABI bits for an ELF class and machine
/// (sysdeps/*/dl-cache.h); `None` for machines whose cache we do not know.
pub fn abi_flags(is_64: bool, machine: u16) -> Option<u32> {
    use goblin::elf::header::*;
    Some(match (is_64, machine) {
        (true, EM_X86_64) => 0x0300,
        (false, EM_X86_64) => 0x0800, // x32
        (false, EM_386) => 0x0000,
        (true, EM_AARCH64) => 0x0a00,
        (false, EM_ARM) => 0x0900, // hard-float, what Debian armhf uses
        (true, EM_PPC64) => 0x0500,
        (true, EM_S390) => 0x0400,
        (true, EM_RISCV) => 0x1000, // lp64d
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_cache_matches_ldconfig() {
        let Ok(file) = std::fs::read("/etc/ld.so.cache") else {
            return; // not a glibc host
        };
        let cache = LdCache::parse(&file).unwrap();
        let out = std::process::Command::new("ldconfig")
            .arg("-p")
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&out.stdout);
        // "	libz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1"
        let expected: Vec<(String, String)> = listing
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (name, rest) = l.trim().split_once(' ')?;
                let path = rest.rsplit_once(" => ")?.1;
                Some((name.to_string(), path.to_string()))
            })
            .collect();
        let parsed: Vec<(String, String)> = cache
            .entries
            .iter()
            .map(|e| (e.soname.clone(), e.path.clone()))
            .collect();
        assert_eq!(parsed, expected);
        if cfg!(target_arch = "x86_64") {
            let libc: Vec<&str> = cache
                .lookup(
                    "libc.so.6",
                    abi_flags(true, goblin::elf::header::EM_X86_64).unwrap(),
                )
                .collect();
            assert_eq!(libc.len(), 1, "{libc:?}");
        }
    }

    #[test]
    fn malformed_caches_are_errors_not_panics() {
        let good = std::fs::read("/etc/ld.so.cache").unwrap_or_default();
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            b"garbage".to_vec(),
            NEW_MAGIC.to_vec(),
            [NEW_MAGIC, &[0xff; 40]].concat(),
            [OLD_MAGIC, &[0, 0xff, 0xff, 0xff, 0x7f]].concat(),
        ];
        if good.len() > 100 {
            cases.push(good[..good.len() / 2].to_vec());
            let mut bad_offset = good.clone();
            bad_offset[NEW_HEADER + 4..NEW_HEADER + 8].copy_from_slice(&u32::MAX.to_le_bytes());
            cases.push(bad_offset);
        }
        for c in cases {
            assert!(LdCache::parse(&c).is_err(), "{} bytes parsed", c.len());
        }
    }
}
