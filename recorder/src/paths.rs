//! Turning a syscall's path argument into the absolute path it named, and
//! deciding which paths are not worth recording.
//!
//! Resolution is textual on purpose: a relative path is joined to the
//! directory the tracee resolved it against at that moment (its cwd, or the
//! directory fd), read back from /proc. `..`, `.` and symlinks are left as
//! they are, because the caller resolves them inside the image, where the
//! links may point elsewhere than at probe time.

use crate::mem;
use crate::procfs::{self, PATH_MAX};
use crate::syscalls::{Arg, Empty};

const AT_FDCWD: i32 = libc::AT_FDCWD;
const AT_EMPTY_PATH: u64 = libc::AT_EMPTY_PATH as u64;

/// Scratch space for resolving paths, kept by the tracer so that the hot
/// path does not allocate (two page-sized buffers are too big to want on
/// the stack at every call, and a Vec reused across calls stays allocated).
pub struct Resolver {
    arg: Box<[u8; PATH_MAX]>,
    base: Box<[u8; PATH_MAX + 1]>,
}

impl Resolver {
    pub fn new() -> Resolver {
        Resolver {
            arg: Box::new([0; PATH_MAX]),
            base: Box::new([0; PATH_MAX + 1]),
        }
    }

    /// Puts into `out` the absolute path that `arg` of a syscall entry of
    /// `tid` names; false if it names none we can tell (NULL or unreadable
    /// pointer, an fd that is not a file, an empty path that is an error).
    pub fn resolve(&mut self, tid: i32, arg: Arg, args: &[u64; 6], out: &mut Vec<u8>) -> bool {
        out.clear();
        let (dirfd, path_at, empty) = match arg {
            Arg::Fd(i) => return self.fd_into(tid, args[i] as i32, out),
            Arg::Path(i) => (AT_FDCWD, i, Empty::Never),
            Arg::At { dirfd, path, empty } => (args[dirfd] as i32, path, empty),
        };
        // A NULL path is allowed by statx with AT_EMPTY_PATH (Linux 6.11);
        // treat it like an empty path.
        let path: &[u8] = match args[path_at] {
            0 => &[],
            addr => match mem::read_cstr(tid, addr, &mut self.arg) {
                Some(p) => p,
                None => return false,
            },
        };
        if path.is_empty() {
            let fd_itself = match empty {
                Empty::Never => false,
                Empty::Always => true,
                Empty::IfFlag(i) => args[i] & AT_EMPTY_PATH != 0,
            };
            // With AT_FDCWD an empty path names the cwd: a probe of the
            // directory the process already is in, not worth a record.
            if !fd_itself || dirfd == AT_FDCWD {
                return false;
            }
            let Some(dir) = procfs::fd_path(tid, dirfd, &mut self.base[..]) else {
                return false;
            };
            out.extend_from_slice(dir);
            return true;
        }
        if path[0] == b'/' {
            out.extend_from_slice(path);
            return true;
        }
        let base = if dirfd == AT_FDCWD {
            procfs::cwd(tid, &mut self.base[..])
        } else {
            procfs::fd_path(tid, dirfd, &mut self.base[..])
        };
        match base {
            Some(base) => {
                join(base, path, out);
                true
            }
            None => false,
        }
    }

    /// Puts into `out` the path `pid` was just exec'd with (AT_EXECFN),
    /// made absolute against its cwd; false if unknown.
    pub fn execfn(&mut self, pid: i32, out: &mut Vec<u8>) -> bool {
        out.clear();
        let Some(addr) = procfs::execfn(pid) else {
            return false;
        };
        let path = match mem::read_cstr(pid, addr, &mut self.arg) {
            Some(p) if !p.is_empty() => p,
            _ => return false,
        };
        if path[0] == b'/' {
            out.extend_from_slice(path);
            return true;
        }
        match procfs::cwd(pid, &mut self.base[..]) {
            Some(base) => {
                join(base, path, out);
                true
            }
            None => false,
        }
    }

    fn fd_into(&mut self, tid: i32, fd: i32, out: &mut Vec<u8>) -> bool {
        match procfs::fd_path(tid, fd, &mut self.base[..]) {
            Some(p) => {
                out.extend_from_slice(p);
                true
            }
            None => false,
        }
    }
}

/// `base` + `/` + `rel`, without doubling the slash when base is `/`.
pub fn join(base: &[u8], rel: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(base);
    if !base.ends_with(b"/") {
        out.push(b'/');
    }
    out.extend_from_slice(rel);
}

/// Paths that are never recorded: the kernel's pseudo file systems (they
/// are not in any image) and the directory the recorder runs from (it is
/// bind-mounted into the container for the probe, not part of the image).
pub struct Skip {
    own_dir: Option<Vec<u8>>,
}

impl Skip {
    /// `own_exe` is the recorder's own path (`/proc/self/exe`); its parent
    /// directory is skipped unless that is `/` (then nothing extra is).
    pub fn new(own_exe: Option<&[u8]>) -> Skip {
        let own_dir = own_exe.and_then(|exe| {
            let slash = exe.iter().rposition(|&b| b == b'/')?;
            (slash > 0).then(|| exe[..slash].to_vec())
        });
        Skip { own_dir }
    }

    pub fn skipped(&self, path: &[u8]) -> bool {
        under(path, b"/proc")
            || under(path, b"/sys")
            || under(path, b"/dev")
            || self.own_dir.as_deref().is_some_and(|d| under(path, d))
    }
}

/// `path` is `dir` or inside it.
fn under(path: &[u8], dir: &[u8]) -> bool {
    path.starts_with(dir) && (path.len() == dir.len() || path[dir.len()] == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        let mut out = Vec::new();
        join(b"/", b"etc/passwd", &mut out);
        assert_eq!(out, b"/etc/passwd");
        join(b"/srv/app", b"../lib/x", &mut out);
        assert_eq!(out, b"/srv/app/../lib/x");
    }

    #[test]
    fn skips() {
        let s = Skip::new(Some(b"/.slimify-probe/recorder"));
        assert!(s.skipped(b"/proc"));
        assert!(s.skipped(b"/proc/self/maps"));
        assert!(s.skipped(b"/dev/null"));
        assert!(s.skipped(b"/sys/fs/cgroup"));
        assert!(s.skipped(b"/.slimify-probe/recorder"));
        assert!(!s.skipped(b"/.slimify-probe2"));
        assert!(!s.skipped(b"/processes"));
        assert!(!s.skipped(b"/device"));
        assert!(!s.skipped(b"/etc/os-release"));
        let root = Skip::new(Some(b"/recorder"));
        assert!(!root.skipped(b"/etc/os-release"));
        assert!(!Skip::new(None).skipped(b"/x"));
    }
}
