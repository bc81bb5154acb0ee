//! Paths programs name. A program opens what it is told to open and what
//! it was built to open, so two kinds of evidence name paths it needs:
//!
//! - **the command line**: every word of every command the image runs (the
//!   Entrypoint, Cmd and Healthcheck, `--entrypoint`/`--cmd`, and each
//!   command of a traced script): absolute paths, paths relative to the
//!   WorkingDir that exist there, the values of `--opt=VALUE`, `-oVALUE` and
//!   `KEY=VALUE`, `file://` URLs, and `:`-separated lists of them;
//! - **the binary**: absolute path strings in the read-only data of every
//!   traced ELF program and library (`/var/lib/nginx/body`, a database's
//!   `lib/` and `share/` directories), and the words of the configuration
//!   files a program names ([`super::named`]).
//!
//! A named file is kept (and traced when it is a program or a script); a
//! named directory is kept with its tree, unless it is a system-wide
//! directory (`/usr/lib`, `/var/lib`, ...), which says nothing about the
//! program, or larger than [`MAX_NAMED_TREE`] entries (a warning); a named
//! path that does not exist keeps its nearest existing directory, with its
//! mode and owner, so the program can create the path there.
//!
//! What other rules decide is left to them: certificates (`--no-certs`),
//! time zone and locale data, and what a runtime loads by its own model of
//! itself (a Python interpreter names its whole standard library; the
//! Python runtime keeps what the app imports).

use std::collections::BTreeSet;

use super::named::{is_shared_dir, MAX_NAMED_TREE};
use super::runtime::Invocation;
use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

/// Trees other rules decide about: a path under one is no evidence here.
const DECIDED_ELSEWHERE: &[&str] = &[
    // Certificates: the essentials, and --no-certs.
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
    // Time zones: TZ, or a program naming the database.
    "/usr/share/zoneinfo",
    "/etc/localtime",
    "/etc/timezone",
    // Locales: LANG and LC_* in Env.
    "/usr/lib/locale",
    "/usr/share/locale",
    "/usr/share/i18n",
    // The kernel's, never the image's.
    "/proc",
    "/sys",
    "/dev",
];

/// The C library and the dynamic loader name the system's own files (NSS,
/// gconv, locales, time zones); the essentials model what they load.
fn is_c_runtime(path: &ImagePath) -> bool {
    let base = path.file_name();
    base.starts_with("libc.so")
        || base.starts_with("ld-linux")
        || base.starts_with("ld-musl")
        || base.starts_with("libc.musl")
}

