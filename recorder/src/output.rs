//! The record file: its line format, and writing each new record at once.
//!
//! ```text
//! slimify-recorder 1
//! KIND\tPROGRAM\tPATH
//! ...
//! exit\tCODE
//! ```
//!
//! KIND is one letter (see `syscalls::Kind`), PROGRAM the executable of the
//! process that touched PATH (the first one to, per (KIND, PATH)). In PROGRAM
//! and PATH a backslash is written `\\`, a tab `\t` and a newline `\n`, so
//! every line splits on its tabs; all other bytes (including non-UTF-8) pass
//! through raw. The `exit` line is written when the main program ended; a file
//! without one was cut short (the recorder was killed).
//!
//! Each new line goes out in its own write(2), unbuffered: a SIGKILL of the
//! container loses nothing already seen, and lines are only written for new
//! (KIND, PATH) pairs, so their number is bounded by the files touched.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::syscalls::Kind;

/// The first line, naming the format and its version.
pub const HEADER: &[u8] = b"slimify-recorder 1\n";

pub struct Output {
    file: File,
    /// KIND letter followed by PATH, for each line written.
    seen: HashSet<Vec<u8>>,
    /// Reused for the lookup key and for the line.
    key: Vec<u8>,
    line: Vec<u8>,
    /// The error message was printed once already.
    failed: bool,
    name: String,
}

impl Output {
    /// Creates (truncates) FILE and writes the header. The descriptor is
    /// close-on-exec, so the traced program never inherits it.
    pub fn create(path: &Path) -> std::io::Result<Output> {
        let mut file = File::create(path)?;
        file.write_all(HEADER)?;
        Ok(Output {
            file,
            seen: HashSet::new(),
            key: Vec::with_capacity(256),
            line: Vec::with_capacity(512),
            failed: false,
            name: path.display().to_string(),
        })
    }

    /// True if (kind, path) was not recorded yet. Does not allocate.
    pub fn is_new(&mut self, kind: Kind, path: &[u8]) -> bool {
        self.key.clear();
        self.key.push(kind.letter());
        self.key.extend_from_slice(path);
        !self.seen.contains(self.key.as_slice())
    }

    /// Records (kind, path) as touched by `program`, unless already recorded.
    pub fn record(&mut self, kind: Kind, program: &[u8], path: &[u8]) {
        if !self.is_new(kind, path) {
            return;
        }
        self.seen.insert(self.key.clone());
        self.line.clear();
        format_line(&mut self.line, kind, program, path);
        self.write_line();
    }

    /// Appends `exit\tCODE`.
    pub fn exit(&mut self, code: i32) {
        self.line.clear();
        self.line
            .extend_from_slice(format!("exit\t{code}\n").as_bytes());
        self.write_line();
    }

    fn write_line(&mut self) {
        if let Err(e) = self.file.write_all(&self.line) {
            // Say it once: the program runs on, and its own output should
            // not drown in ours.
            if !self.failed {
                self.failed = true;
                crate::error(&format!(
                    "cannot write {}: {}",
                    self.name,
                    crate::sys::describe(&e)
                ));
            }
        }
    }
}

/// One record line, `KIND\tPROGRAM\tPATH\n`, appended to `out`.
pub fn format_line(out: &mut Vec<u8>, kind: Kind, program: &[u8], path: &[u8]) {
    out.push(kind.letter());
    out.push(b'\t');
    escape_into(out, program);
    out.push(b'\t');
    escape_into(out, path);
    out.push(b'\n');
}

/// Appends `field` with `\` `\t` `\n` escaped.
pub fn escape_into(out: &mut Vec<u8>, field: &[u8]) {
    for &b in field {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        let mut out = Vec::new();
        format_line(
            &mut out,
            Kind::Open,
            b"/usr/bin/cat",
            b"/tmp/a\tb\nc\\d\xff",
        );
        assert_eq!(out, b"o\t/usr/bin/cat\t/tmp/a\\tb\\nc\\\\d\xff\n");
    }

    #[test]
    fn dedup_and_exit() {
        let dir =
            std::env::temp_dir().join(format!("slimify-recorder-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("out");
        let mut o = Output::create(&file).unwrap();
        o.record(Kind::Open, b"/bin/a", b"/etc/x");
        o.record(Kind::Open, b"/bin/b", b"/etc/x");
        o.record(Kind::Stat, b"/bin/b", b"/etc/x");
        o.exit(137);
        drop(o);
        let text = std::fs::read(&file).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            text,
            b"slimify-recorder 1\no\t/bin/a\t/etc/x\ns\t/bin/b\t/etc/x\nexit\t137\n"
        );
    }
}
