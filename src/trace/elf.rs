//! What the dynamic loader needs to know about one ELF file, read with goblin.
//! Nothing is ever executed, so binaries of any architecture are read alike.

use goblin::elf::program_header::{PF_W, PF_X, PT_LOAD};
use goblin::elf::section_header::SHT_PROGBITS;
use goblin::elf::Elf;

/// The loader-relevant facts of an ELF object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    pub is_64: bool,
    pub machine: u16,
    /// PT_INTERP: the dynamic loader's path; `None` for static binaries
    /// (including static-pie, which is ET_DYN without PT_INTERP).
    pub interpreter: Option<String>,
    /// DT_NEEDED, in order.
    pub needed: Vec<String>,
    /// DT_RPATH entries (colon lists split); ld.so ignores them when DT_RUNPATH is present.
    pub rpath: Vec<String>,
    /// DT_RUNPATH entries.
    pub runpath: Vec<String>,
    /// `(offset, length)` in the file of its read-only data: the `.rodata`
    /// sections where C string literals live, or, in a file without section
    /// headers, the read-only segments that are not code.
    pub rodata: Vec<(usize, usize)>,
}

/// A file that starts like ELF but that goblin cannot parse (the message is goblin's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("broken ELF: {0}")]
pub struct BrokenElf(pub String);

/// Where the read-only data of `elf` is, clamped to the file's `len` bytes.
fn read_only_data(elf: &Elf, len: usize) -> Vec<(usize, usize)> {
    let clamp = |offset: u64, size: u64| {
        let start = (offset as usize).min(len);
        (start, (size as usize).min(len - start))
    };
    let sections: Vec<(usize, usize)> = elf
        .section_headers
        .iter()
        .filter(|s| s.sh_type == SHT_PROGBITS)
        .filter(|s| {
            elf.shdr_strtab
                .get_at(s.sh_name)
                .is_some_and(|n| n.starts_with(".rodata"))
        })
        .map(|s| clamp(s.sh_offset, s.sh_size))
        .collect();
    if !sections.is_empty() || !elf.section_headers.is_empty() {
        return sections;
    }
    elf.program_headers
        .iter()
        .filter(|p| p.p_type == PT_LOAD && p.p_flags & (PF_W | PF_X) == 0)
        .map(|p| clamp(p.p_offset, p.p_filesz))
        .collect()
}

/// The four bytes every ELF file starts with.
pub fn is_elf(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
}

impl ElfInfo {
    /// `Ok(None)` when `bytes` is not ELF; an error when it claims to be and is broken.
    pub fn parse(bytes: &[u8]) -> Result<Option<Self>, BrokenElf> {
        if !is_elf(bytes) {
            return Ok(None);
        }
        let elf = Elf::parse(bytes).map_err(|e| BrokenElf(e.to_string()))?;
        let split = |v: &[&str]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(':'))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        Ok(Some(ElfInfo {
            is_64: elf.is_64,
            machine: elf.header.e_machine,
            interpreter: elf.interpreter.map(str::to_string),
            needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
            rpath: split(&elf.rpaths),
            runpath: split(&elf.runpaths),
            rodata: read_only_data(&elf, bytes.len()),
        }))
    }

    /// Whether `other` can be loaded into the same process (ELF class and machine).
    pub fn compatible(&self, other: &ElfInfo) -> bool {
        self.is_64 == other.is_64 && self.machine == other.machine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_dynamic_binary_like_readelf_does() {
        let bytes = std::fs::read("/bin/ls")
            .or_else(|_| std::fs::read("/usr/bin/ls"))
            .unwrap();
        let info = ElfInfo::parse(&bytes).unwrap().expect("ls is ELF");
        assert!(!info.rodata.is_empty());
        let interp = info.interpreter.as_deref().unwrap();
        assert!(
            interp.contains("ld-linux") || interp.contains("ld-musl"),
            "{interp}"
        );
        // The same DT_NEEDED list readelf prints, in the same order.
        let out = std::process::Command::new("readelf")
            .args(["-d", "/bin/ls"])
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            let needed: Vec<String> = text
                .lines()
                .filter(|l| l.contains("(NEEDED)"))
                .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
                .collect();
            assert_eq!(info.needed, needed);
        }
    }

    #[test]
    fn non_elf_is_none_and_broken_elf_is_an_error() {
        assert_eq!(ElfInfo::parse(b"#!/bin/sh\n").unwrap(), None);
        assert!(ElfInfo::parse(b"\x7fELF\x02\x01\x01").is_err());
        let mut bytes = std::fs::read("/bin/ls").unwrap();
        bytes.truncate(200);
        assert!(ElfInfo::parse(&bytes).is_err());
    }
}