impl Tracer<'_> {
    /// The paths the words of `inv`'s command line name (its program, the
    /// first word, is traced already).
    pub(in crate::trace) fn command_line_evidence(&mut self, inv: &Invocation) {
        let why = Reason::CommandLine(inv.what.to_string());
        for word in inv.argv.iter().skip(1) {
            for path in paths_in_word(word) {
                if path.starts_with('/') {
                    self.keep_named(&path, &why);
                } else if let Some(abs) = self.relative_that_exists(&path) {
                    self.keep_named(&abs, &why);
                }
            }
        }
    }

    /// `path` taken from the WorkingDir, when something is there.
    fn relative_that_exists(&self, path: &str) -> Option<String> {
        let abs = self.absolute(path);
        self.real(&abs).map(|_| abs)
    }

    /// The paths in the read-only data of every traced ELF object not read
    /// yet, and of the objects those paths bring in, until nothing new is traced.
    pub(in crate::trace) fn binary_evidence(&mut self) {
        loop {
            let next: Vec<ImagePath> = self
                .elf
                .programs
                .iter()
                .filter(|p| !self.elf.scanned.contains(*p))
                .cloned()
                .collect();
            if next.is_empty() {
                break;
            }
            for object in next {
                self.elf.scanned.insert(object.clone());
                if is_c_runtime(&object) || self.is_modeled(&object) {
                    continue;
                }
                let why = Reason::NamedIn(object.clone());
                for path in self.path_strings(&object) {
                    self.keep_named(&path, &why);
                }
            }
        }
    }

    /// Absolute path strings in `object`'s read-only data.
    fn path_strings(&self, object: &ImagePath) -> Vec<String> {
        let Some(info) = self.loader.elf_info(object) else {
            return Vec::new();
        };
        let Some((_, bytes)) = self.fs().read(object.as_str()) else {
            return Vec::new();
        };
        let mut out = BTreeSet::new();
        for (offset, len) in info.rodata {
            out.extend(path_strings(&bytes[offset..offset + len]));
        }
        out.into_iter().collect()
    }

    /// Keep what a named path needs (see the module docs).
    pub(in crate::trace) fn keep_named(&mut self, path: &str, why: &Reason) {
        if DECIDED_ELSEWHERE
            .iter()
            .any(|d| path == *d || path.starts_with(&format!("{d}/")))
        {
            return;
        }
        let Ok(resolved) = self.fs().resolve(path, true) else {
            return; // a symlink loop: nothing a program could open either
        };
        let Some(resolved) = resolved else {
            self.keep_nearest_directory(path, why);
            return;
        };
        let real = resolved.real;
        if real.is_root() || self.is_kept(&real) || self.is_modeled(&real) {
            for l in resolved.links {
                self.keep(&l, Reason::LinkTo(real.clone()));
            }
            return;
        }
        let Some(node) = self.fs().get(real.as_str()) else {
            return;
        };
        if node.is_executable_file() {
            self.program(path, why.clone());
            return;
        }
        for l in resolved.links {
            self.keep(&l, Reason::LinkTo(real.clone()));
        }
        if !node.is_dir() || is_shared_dir(&real) {
            self.keep(&real, why.clone());
            return;
        }
        let size = self.fs().descendants(&real).count();
        if size > MAX_NAMED_TREE {
            self.keep(&real, why.clone());
            self.warn(format!(
                "{real} ({why}) holds {size} entries, more than {MAX_NAMED_TREE}: only the directory is kept; keep what is needed with --include"
            ));
            return;
        }
        self.keep_tree_where(&real, why, &|_| false);
    }

    /// A named path that is not in the image: keep the nearest directory
    /// above it that is, so the program can create it there.
    fn keep_nearest_directory(&mut self, path: &str, why: &Reason) {
        let Ok(named) = ImagePath::parse(path) else {
            return; // `..` in a path that does not exist: nothing to go on
        };
        for dir in named.ancestors() {
            if dir.is_root() {
                return;
            }
            let Ok(Some(r)) = self.fs().resolve(dir.as_str(), true) else {
                continue;
            };
            if !self.is_dir(&r.real) {
                return; // a file on the way: the path cannot be created
            }
            for l in r.links {
                self.keep(&l, Reason::LinkTo(r.real.clone()));
            }
            let because = Reason::DirectoryOf {
                named: named.to_string(),
                reason: Box::new(why.clone()),
            };
            self.keep(&r.real, because);
            return;
        }
    }
}

/// The candidate paths a command-line word names: itself, the value of
/// `--opt=VALUE`, `-oVALUE` or `KEY=VALUE`, a `file://` URL's path, and
/// each part of a `:`-separated list. Relative candidates are returned as
/// written (the caller keeps them only when they exist in the WorkingDir).
pub(in crate::trace) fn paths_in_word(word: &str) -> Vec<String> {
    let value = if let Some((flag, value)) = word.split_once('=') {
        // `--opt=VALUE`, `-o=VALUE`, `KEY=VALUE`
        let is_key = flag
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if is_key && !flag.trim_start_matches('-').is_empty() {
            value
        } else {
            word
        }
    } else if word.starts_with('-') && !word.starts_with("--") && word.len() > 2 {
        // `-oVALUE`: only a value that looks like a path.
        let attached = &word[2..];
        if attached.starts_with('/') || attached.starts_with("./") {
            attached
        } else {
            return Vec::new();
        }
    } else if word.starts_with('-') {
        return Vec::new();
    } else {
        word
    };
    let value = value
        .strip_prefix("file://localhost")
        .or_else(|| value.strip_prefix("file://"))
        .or_else(|| value.strip_prefix("file:").filter(|p| p.starts_with('/')))
        .unwrap_or(value);
    if value.contains("://") {
        return Vec::new(); // another URL scheme
    }
    value
        .split(':')
        .filter(|p| looks_like_path(p))
        .map(|p| p.trim_end_matches('/').to_string())
        .map(|p| if p.is_empty() { "/".into() } else { p })
        .collect()
}

