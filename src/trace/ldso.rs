//! The dynamic loader's library search, replayed inside the image.
//!
//! For every DT_NEEDED name of an object, in the order ld.so(8) gives:
//! 1. a name with a `/` is a path;
//! 2. DT_RPATH of the object, then of the object that loaded it, up to the
//!    executable, but only when the object has no DT_RUNPATH;
//! 3. LD_LIBRARY_PATH from the image's Env;
//! 4. the object's own DT_RUNPATH;
//! 5. the image's /etc/ld.so.cache (glibc; musl reads /etc/ld-musl-ARCH.path);
//! 6. the default directories (Debian multiarch, lib64, lib).
//!
//! `$ORIGIN`, `$LIB` and `$PLATFORM` are expanded; where the expansion depends
//! on the CPU the image will run on (`$PLATFORM`, glibc-hwcaps subdirectories)
//! every variant present in the image is kept, so the slim image works on any
//! CPU the fat one works on. Only libraries of the requester's ELF class and
//! machine are accepted, as ld.so does. Symlinks resolve inside the image.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};

use super::elf::{BrokenElf, ElfInfo};
use super::ldcache::{abi_flags, LdCache};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::rootfs::RootFs;

/// The result of tracing: every image path needed, with the first reason it
/// was needed (`None` for the traced file itself, whose reason the caller
/// knows), plus names that could not be found.
#[derive(Debug, Default)]
pub struct Trace {
    pub needed: BTreeMap<ImagePath, Option<Reason>>,
    /// `(soname, the object that needs it)`.
    pub missing: Vec<(String, ImagePath)>,
    /// The traced file's own ELF facts.
    pub info: Option<ElfInfo>,
}

/// An ELF file the loader search cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ElfError {
    pub path: ImagePath,
    #[source]
    pub source: BrokenElf,
}

/// A library found where ld.so would find it.
struct Found {
    real: ImagePath,
    /// Symlinks passed on the way.
    links: Vec<ImagePath>,
    /// glibc-hwcaps variants of it in the same directory.
    variants: Vec<ImagePath>,
    info: ElfInfo,
    /// The path it was found as (its `$ORIGIN` is that directory).
    found_as: String,
}

/// One loaded object on the way: its path and where it came from.
struct Loaded {
    path: ImagePath,
    /// The directory `$ORIGIN` means for it: ld.so takes it from the path the
    /// object was found as (a search directory or the cache entry), before
    /// symlinks; only the executable's comes from its real path.
    origin: String,
    info: ElfInfo,
    /// Index of the object that loaded it (`None` for the executable).
    loader: Option<usize>,
}

pub struct Loader<'a> {
    fs: &'a RootFs,
    cache: Option<LdCache>,
    ld_library_path: Vec<String>,
    /// ELF facts by real path: every program traced needs libc and friends
    /// again, and a runtime's modules are hundreds of programs.
    parsed: RefCell<ParseCache>,
}

type ParseCache = HashMap<ImagePath, Result<Option<ElfInfo>, BrokenElf>>;

fn multiarch_triplet(info: &ElfInfo) -> Option<&'static str> {
    use goblin::elf::header::*;
    Some(match (info.is_64, info.machine) {
        (true, EM_X86_64) => "x86_64-linux-gnu",
        (false, EM_386) => "i386-linux-gnu",
        (true, EM_AARCH64) => "aarch64-linux-gnu",
        (false, EM_ARM) => "arm-linux-gnueabihf",
        (true, EM_PPC64) => "powerpc64le-linux-gnu",
        (true, EM_S390) => "s390x-linux-gnu",
        (true, EM_RISCV) => "riscv64-linux-gnu",
        _ => return None,
    })
}

/// `$PLATFORM` values glibc may use for a machine.
fn platforms(info: &ElfInfo) -> &'static [&'static str] {
    use goblin::elf::header::*;
    match info.machine {
        EM_X86_64 => &["x86_64", "haswell", "xeon_phi"],
        EM_386 => &["i686", "i586", "i486", "i386"],
        EM_AARCH64 => &["aarch64"],
        EM_ARM => &["v7l", "v6l", "v5l"],
        _ => &[],
    }
}

/// glibc-hwcaps subdirectory names for a machine (glibc >= 2.33).
fn hwcaps(info: &ElfInfo) -> &'static [&'static str] {
    use goblin::elf::header::*;
    match info.machine {
        EM_X86_64 => &["x86-64-v4", "x86-64-v3", "x86-64-v2"],
        EM_PPC64 => &["power10", "power9"],
        EM_S390 => &["z16", "z15", "z14", "z13"],
        _ => &[],
    }
}

