//! A watch on the tar stream below the `tar` crate: that crate reads a GNU
//! long-name or long-link entry, and a PAX extended header, whole into memory
//! before it yields the entry they describe, so a crafted layer could make it
//! allocate gigabytes before any check of slimify's runs. This reader follows
//! the stream's 512-byte headers itself and refuses such an entry by its
//! declared size, before a byte of it is read.
//!
//! A refusal stops the stream with a plain I/O error (so the tar crate
//! stops) and keeps the typed reason, which the reader takes back with
//! [`HeaderGuard::exceeded`] once the tar crate has given up.

use std::io::{self, Read};

use crate::limits::{Exceeded, Limits, PAX_HEADER_BYTES};

const BLOCK: usize = 512;

pub struct HeaderGuard<R> {
    inner: R,
    /// Longest GNU long name or link the limits allow (with its NUL).
    max_name: u64,
    header: Vec<u8>,
    /// Bytes of the current entry's data (and padding) still to pass.
    skip: u64,
    /// A PAX header's records being collected, and how many bytes they have.
    pax: Option<(Vec<u8>, u64)>,
    /// `size` from a PAX header: the next entry's real data size.
    size_override: Option<u64>,
    /// Why the stream was stopped, if it was.
    exceeded: Option<Exceeded>,
}

impl<R: Read> HeaderGuard<R> {
    pub fn new(inner: R, limits: &Limits) -> Self {
        HeaderGuard {
            inner,
            max_name: if limits.path_bytes == 0 {
                u64::MAX
            } else {
                limits.path_bytes + 1
            },
            header: Vec::with_capacity(BLOCK),
            skip: 0,
            pax: None,
            size_override: None,
            exceeded: None,
        }
    }

    /// The limit that stopped the stream, if one did.
    pub fn exceeded(&self) -> Option<&Exceeded> {
        self.exceeded.as_ref()
    }

    fn refuse(&mut self, why: Exceeded) -> io::Result<()> {
        let e = io::Error::other(why.to_string());
        self.exceeded = Some(why);
        Err(e)
    }

    fn feed(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            if self.skip > 0 {
                let k = (self.skip.min(data.len() as u64)) as usize;
                if let Some((buf, want)) = &mut self.pax {
                    let room = (*want as usize).saturating_sub(buf.len()).min(k);
                    buf.extend_from_slice(&data[..room]);
                }
                self.skip -= k as u64;
                data = &data[k..];
                if self.skip == 0 {
                    if let Some((buf, _)) = self.pax.take() {
                        self.size_override = pax_size(&buf);
                    }
                }
                continue;
            }
            let k = (BLOCK - self.header.len()).min(data.len());
            self.header.extend_from_slice(&data[..k]);
            data = &data[k..];
            if self.header.len() == BLOCK {
                self.header_done()?;
                self.header.clear();
            }
        }
        Ok(())
    }

    fn header_done(&mut self) -> io::Result<()> {
        let h = &self.header;
        if h.iter().all(|&b| b == 0) {
            return Ok(()); // end-of-archive block
        }
        let typeflag = h[156];
        let size = field_size(&h[124..136])
            .ok_or_else(|| io::Error::other("a tar header has an unreadable size field"))?;
        let data = match typeflag {
            b'L' | b'K' => {
                if size > self.max_name {
                    return self.refuse(Exceeded::LongName {
                        what: if typeflag == b'L' {
                            "name"
                        } else {
                            "link target"
                        },
                        len: size,
                        limit: self.max_name - 1,
                    });
                }
                size
            }
            b'x' | b'g' => {
                if size > PAX_HEADER_BYTES {
                    return self.refuse(Exceeded::PaxHeader { len: size });
                }
                if typeflag == b'x' {
                    self.pax = Some((Vec::with_capacity(size as usize), size));
                }
                size
            }
            _ => self.size_override.take().unwrap_or(size),
        };
        self.skip = data.div_ceil(BLOCK as u64) * BLOCK as u64;
        if self.skip == 0 {
            if let Some((buf, _)) = self.pax.take() {
                self.size_override = pax_size(&buf);
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.feed(&buf[..n])?;
        Ok(n)
    }
}

/// A header's size field: octal digits, or base-256 when the high bit is set.
fn field_size(f: &[u8]) -> Option<u64> {
    if f[0] & 0x80 != 0 {
        let mut v: u64 = u64::from(f[0] & 0x7f);
        for &b in &f[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let digits: Vec<u8> = f
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| (b'0'..=b'7').contains(&b))
        .collect();
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(std::str::from_utf8(&digits).ok()?, 8).ok()
}

/// The `size` record of PAX extended header data (`<len> size=<n>\n`).
fn pax_size(records: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(records)
        .lines()
        .find_map(|l| l.split_once(' ')?.1.strip_prefix("size=")?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &[u8], typeflag: u8, size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(size);
        h.set_entry_type(tar::EntryType::new(typeflag));
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    /// Read the whole stream through a guard; the limit it stopped at, if any.
    fn read_all(stream: &[u8]) -> Option<Exceeded> {
        let mut g = HeaderGuard::new(stream, &Limits::default());
        let result = io::copy(&mut g, &mut io::sink());
        assert_eq!(result.is_err(), g.exceeded().is_some());
        g.exceeded().cloned()
    }

    #[test]
    fn a_huge_long_name_is_refused_by_its_declared_size() {
        // The header alone: the 1 GiB of name never has to exist.
        let err = read_all(&header(b"././@LongLink", b'L', 1 << 30)).unwrap();
        assert!(matches!(err, Exceeded::LongName { len, .. } if len == 1 << 30));
        let err = read_all(&header(b"pax", b'x', 64 << 20)).unwrap();
        assert_eq!(err, Exceeded::PaxHeader { len: 64 << 20 });
    }

    #[test]
    fn real_archives_pass_and_pax_sizes_keep_the_walk_in_step() {
        let mut b = tar::Builder::new(Vec::new());
        let long = "d/".repeat(100) + "file";
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        // A PAX header whose size record overrides the next header's size field.
        let record = b"16 size=1000000\n";
        let mut s = header(b"pax", b'x', record.len() as u64);
        s.extend_from_slice(record);
        s.resize(s.len().div_ceil(512) * 512, 0);
        s.extend(header(b"big", b'0', 0));
        s.extend(vec![0u8; 1_000_000usize.div_ceil(512) * 512]);
        // Whatever follows is a header again: a huge long name must be seen.
        s.extend(header(b"././@LongLink", b'L', 1 << 30));
        let mut stream = b.into_inner().unwrap();
        stream.truncate(stream.len() - 1024); // drop the end-of-archive blocks
        stream.extend(&s);
        let err = read_all(&stream).unwrap();
        assert!(err.to_string().contains("--max-path-length"), "{err}");
    }
}
