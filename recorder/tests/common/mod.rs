//! Shared helpers for the recorder's integration tests: temp dirs, C
//! programs compiled on the fly, running the recorder and parsing its file.
#![allow(dead_code)] // each test file uses a different subset

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_slimify-recorder");

/// A fresh directory under the system temp dir (canonical: /proc reports
/// canonical cwds and fd paths), removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "slimify-recorder-test-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(std::fs::canonicalize(&dir).unwrap())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }

    /// Creates a file with `content`, returning its path.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Compiles C `source` into `dir/name` with `cc` (plus `extra` flags).
pub fn cc(dir: &TempDir, name: &str, source: &str, extra: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(["-O1", "-Wall", "-o"])
        .arg(&out)
        .arg(&src)
        .args(extra)
        .status()
        .expect("cc must be installed to run the recorder tests");
    assert!(status.success(), "cc failed for {name}");
    out
}

/// One line of a record file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: char,
    pub program: Vec<u8>,
    pub path: Vec<u8>,
}

/// A parsed record file.
#[derive(Debug, Default)]
pub struct Recording {
    pub records: Vec<Record>,
    pub exit: Option<i32>,
    pub raw: Vec<u8>,
}

fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 1 < field.len() {
            out.push(match field[i + 1] {
                b't' => b'\t',
                b'n' => b'\n',
                b'\\' => b'\\',
                other => panic!("bad escape \\{}", other as char),
            });
            i += 2;
        } else {
            assert_ne!(field[i], b'\\', "dangling backslash");
            out.push(field[i]);
            i += 1;
        }
    }
    out
}

/// Parses a record file strictly (panics on anything malformed).
pub fn parse(raw: &[u8]) -> Recording {
    let text = raw.strip_suffix(b"\n").unwrap_or_else(|| {
        panic!(
            "record file does not end in a newline: {:?}",
            String::from_utf8_lossy(raw)
        )
    });
    let mut lines = text.split(|&b| b == b'\n');
    assert_eq!(lines.next(), Some(&b"slimify-recorder 1"[..]), "header");
    let mut rec = Recording {
        raw: raw.to_vec(),
        ..Default::default()
    };
    for line in lines {
        assert!(rec.exit.is_none(), "line after the exit line");
        let fields: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        if fields[0] == b"exit" {
            assert_eq!(
                fields.len(),
                2,
                "exit line {:?}",
                String::from_utf8_lossy(line)
            );
            rec.exit = Some(std::str::from_utf8(fields[1]).unwrap().parse().unwrap());
            continue;
        }
        assert_eq!(fields.len(), 3, "line {:?}", String::from_utf8_lossy(line));
        assert_eq!(fields[0].len(), 1);
        let kind = fields[0][0] as char;
        assert!("xosldc".contains(kind), "kind {kind}");
        rec.records.push(Record {
            kind,
            program: unescape(fields[1]),
            path: unescape(fields[2]),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for r in &rec.records {
        assert!(seen.insert((r.kind, r.path.clone())), "duplicate {r:?}");
    }
    rec
}

impl Recording {
    pub fn find(&self, kind: char, path: impl AsRef<OsStr>) -> Option<&Record> {
        let path = path.as_ref().as_bytes();
        self.records
            .iter()
            .find(|r| r.kind == kind && r.path == path)
    }

    /// Asserts (kind, path) is recorded and returns its program.
    pub fn program(&self, kind: char, path: impl AsRef<OsStr>) -> String {
        let p = path.as_ref();
        match self.find(kind, p) {
            Some(r) => String::from_utf8_lossy(&r.program).into_owned(),
            None => panic!("no `{kind}` record for {p:?} in:\n{}", self.dump()),
        }
    }

    pub fn assert_has(&self, kind: char, path: impl AsRef<OsStr>, program: impl AsRef<Path>) {
        let got = self.program(kind, path.as_ref());
        assert_eq!(
            Path::new(&got),
            program.as_ref(),
            "program of `{kind}` {:?}",
            path.as_ref()
        );
    }

    pub fn dump(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// Both ways of tracing: every syscall (`off`), or only the file calls
/// through the seccomp filter (`on`). Tests of the tracing itself run both.
pub const MODES: [&str; 2] = ["off", "on"];

/// The recorder's `record` command line for `program` (default mode).
pub fn record_cmd(out: &Path, program: &[&OsStr]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("record")
        .arg("--out")
        .arg(out)
        .arg("--")
        .args(program);
    c
}

/// The same with `--seccomp MODE`.
pub fn record_cmd_mode(out: &Path, mode: &str, program: &[&OsStr]) -> Command {
    let mut c = Command::new(BIN);
    c.args(["record", "--seccomp", mode, "--out"])
        .arg(out)
        .arg("--")
        .args(program);
    c
}

/// Runs the recorder to completion; returns its output and the parsed file.
pub fn run_record(
    dir: &TempDir,
    program: &[&OsStr],
    setup: impl FnOnce(&mut Command),
) -> (Output, Recording) {
    run_record_mode(dir, "auto", program, setup)
}

/// [`run_record`] with `--seccomp MODE`.
pub fn run_record_mode(
    dir: &TempDir,
    mode: &str,
    program: &[&OsStr],
    setup: impl FnOnce(&mut Command),
) -> (Output, Recording) {
    let out = dir.join(format!("record-{mode}.out"));
    let mut c = record_cmd_mode(&out, mode, program);
    setup(&mut c);
    let output = c.output().unwrap();
    let raw = std::fs::read(&out).unwrap();
    (output, parse(&raw))
}

/// Shortcut for string arguments.
pub fn os<'a>(args: &'a [&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(OsStr::new).collect()
}

/// The canonical path of a command found in /usr/bin or /bin.
pub fn system_bin(name: &str) -> PathBuf {
    for d in ["/usr/bin", "/bin"] {
        let p = Path::new(d).join(name);
        if p.exists() {
            return std::fs::canonicalize(p).unwrap();
        }
    }
    panic!("{name} not found in /usr/bin or /bin");
}

/// Waits until `cond` holds (polling), failing after `secs`.
pub fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `sig` to `pid`.
pub fn kill(pid: u32, sig: i32) {
    let r = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(r, 0, "kill({pid}, {sig})");
}

/// `path` is `dir` or inside it.
pub fn under(path: &[u8], dir: &OsStr) -> bool {
    let dir = dir.as_bytes();
    path.starts_with(dir) && (path.len() == dir.len() || path[dir.len()] == b'/')
}
