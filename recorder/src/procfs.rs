//! What the recorder reads about a tracee from /proc: its executable, its
//! cwd, what a file descriptor points at, and its file-backed mappings.
//!
//! `/proc/TID/...` (not the thread group id) is used throughout: a thread may
//! have unshared its fd table or cwd, and /proc accepts any thread id even
//! though it only lists group leaders. Path strings are formatted into a
//! stack buffer so the hot path does not allocate.

use std::ffi::CStr;

use crate::sys;

/// The longest path the kernel hands back from a readlink (PATH_MAX).
pub const PATH_MAX: usize = 4096;

/// `/proc/<pid>/<tail>[<n>]` as a NUL-terminated string on the stack.
pub struct ProcPath {
    buf: [u8; 64],
}

impl ProcPath {
    /// `/proc/PID/TAIL` (e.g. `exe`, `cwd`, `maps`, `mem`).
    pub fn new(pid: i32, tail: &str) -> ProcPath {
        Self::build(pid, tail, None)
    }

    /// `/proc/PID/fd/N`.
    pub fn fd(pid: i32, fd: i32) -> ProcPath {
        Self::build(pid, "fd/", Some(fd))
    }

    fn build(pid: i32, tail: &str, n: Option<i32>) -> ProcPath {
        let mut p = ProcPath { buf: [0; 64] };
        let mut len = 0;
        let mut put = |bytes: &[u8]| {
            // Leave room for the NUL; tails are short constants, so this
            // never truncates in practice.
            let room = p.buf.len() - 1 - len;
            let take = bytes.len().min(room);
            p.buf[len..len + take].copy_from_slice(&bytes[..take]);
            len += take;
        };
        put(b"/proc/");
        put(decimal(&mut [0; 12], pid));
        put(b"/");
        put(tail.as_bytes());
        if let Some(n) = n {
            put(decimal(&mut [0; 12], n));
        }
        p
    }

    pub fn as_cstr(&self) -> &CStr {
        // The buffer is zero-filled and at least one byte is never written.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or_default()
    }
}

/// Formats a non-negative number in decimal into `buf` (negative numbers
/// come out as their absolute value; pids and fds are never negative here).
fn decimal(buf: &mut [u8; 12], n: i32) -> &[u8] {
    let mut v = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    &buf[i..]
}

/// readlink of `/proc/PID/TAIL` into `buf`; the bytes of the target or None.
pub fn readlink_proc<'a>(tid: i32, path: &ProcPath, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let n = as_owner(tid, || sys::readlink(path.as_cstr(), buf))?;
    Some(&buf[..n])
}

/// Runs `f` (an access to /proc/TID/...), and if the kernel refused it
/// (EACCES/EPERM) runs it once more with the file-system uid/gid of the
/// task's owner.
///
/// Why: /proc allows a task's fd links, cwd, exe, maps and mem to a caller
/// with the same uid and gid as the task, or with CAP_SYS_PTRACE — being its
/// tracer does not count. Docker does not grant CAP_SYS_PTRACE by default,
/// so once a root entrypoint drops to another user (gosu, su-exec, setpriv,
/// `USER` switching scripts) every such read would fail. The check uses the
/// caller's *file-system* ids, which root may set with setfsuid/setfsgid
/// (CAP_SETUID/CAP_SETGID are in Docker's default set), for this thread
/// only and only for the duration of the call. The owner is the uid/gid of
/// the /proc/TID directory (the task's effective ids while it is dumpable).
/// A non-dumpable task (after setuid without exec, or PR_SET_DUMPABLE 0)
/// stays unreadable without CAP_SYS_PTRACE.
pub fn as_owner<T>(tid: i32, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    if let Some(v) = f() {
        return Some(v);
    }
    let e = sys::errno();
    if e != libc::EACCES && e != libc::EPERM {
        return None;
    }
    let dir = ProcPath::new(tid, "");
    // SAFETY: a zeroed stat is a valid out-buffer; the path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::stat(dir.as_cstr().as_ptr(), &mut st) } != 0 {
        return None;
    }
    // SAFETY: setfsuid/setfsgid with an invalid id (-1) only return the
    // current value; with a valid one they change this thread's fs ids.
    unsafe {
        let old_uid = libc::setfsuid(libc::uid_t::MAX) as libc::uid_t;
        let old_gid = libc::setfsgid(libc::gid_t::MAX) as libc::gid_t;
        if (st.st_uid, st.st_gid) == (old_uid, old_gid) {
            return None;
        }
        libc::setfsgid(st.st_gid);
        libc::setfsuid(st.st_uid);
        let switched = libc::setfsuid(st.st_uid) as libc::uid_t == st.st_uid
            && libc::setfsgid(st.st_gid) as libc::gid_t == st.st_gid;
        let r = if switched { f() } else { None };
        libc::setfsuid(old_uid);
        libc::setfsgid(old_gid);
        r
    }
}

