//! What every process of the image may need whatever it runs: what glibc
//! loads by name (NSS modules, libgcc_s), CA certificates, the user and
//! resolver databases, /tmp, the WorkingDir, VOLUME content, locale data and
//! time zone data.

use std::collections::BTreeSet;

use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

/// `etc/passwd` and friends as image paths.
fn path(p: &str) -> ImagePath {
    ImagePath::parse(p).expect("a literal image path")
}

impl Tracer<'_> {
    /// What glibc loads by name at run time: the NSS modules nsswitch.conf
    /// names, and libgcc_s (pthread_cancel and unwinding dlopen it).
    pub(in crate::trace) fn runtime_libraries(&mut self) {
        let Some(libc_user) = self.elf.glibc.clone() else {
            return;
        };
        let mut wanted: Vec<(String, String)> = vec![(
            "libgcc_s.so.1".into(),
            "libgcc_s, which glibc loads for thread cancellation".into(),
        )];
        if let Some((real, bytes)) = self.fs().read("etc/nsswitch.conf") {
            self.keep(
                &real,
                Reason::Essential("name service switch configuration".into()),
            );
            for line in String::from_utf8_lossy(&bytes).lines() {
                let line = line.split('#').next().unwrap_or("");
                let Some((db, services)) = line.split_once(':') else {
                    continue;
                };
                for s in services.split_whitespace().filter(|s| !s.starts_with('[')) {
                    wanted.push((
                        format!("libnss_{s}.so.2"),
                        format!("NSS module for {} (nsswitch.conf)", db.trim()),
                    ));
                }
            }
        }
        for (soname, why) in wanted {
            // Since glibc 2.34 `files` and `dns` live in libc; their stubs may be absent.
            if let Some(lib) = self.loader.find_library(&soname, &libc_user) {
                self.program(&lib.to_string(), Reason::Essential(why));
            }
        }
    }

    pub(in crate::trace) fn essentials(&mut self) {
        if self.opts().certs {
            for p in [
                "etc/ssl/certs",
                "etc/ssl/cert.pem",
                "etc/pki/tls/certs",
                "etc/pki/tls/cert.pem",
                "etc/pki/ca-trust/extracted",
            ] {
                self.keep_tree(&path(p), "CA certificates");
            }
        }
        if self.elf.openssl {
            for p in ["usr/lib/ssl", "etc/ssl/openssl.cnf"] {
                self.keep_tree(&path(p), "OpenSSL configuration");
            }
        }
        for (p, why) in [
            ("etc/passwd", "user database"),
            ("etc/group", "group database"),
            ("etc/hosts", "resolver files"),
            ("etc/host.conf", "resolver files"),
            ("etc/gai.conf", "resolver files"),
            ("etc/resolv.conf", "resolver files"),
            ("etc/ld.so.cache", "dynamic loader cache"),
            ("etc/ld.so.conf", "dynamic loader configuration"),
            ("etc/ld.so.conf.d", "dynamic loader configuration"),
            ("tmp", "world-writable temporary directory"),
        ] {
            self.keep_tree(&path(p), why);
        }
        // Docker and Kubernetes (emptyDir aside) copy the image's content at
        // a VOLUME path into a new volume: the app expects to find it there.
        for v in self.run().volumes.clone() {
            match ImagePath::parse(&v) {
                Ok(v) if !v.is_root() => {
                    self.keep_tree(&v, "content of a VOLUME (seeds the volume)")
                }
                _ => {}
            }
        }
        // Apps write caches and settings under $HOME: the directory must be
        // there, owned as in the image (its content only where named).
        let home = self.home_dir();
        if !home.is_root() {
            if let Ok(Some(r)) = self.fs().resolve(home.as_str(), true) {
                if self.is_dir(&r.real) {
                    for l in r.links {
                        self.keep(&l, Reason::LinkTo(r.real.clone()));
                    }
                    self.keep(
                        &r.real,
                        Reason::Essential("the home directory of the image's user".into()),
                    );
                }
            }
        }
        let wd = self.run().working_dir();
        if !wd.is_root() {
            if let Some(real) = self.real(wd.as_str()) {
                self.keep(&real, Reason::Essential("WorkingDir".into()));
            }
        }
        self.locales();
        if self.runtimes_said.wants_time_zones || self.programs_name_zoneinfo() {
            for p in ["usr/share/zoneinfo", "etc/localtime", "etc/timezone"] {
                self.keep_tree(
                    &path(p),
                    "time zone data (TZ is set or a program names zoneinfo)",
                );
            }
        }
    }

    /// The locale data glibc loads for LANG, LC_ALL and LC_* in Env: the
    /// locale's directory under /usr/lib/locale (`C.UTF-8` is `C.utf8`), or
    /// the locale archive that holds it. Without it a program falls back to
    /// the C locale (perl warns on every start).
    fn locales(&mut self) {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for e in &self.run().env {
            if let Some((k, v)) = e.split_once('=') {
                if (k == "LANG" || k == "LC_ALL" || k.starts_with("LC_"))
                    && !matches!(v, "" | "C" | "POSIX")
                {
                    names.insert(v.to_string());
                }
            }
        }
        for name in names {
            let (lang, rest) = name.split_once('.').unwrap_or((&name, ""));
            let (codeset, modifier) = rest
                .split_once('@')
                .map_or((rest, String::new()), |(c, m)| (c, format!("@{m}")));
            let normal: String = codeset
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            let candidates = [
                name.clone(),
                format!("{lang}.{normal}{modifier}"),
                lang.to_string(),
            ];
            let locale_dir = path("usr/lib/locale");
            let found = candidates
                .iter()
                .filter(|c| !c.contains('/') && !c.is_empty())
                .map(|c| locale_dir.join(c))
                .find(|p| self.fs().get(p.as_str()).is_some());
            let why = format!("locale data for {name} (named in Env)");
            match found {
                Some(dir) => self.keep_tree(&dir, &why),
                None => self.keep_tree(&locale_dir.join("locale-archive"), &why),
            }
        }
    }

    /// Evidence for time zone use: TZ in Env, or a traced program that names
    /// the zoneinfo database (Go's time package embeds the path, as does glibc's
    /// tzset in libc, so only the programs themselves count).
    fn programs_name_zoneinfo(&self) -> bool {
        if self.run().env_var("TZ").is_some() {
            return true;
        }
        self.elf
            .programs
            .iter()
            .filter(|p| !self.is_modeled(p))
            .any(|p| {
                let base = p.file_name();
                !base.starts_with("libc.so")
                    && !base.starts_with("ld-")
                    && self
                        .fs()
                        .read(p.as_str())
                        .is_some_and(|(_, b)| b.windows(8).any(|w| w == b"zoneinfo"))
            })
    }
}