/// A word that could name a file: no blanks, no shell or format syntax, not
/// empty, not too long.
fn looks_like_path(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 4096
        && p != "."
        && p != ".."
        && !p.starts_with('-')
        && !p
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "$%*?[]{}<>|;&`\"'\\".contains(c))
}

/// Absolute paths among the NUL-terminated strings of `data`: printable,
/// at least one name long, not a format string (`%s`), a glob or a prefix
/// meant to be completed (ending in `/`).
pub(in crate::trace) fn path_strings(data: &[u8]) -> impl Iterator<Item = String> + '_ {
    data.split(|&b| b == 0)
        .filter(|s| s.len() >= 2 && s.len() < 256 && s[0] == b'/')
        .filter(|s| s.iter().all(|b| b.is_ascii_graphic()))
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .filter(|s| {
            !s.ends_with('/')
                && !s.contains("//")
                && !s.contains(['%', '*', '?', '[', '{', '$', '\\', '<', '>', '"', '\''])
                && s[1..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &str) -> Vec<String> {
        paths_in_word(w)
    }

    #[test]
    fn command_line_words_name_paths_in_every_form() {
        assert_eq!(words("/etc/redis/app.conf"), ["/etc/redis/app.conf"]);
        assert_eq!(words("--directory=/srv/www"), ["/srv/www"]);
        assert_eq!(words("--config-file=conf/app.yml"), ["conf/app.yml"]);
        assert_eq!(words("-c/etc/app.ini"), ["/etc/app.ini"]);
        assert_eq!(words("DATA_DIR=/var/lib/app/"), ["/var/lib/app"]);
        assert_eq!(words("file:///app/data.txt"), ["/app/data.txt"]);
        assert_eq!(words("file://localhost/app/x"), ["/app/x"]);
        assert_eq!(words("/usr/lib/a:/opt/b"), ["/usr/lib/a", "/opt/b"]);
        assert_eq!(words("app.conf"), ["app.conf"]);
        // Not paths: options, URLs, shell syntax, addresses' parts are only
        // candidates (kept when they exist in the WorkingDir).
        assert!(words("-v").is_empty() && words("--verbose").is_empty());
        assert!(words("-n4").is_empty());
        assert!(words("http://127.0.0.1:8080/").is_empty());
        assert!(words("$HOME/x").is_empty() && words("*.conf").is_empty());
        assert!(words("exec python3 /app/x.py").is_empty());
        assert!(words(".").is_empty());
        assert_eq!(words("0.0.0.0:8000"), ["0.0.0.0", "8000"]);
    }

    #[test]
    fn binary_strings_that_are_paths_and_those_that_are_not() {
        let data = b"\0/var/lib/nginx/body\0/etc/nginx/nginx.conf\0%s/%s\0/usr/share/nginx/\0/tmp/*.sock\0/\0not/absolute\0/proc/%d/fd\0/ok_name\0/a\xffb\0/lib//x\0";
        let found: Vec<String> = path_strings(data).collect();
        assert_eq!(
            found,
            ["/var/lib/nginx/body", "/etc/nginx/nginx.conf", "/ok_name"]
        );
    }
}
