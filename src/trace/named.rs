//! Paths that kept programs and code name: configuration a program has
//! compiled in (`/etc/nginx/nginx.conf`) and the absolute paths written in
//! it, and paths an app's own code or scripts name.

use std::collections::BTreeSet;

use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

/// A tree named in configuration larger than this is not kept wholesale.
pub(in crate::trace) const MAX_NAMED_TREE: usize = 20_000;

impl Tracer<'_> {
    /// Configuration a program names: an absolute `/etc/...` path compiled
    /// into a traced program (nginx's `/etc/nginx/nginx.conf`) keeps that
    /// program's whole `/etc/NAME` directory, since configuration includes its
    /// siblings; then the absolute paths written in those files (a web root,
    /// an `include`, a pid file to create) are named paths
    /// ([`Tracer::keep_named`]).
    pub(in crate::trace) fn named_configuration(&mut self) {
        let mut config_dirs = BTreeSet::new();
        for prog in self.elf.programs.clone() {
            let base = prog.file_name();
            if base.starts_with("lib") || base.starts_with("ld-") {
                continue;
            }
            let Some((_, bytes)) = self.fs().read(prog.as_str()) else {
                continue;
            };
            for s in c_strings(&bytes, b"/etc/") {
                let Some(top) = s.trim_start_matches('/').split('/').nth(1) else {
                    continue;
                };
                // Certificates are the essentials' business (and --no-certs').
                if top.is_empty() || matches!(top, "ssl" | "pki" | "ca-certificates") {
                    continue;
                }
                let dir = ImagePath::root().join("etc").join(top);
                if !self.fs().get(dir.as_str()).is_some_and(|n| n.is_dir()) {
                    continue;
                }
                if self.real(&s).is_some() && config_dirs.insert(dir.clone()) {
                    self.keep_tree(&dir, &format!("configuration named by {prog}"));
                }
            }
        }
        for dir in config_dirs {
            let files: Vec<ImagePath> = self
                .fs()
                .descendants(&dir)
                .filter(|(_, n)| n.is_file() && n.size() < 1 << 20)
                .map(|(p, _)| p.clone())
                .collect();
            for f in files {
                let Some((_, bytes)) = self.fs().read(f.as_str()) else {
                    continue;
                };
                if bytes.contains(&0) {
                    continue; // not text
                }
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let why = Reason::NamedIn(f.clone());
                for word in text.split(|c: char| c.is_whitespace() || "\"';=,()".contains(c)) {
                    // `include /etc/nginx/conf.d/*.conf`: the directory before the glob.
                    let path = word.split('*').next().unwrap_or("");
                    if path.starts_with('/') && path.len() > 1 {
                        self.keep_named(path.trim_end_matches('/'), &why);
                    }
                }
            }
        }
    }

    /// Absolute paths an app's own code names as string literals
    /// (`open("/data/seed.json")`, `F = "/opt/features"`) or a script passes
    /// as arguments, kept as named paths ([`Tracer::keep_named`]); the
    /// top-level hierarchies say nothing about what an app needs.
    pub(in crate::trace) fn keep_named_paths<'t>(
        &mut self,
        words: impl Iterator<Item = &'t str>,
        named_in: &ImagePath,
    ) {
        /// Top-level hierarchies that say nothing about what an app needs.
        const HIERARCHIES: &[&str] = &[
            "/", "/etc", "/usr", "/var", "/opt", "/home", "/root", "/srv", "/mnt", "/media",
            "/boot",
        ];
        let why = Reason::runtime("named in", named_in);
        for word in words {
            let path = word.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            if !path.starts_with('/')
                || path.contains(['$', '{', '%', '*', '\\'])
                || HIERARCHIES.contains(&path)
            {
                continue;
            }
            // Code that names a directory it is itself in (a bundle's
            // build-time project root, `/app`) names where it lives, not
            // what it reads: the directory, not its tree.
            if let Some(real) = self.real(path).filter(|r| named_in.starts_with(r)) {
                self.keep(&real, why.clone());
                continue;
            }
            self.keep_named(path, &why);
        }
    }

    /// Absolute paths compiled into an interpreter (`real`) or the library of
    /// its own it links (`lib_prefix*`: libperl, libruby, libnode), as
    /// `(object, path)`: where a runtime keeps its library directories.
    pub(in crate::trace) fn compiled_paths(
        &self,
        real: &ImagePath,
        lib_prefix: &str,
    ) -> Vec<(ImagePath, String)> {
        let mut out: Vec<(ImagePath, String)> = Vec::new();
        for o in self.runtime_objects(real, lib_prefix) {
            let Some((o_real, bytes)) = self.fs().read(o.as_str()) else {
                continue;
            };
            for s in c_strings(&bytes, b"/") {
                if !s.contains("/debug/") && !out.iter().any(|(_, p)| *p == s) {
                    out.push((o_real.clone(), s));
                }
            }
        }
        out
    }
}