/// The absolute path an fd of `tid` refers to, if it refers to a path at all
/// (sockets, pipes, anon inodes read back as `socket:[..]` etc. and give None).
pub fn fd_path(tid: i32, fd: i32, buf: &mut [u8]) -> Option<&[u8]> {
    if fd < 0 {
        return None;
    }
    readlink_proc(tid, &ProcPath::fd(tid, fd), buf).filter(|p| p.first() == Some(&b'/'))
}

/// The current directory of `tid`.
pub fn cwd(tid: i32, buf: &mut [u8]) -> Option<&[u8]> {
    readlink_proc(tid, &ProcPath::new(tid, "cwd"), buf).filter(|p| p.first() == Some(&b'/'))
}

/// The executable of `tid` (`/proc/TID/exe`), owned, for the program column.
pub fn exe(tid: i32) -> Option<Vec<u8>> {
    let mut buf = [0u8; PATH_MAX + 1];
    readlink_proc(tid, &ProcPath::new(tid, "exe"), &mut buf).map(<[u8]>::to_vec)
}

/// The address of the file name the process was exec'd with (the auxv
/// entry AT_EXECFN, a string the kernel put on the new stack), for a 64-bit
/// tracee. It outlives the exec, unlike the execve argument in the old
/// image: the one way to learn the path (e.g. a PATH symlink) when the old
/// image could not be read — a task that dropped privileges with setuid()
/// and then exec'd is not dumpable until the exec completes.
pub fn execfn(pid: i32) -> Option<u64> {
    const AT_EXECFN: u64 = 31;
    let path = ProcPath::new(pid, "auxv");
    let path = path.as_cstr().to_str().ok()?;
    let auxv = read_with_errno(pid, path)?;
    auxv.chunks_exact(16).find_map(|pair| {
        let key = u64::from_ne_bytes(pair[..8].try_into().ok()?);
        let val = u64::from_ne_bytes(pair[8..].try_into().ok()?);
        (key == AT_EXECFN && val != 0).then_some(val)
    })
}

/// `std::fs::read` of a /proc file as the task's owner if need be.
fn read_with_errno(pid: i32, path: &str) -> Option<Vec<u8>> {
    as_owner(pid, || match std::fs::read(path) {
        Ok(text) => Some(text),
        Err(e) => {
            // as_owner looks at errno; std keeps it in the error.
            // SAFETY: writing this thread's errno.
            unsafe { *libc::__errno_location() = e.raw_os_error().unwrap_or(0) };
            None
        }
    })
}

/// The distinct paths of the file-backed mappings in a `/proc/PID/maps`
/// text, in order of first appearance.
///
/// A line is `start-end perms offset dev inode [pathname]`; the pathname is
/// everything after the inode and the run of spaces that follows it (it may
/// itself contain spaces). Only absolute pathnames are files (`[vdso]`,
/// `[heap]`, anonymous mappings are not). The kernel escapes a newline in a
/// pathname as `\012`, which is undone here.
pub fn parse_maps(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let mut rest = line;
        let mut ok = true;
        for _ in 0..5 {
            rest = trim_start(rest);
            match rest.iter().position(|&b| b == b' ') {
                Some(end) => rest = &rest[end..],
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let name = trim_start(rest);
        if name.first() != Some(&b'/') {
            continue;
        }
        let name = unescape_maps(name);
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &s[n..]
}

fn unescape_maps(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        if name[i..].starts_with(b"\\012") {
            out.push(b'\n');
            i += 4;
        } else {
            out.push(name[i]);
            i += 1;
        }
    }
    out
}

/// The file-backed mappings of `pid` right now (empty if unreadable).
pub fn mapped_files(pid: i32) -> Vec<Vec<u8>> {
    let path = ProcPath::new(pid, "maps");
    let Ok(path) = path.as_cstr().to_str() else {
        return Vec::new();
    };
    read_with_errno(pid, path)
        .map(|t| parse_maps(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_paths() {
        assert_eq!(
            ProcPath::new(1234, "cwd").as_cstr().to_bytes(),
            b"/proc/1234/cwd"
        );
        assert_eq!(ProcPath::fd(7, 0).as_cstr().to_bytes(), b"/proc/7/fd/0");
        assert_eq!(
            ProcPath::fd(i32::MAX, i32::MAX).as_cstr().to_bytes(),
            b"/proc/2147483647/fd/2147483647"
        );
    }

    #[test]
    fn maps() {
        let text = b"\
55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 131 /usr/bin/cat
55d0c0a02000-55d0c0a06000 r-xp 00002000 08:01 131 /usr/bin/cat
7f00000000-7f00001000 rw-p 00000000 00:00 0 
7f1-7f2 r--p 00000000 08:01 99                         /lib64/ld-linux-x86-64.so.2
7f3-7f4 r--p 00000000 08:01 98                         /tmp/a b\\012c (deleted)
7ffd-7ffe r-xp 00000000 00:00 0                          [vdso]
garbage
";
        let got = parse_maps(text);
        assert_eq!(
            got,
            vec![
                b"/usr/bin/cat".to_vec(),
                b"/lib64/ld-linux-x86-64.so.2".to_vec(),
                b"/tmp/a b\nc (deleted)".to_vec(),
            ]
        );
        assert!(parse_maps(b"").is_empty());
    }
}
