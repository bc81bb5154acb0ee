//! The recorder binary (built static from `recorder/` by build.rs and
//! embedded here), the directory it is mounted from, and the records it writes.
//!
//! Its file format: a first line `slimify-recorder 1`, then one line per new
//! (access, path) pair, `KIND<TAB>PROGRAM<TAB>PATH`, with `\\`, `\t` and `\n`
//! escaped in PROGRAM and PATH; a last line `exit<TAB>CODE` when the command
//! ended. Lines are written as they are seen, so a run that is killed keeps
//! what it recorded.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::ProbeError;
use crate::files::{IoContext, PathError};

/// Where the recorder's directory is mounted in a container.
pub const MOUNT: &str = "/.slimify-probe";

/// How a process touched a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    Executed,
    Opened,
    Stat,
    ReadLink,
    Listed,
    Entered,
}

impl Access {
    fn from_letter(s: &str) -> Option<Access> {
        Some(match s {
            "x" => Access::Executed,
            "o" => Access::Opened,
            "s" => Access::Stat,
            "l" => Access::ReadLink,
            "d" => Access::Listed,
            "c" => Access::Entered,
            _ => return None,
        })
    }

    /// The verb of the report's reason: `opened while probing by ...`.
    pub fn verb(self) -> &'static str {
        match self {
            Access::Executed => "executed",
            Access::Opened => "opened",
            Access::Stat => "looked up",
            Access::ReadLink => "read as a link",
            Access::Listed => "listed",
            Access::Entered => "entered",
        }
    }
}

/// One path a probed process touched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub access: Access,
    /// The program that touched it (`/proc/PID/exe` in the container).
    pub program: String,
    pub path: String,
}

/// The recorder, written into a fresh directory of the host that containers
/// mount read-only at [`MOUNT`], with an `out/` directory a probed container
/// writes its records into (writable by any user the image runs as).
pub struct RecorderDir {
    dir: tempfile::TempDir,
}

impl RecorderDir {
    pub fn new(tmp_dir: Option<&Path>) -> Result<RecorderDir, ProbeError> {
        let bytes = embedded()?;
        let base = tmp_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("slimify-probe-")
            .tempdir_in(&base)
            .at(&base)?;
        let bin = dir.path().join("recorder");
        fs::write(&bin, bytes).at(&bin)?;
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).at(&bin)?;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).at(dir.path())?;
        let out = dir.path().join("out");
        fs::create_dir(&out).at(&out)?;
        // The image's USER (any uid) writes here; the directory is ours and
        // removed with the run.
        fs::set_permissions(&out, fs::Permissions::from_mode(0o1777)).at(&out)?;
        Ok(RecorderDir { dir })
    }

    /// `-v` arguments that mount the recorder (read-only) and, for a probe,
    /// the records directory (read-write).
    pub fn mounts(&self, record: bool) -> Vec<String> {
        let mut v = vec![
            "-v".to_string(),
            format!(
                "{}:{MOUNT}/recorder:ro",
                self.dir.path().join("recorder").display()
            ),
        ];
        if record {
            v.push("-v".into());
            v.push(format!("{}:{MOUNT}/out", self.out().display()));
        }
        v
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Every record of every recorded command of the run, and the exit
    /// status the main command's file ends with.
    pub fn records(&self) -> Result<(Vec<Record>, Option<i32>), ProbeError> {
        let mut all = Vec::new();
        let mut exit = None;
        let out = self.out();
        let mut files: Vec<PathBuf> = fs::read_dir(&out)
            .at(&out)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            let bytes = fs::read(&f).map_err(|e| ProbeError::Io(PathError::new(&f, e)))?;
            let (records, code) = parse(&bytes).map_err(|why| ProbeError::BadRecords {
                path: f.display().to_string(),
                why,
            })?;
            if f.file_name().is_some_and(|n| n == "main.paths") {
                exit = code;
            }
            all.extend(records);
        }
        Ok((all, exit))
    }
}

/// The recorder's bytes.
fn embedded() -> Result<&'static [u8], ProbeError> {
    #[cfg(slimify_recorder)]
    {
        Ok(include_bytes!(env!("SLIMIFY_RECORDER")))
    }
    #[cfg(not(slimify_recorder))]
    {
        Err(ProbeError::NoRecorder {
            why: env!("SLIMIFY_RECORDER_MISSING").to_string(),
        })
    }
}

/// Read one records file.
pub fn parse(bytes: &[u8]) -> Result<(Vec<Record>, Option<i32>), String> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n');
    match lines.next() {
        Some("slimify-recorder 1") => {}
        Some("") | None => return Ok((Vec::new(), None)),
        Some(other) => return Err(format!("first line {other:?}")),
    }
    let mut records = Vec::new();
    let mut exit = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["exit", code] => exit = code.parse().ok(),
            [kind, program, path] => {
                let Some(access) = Access::from_letter(kind) else {
                    return Err(format!("unknown access {kind:?}"));
                };
                records.push(Record {
                    access,
                    program: unescape(program),
                    path: unescape(path),
                });
            }
            // A line cut short by a killed container: what came before stands.
            _ => {}
        }
    }
    Ok((records, exit))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_with_escapes_and_the_exit() {
        let text = "slimify-recorder 1\nx\t/usr/bin/python3\t/usr/bin/python3\no\t/usr/bin/python3\t/a\\tb\\nc\\\\d\nexit\t3\n";
        let (records, exit) = parse(text.as_bytes()).unwrap();
        assert_eq!(exit, Some(3));
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].access, Access::Executed);
        assert_eq!(records[1].path, "/a\tb\nc\\d");
        assert!(parse(b"something else\n").is_err());
        assert_eq!(parse(b"").unwrap().0, vec![]);
        // Killed mid-line: the cut line is dropped.
        let (records, exit) = parse(b"slimify-recorder 1\no\t/p\t/x\no\t/p").unwrap();
        assert_eq!((records.len(), exit), (1, None));
    }
}