impl Tracer<'_> {
    /// An interpreter and the library of its own it links (`lib_prefix*`:
    /// libperl, libpython, libnode), real paths.
    fn runtime_objects(&self, real: &ImagePath, lib_prefix: &str) -> Vec<ImagePath> {
        let mut objects = vec![real.clone()];
        if let Some(info) = self.loader.elf_info(real) {
            for n in info.needed.iter().filter(|n| n.starts_with(lib_prefix)) {
                objects.extend(self.loader.find_library(n, &info));
            }
        }
        objects
    }

    /// A runtime models what its interpreter and its own library load (see
    /// [`Tracer::models`]).
    pub(in crate::trace) fn models_runtime(&mut self, real: &ImagePath, lib_prefix: &str) {
        for o in self.runtime_objects(real, lib_prefix) {
            self.models(&o);
        }
    }
}

/// Directories shared by the whole system: naming one in a config file
/// (`/usr/lib`, `/var/lib`) says nothing about what a program needs.
pub(in crate::trace) fn is_system_dir(path: &ImagePath) -> bool {
    is_system_dir_str(&path.to_string())
}

/// Directories every program shares: naming one says nothing about what a
/// program needs below it (the system directories, plus the top-level
/// hierarchies and the documentation trees).
pub(in crate::trace) fn is_shared_dir(path: &ImagePath) -> bool {
    const SHARED: &[&str] = &[
        "/",
        "/usr",
        "/etc",
        "/var",
        "/opt",
        "/home",
        "/root",
        "/srv",
        "/mnt",
        "/media",
        "/boot",
        "/usr/games",
        "/usr/share/doc",
        "/usr/share/man",
        "/usr/share/info",
    ];
    is_system_dir(path) || SHARED.contains(&path.to_string().as_str())
}

/// [`is_system_dir`] for an absolute path as written (`/usr/lib`).
pub(in crate::trace) fn is_system_dir_str(path: &str) -> bool {
    const SYSTEM: &[&str] = &[
        "/usr/lib",
        "/usr/lib64",
        "/usr/share",
        "/usr/bin",
        "/usr/sbin",
        "/usr/local",
        "/usr/include",
        "/usr/libexec",
        "/usr/src",
        "/var/lib",
        "/var/cache",
        "/var/log",
        "/var/tmp",
        "/var/run",
        "/var/spool",
        "/etc/ssl",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/local/bin",
        "/usr/local/lib",
        "/usr/local/share",
    ];
    SYSTEM.contains(&path)
        || [
            "/proc", "/sys", "/dev", "/run", "/tmp", "/bin", "/sbin", "/lib", "/lib64",
        ]
        .iter()
        .any(|r| path == *r || path.starts_with(&format!("{r}/")))
}

/// NUL-terminated printable strings in `bytes` starting with `prefix`.
pub(in crate::trace) fn c_strings<'b>(
    bytes: &'b [u8],
    prefix: &'b [u8],
) -> impl Iterator<Item = String> + 'b {
    bytes
        .windows(prefix.len())
        .enumerate()
        .filter(move |(_, w)| *w == prefix)
        .filter_map(move |(i, _)| {
            if i > 0 && bytes[i - 1] != 0 {
                return None; // inside a longer string
            }
            let end = bytes[i..].iter().position(|&b| b == 0)?;
            let s = &bytes[i..i + end];
            (s.len() < 256 && s.iter().all(|b| b.is_ascii_graphic()))
                .then(|| String::from_utf8_lossy(s).into_owned())
        })
}