impl<'a> Loader<'a> {
    /// A loader for `fs` with the image's `Env` (only LD_LIBRARY_PATH is read).
    pub fn new(fs: &'a RootFs, env: &[String]) -> Self {
        let cache = fs
            .read("etc/ld.so.cache")
            .and_then(|(_, b)| LdCache::parse(&b).ok());
        let ld_library_path = env
            .iter()
            .find_map(|e| e.strip_prefix("LD_LIBRARY_PATH="))
            .map(|v| {
                v.split([':', ';'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Loader {
            fs,
            cache,
            ld_library_path,
            parsed: RefCell::new(HashMap::new()),
        }
    }

    /// ELF facts of the file at the real path `real` (`None` for a file that
    /// is not ELF), read and parsed once per file; `None` when it is not a file.
    fn elf_of(&self, real: &ImagePath) -> Option<Result<Option<ElfInfo>, BrokenElf>> {
        if let Some(known) = self.parsed.borrow().get(real) {
            return Some(known.clone());
        }
        let (_, bytes) = self.fs.read(real.as_str())?;
        let info = ElfInfo::parse(&bytes);
        self.parsed.borrow_mut().insert(real.clone(), info.clone());
        Some(info)
    }

    /// The ELF facts of the file at the real path `real`, when it is ELF.
    pub fn elf_info(&self, real: &ImagePath) -> Option<ElfInfo> {
        self.elf_of(real)?.ok()?
    }

    /// Expand `$ORIGIN`, `$LIB`, `$PLATFORM` (also `${...}`) in a search
    /// directory; several results where the value depends on the machine.
    fn expand(&self, dir: &str, origin: &str, info: &ElfInfo) -> Vec<String> {
        let mut out = vec![dir.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)];
        let mut libs = vec!["lib".to_string(), "lib64".to_string()];
        if let Some(t) = multiarch_triplet(info) {
            libs.push(format!("lib/{t}"));
        }
        for (var, values) in [
            ("LIB", libs),
            (
                "PLATFORM",
                platforms(info).iter().map(|s| s.to_string()).collect(),
            ),
        ] {
            out = out
                .into_iter()
                .flat_map(|d| {
                    if d.contains(&format!("${var}")) || d.contains(&format!("${{{var}}}")) {
                        values
                            .iter()
                            .map(|v| {
                                d.replace(&format!("${{{var}}}"), v)
                                    .replace(&format!("${var}"), v)
                            })
                            .collect()
                    } else {
                        vec![d]
                    }
                })
                .collect();
        }
        out
    }

    fn default_dirs(&self, info: &ElfInfo, musl: bool) -> Vec<String> {
        if musl {
            let arch = match info.machine {
                goblin::elf::header::EM_X86_64 => "x86_64",
                goblin::elf::header::EM_AARCH64 => "aarch64",
                goblin::elf::header::EM_386 => "i386",
                _ => "",
            };
            if let Some((_, b)) = self.fs.read(&format!("etc/ld-musl-{arch}.path")) {
                return String::from_utf8_lossy(&b)
                    .split([':', '\n'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            return vec!["/lib".into(), "/usr/local/lib".into(), "/usr/lib".into()];
        }
        let mut dirs = Vec::new();
        if let Some(t) = multiarch_triplet(info) {
            dirs.push(format!("/lib/{t}"));
            dirs.push(format!("/usr/lib/{t}"));
        }
        if info.is_64 {
            dirs.push("/lib64".into());
            dirs.push("/usr/lib64".into());
        }
        dirs.push("/lib".into());
        dirs.push("/usr/lib".into());
        dirs
    }

    /// A compatible ELF library at `path`, with the symlinks on the way.
    fn candidate(
        &self,
        path: &str,
        wanted: &ElfInfo,
    ) -> Option<(ImagePath, Vec<ImagePath>, ElfInfo)> {
        let r = self.fs.resolve(path, true).ok()??;
        let info = self.elf_of(&r.real)?.ok()??;
        wanted.compatible(&info).then_some((r.real, r.links, info))
    }

    /// Where the loader would find `soname` for a program like `like` when
    /// it is loaded by name at run time (dlopen): the cache, then the defaults.
    pub fn find_library(&self, soname: &str, like: &ElfInfo) -> Option<ImagePath> {
        let musl = like
            .interpreter
            .as_deref()
            .is_some_and(|i| i.contains("ld-musl"));
        let me = Loaded {
            path: ImagePath::root(),
            origin: "/".into(),
            info: ElfInfo {
                needed: Vec::new(),
                rpath: Vec::new(),
                runpath: Vec::new(),
                ..like.clone()
            },
            loader: None,
        };
        self.search(soname, &[me], 0, musl).map(|f| f.real)
    }

    /// Find `soname` for `objects[requester]`; returns the real path, the
    /// links on the way, extra variants, the library's ELF info and the path
    /// it was found as.
    fn search(
        &self,
        soname: &str,
        objects: &[Loaded],
        requester: usize,
        musl: bool,
    ) -> Option<Found> {
        let obj = &objects[requester];
        let origin_of = |o: &Loaded| o.origin.clone();
        if soname.contains('/') {
            let (real, links, info) = self.candidate(soname, &obj.info)?;
            return Some(Found {
                real,
                links,
                variants: Vec::new(),
                info,
                found_as: soname.to_string(),
            });
        }
        let mut dirs: Vec<String> = Vec::new();
        if obj.info.runpath.is_empty() {
            let mut at = Some(requester);
            while let Some(i) = at {
                let o = &objects[i];
                for d in &o.info.rpath {
                    dirs.extend(self.expand(d, &origin_of(o), &o.info));
                }
                at = o.loader;
            }
        }
        dirs.extend(self.ld_library_path.iter().cloned());
        for d in &obj.info.runpath {
            dirs.extend(self.expand(d, &origin_of(obj), &obj.info));
        }
        let try_dirs = |dirs: &[String]| {
            dirs.iter().find_map(|d| {
                let path = format!("{}/{soname}", d.trim_end_matches('/'));
                let (real, links, info) = self.candidate(&path, &obj.info)?;
                let variants = hwcaps(&obj.info)
                    .iter()
                    .filter_map(|h| {
                        let p = format!("{}/glibc-hwcaps/{h}/{soname}", d.trim_end_matches('/'));
                        self.candidate(&p, &obj.info).map(|(r, _, _)| r)
                    })
                    .collect::<Vec<_>>();
                Some(Found {
                    real,
                    links,
                    variants,
                    info,
                    found_as: path,
                })
            })
        };
        if let Some(found) = try_dirs(&dirs) {
            return Some(found);
        }
        if !musl {
            if let (Some(cache), Some(abi)) =
                (&self.cache, abi_flags(obj.info.is_64, obj.info.machine))
            {
                for path in cache.lookup(soname, abi) {
                    if let Some((real, links, info)) = self.candidate(path, &obj.info) {
                        return Some(Found {
                            real,
                            links,
                            variants: Vec::new(),
                            info,
                            found_as: path.to_string(),
                        });
                    }
                }
            }
        }
        try_dirs(&self.default_dirs(&obj.info, musl))
    }

    /// Trace the ELF file at `path` (symlinks on the way are followed and
    /// needed too) and everything the loader would map for it. `Ok(None)`
    /// when it is not ELF (or not a file of the image).
    pub fn trace(&self, path: &str) -> Result<Option<Trace>, ElfError> {
        let Ok(Some(resolved)) = self.fs.resolve(path, true) else {
            return Ok(None);
        };
        let real = &resolved.real;
        let info = match self.elf_of(real) {
            None | Some(Ok(None)) => return Ok(None),
            Some(Err(source)) => {
                return Err(ElfError {
                    path: real.clone(),
                    source,
                })
            }
            Some(Ok(Some(info))) => info,
        };
        let mut trace = Trace::default();
        for l in resolved.links {
            trace
                .needed
                .entry(l)
                .or_insert(Some(Reason::LinkTo(real.clone())));
        }
        let musl = info
            .interpreter
            .as_deref()
            .is_some_and(|i| i.contains("ld-musl"));
        let origin = real.parent().to_string();
        let mut objects = vec![Loaded {
            path: real.clone(),
            origin,
            info,
            loader: None,
        }];
        if let Some(interp) = objects[0].info.interpreter.clone() {
            match self.candidate(&interp, &objects[0].info) {
                Some((ireal, links, _)) => {
                    for l in links {
                        trace
                            .needed
                            .entry(l)
                            .or_insert(Some(Reason::LinkTo(ireal.clone())));
                    }
                    trace
                        .needed
                        .entry(ireal)
                        .or_insert(Some(Reason::Interpreter(real.clone())));
                }
                None => trace.missing.push((interp, real.clone())),
            }
        }
        // Breadth-first like ld.so; each soname is loaded once per process.
        let mut queue = VecDeque::from([0usize]);
        let mut loaded_sonames: BTreeMap<String, ImagePath> = BTreeMap::new();
        while let Some(i) = queue.pop_front() {
            for soname in objects[i].info.needed.clone() {
                if loaded_sonames.contains_key(&soname) {
                    continue;
                }
                let Some(found) = self.search(&soname, &objects, i, musl) else {
                    trace
                        .missing
                        .push((soname.clone(), objects[i].path.clone()));
                    continue;
                };
                let lib = found.real;
                loaded_sonames.insert(soname.clone(), lib.clone());
                for l in found.links {
                    trace
                        .needed
                        .entry(l)
                        .or_insert(Some(Reason::LinkTo(lib.clone())));
                }
                for v in found.variants {
                    trace
                        .needed
                        .entry(v)
                        .or_insert(Some(Reason::Variant(lib.clone())));
                }
                if trace.needed.contains_key(&lib) || lib == objects[0].path {
                    continue; // already loaded under another name (or a cycle)
                }
                trace.needed.insert(
                    lib.clone(),
                    Some(Reason::Library {
                        soname,
                        of: objects[i].path.clone(),
                    }),
                );
                let origin = found.found_as.rsplit_once('/').map_or("/", |(d, _)| d);
                objects.push(Loaded {
                    origin: if origin.is_empty() {
                        "/".into()
                    } else {
                        origin.to_string()
                    },
                    path: lib,
                    info: found.info,
                    loader: Some(i),
                });
                queue.push_back(objects.len() - 1);
            }
        }
        trace.needed.insert(real.clone(), None);
        trace.info = Some(objects.swap_remove(0).info);
        Ok(Some(trace))
    }
}

#[cfg(test)]
mod tests;
