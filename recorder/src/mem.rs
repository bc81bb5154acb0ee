//! Reading a NUL-terminated path out of a stopped tracee's memory.
//!
//! Three ways, tried in order, the first that works for a tracee being kept:
//! 1. `process_vm_readv`: one syscall per path in the common case. Docker's
//!    default seccomp profile only allows it with CAP_SYS_PTRACE, so it may
//!    fail with EPERM even though ptrace itself works.
//! 2. `pread` on `/proc/TID/mem`: allowed without the capability for the
//!    same uid/gid and a dumpable tracee (after a drop to another user, with
//!    the owner's fs ids: see `procfs::as_owner`); three syscalls per path.
//! 3. `PTRACE_PEEKDATA`: one syscall per 8 bytes, always available to the
//!    tracer of a dumpable tracee.
//!
//! We only switch method for good when a later method succeeded where an
//! earlier one failed, so one non-dumpable tracee (where every method fails)
//! does not slow down the others.
//!
//! Reads go in chunks that never cross a 4 KiB boundary: a path may end just
//! before an unmapped page, and process_vm_readv does not split an iovec, so
//! one 4096-byte read there would fail as a whole.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::procfs::{self, ProcPath, PATH_MAX};
use crate::sys;

const VM_READV: u8 = 0;
const PROC_MEM: u8 = 1;
const PEEK: u8 = 2;

static METHOD: AtomicU8 = AtomicU8::new(VM_READV);

/// Reads the NUL-terminated string at `addr` in `tid` into `buf` and returns
/// its bytes (without the NUL). None for a NULL pointer, an unreadable
/// address, or no NUL within PATH_MAX bytes (the kernel would refuse such a
/// path with ENAMETOOLONG anyway).
pub fn read_cstr(tid: i32, addr: u64, buf: &mut [u8; PATH_MAX]) -> Option<&[u8]> {
    if addr == 0 {
        return None;
    }
    let mut len = 0usize;
    while len < buf.len() {
        let at = addr.checked_add(len as u64)?;
        let to_boundary = 4096 - (at % 4096) as usize;
        let want = to_boundary.min(buf.len() - len);
        let got = read_chunk(tid, at, &mut buf[len..len + want])?;
        if let Some(nul) = buf[len..len + got].iter().position(|&b| b == 0) {
            return Some(&buf[..len + nul]);
        }
        if got < want {
            return None;
        }
        len += got;
    }
    None
}

/// Reads up to `dst.len()` bytes at `addr`; Some(n > 0) or None.
fn read_chunk(tid: i32, addr: u64, dst: &mut [u8]) -> Option<usize> {
    let method = METHOD.load(Ordering::Relaxed);
    if method == VM_READV {
        match vm_readv(tid, addr, dst) {
            Ok(n) => return Some(n),
            // Blocked (seccomp) or missing (old kernel): try the others.
            Err(e) if e == libc::EPERM || e == libc::ENOSYS => {}
            Err(_) => return None,
        }
    }
    if method <= PROC_MEM {
        if let Some(n) = proc_mem(tid, addr, dst) {
            if method != PROC_MEM {
                METHOD.store(PROC_MEM, Ordering::Relaxed);
            }
            return Some(n);
        }
    }
    let n = peek(tid, addr, dst)?;
    if method != PEEK {
        METHOD.store(PEEK, Ordering::Relaxed);
    }
    Some(n)
}

fn vm_readv(tid: i32, addr: u64, dst: &mut [u8]) -> Result<usize, c_int> {
    let local = libc::iovec {
        iov_base: dst.as_mut_ptr().cast(),
        iov_len: dst.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as usize as *mut libc::c_void,
        iov_len: dst.len(),
    };
    // SAFETY: local points to dst (writable, iov_len bytes); the remote
    // address is only interpreted by the kernel in the tracee's address space.
    let n = unsafe { libc::process_vm_readv(tid, &local, 1, &remote, 1, 0) };
    match n {
        n if n > 0 => Ok(n as usize),
        0 => Err(libc::EFAULT),
        _ => Err(sys::errno()),
    }
}

fn proc_mem(tid: i32, addr: u64, dst: &mut [u8]) -> Option<usize> {
    let path = ProcPath::new(tid, "mem");
    // SAFETY: NUL-terminated path; the fd is closed below.
    let fd = procfs::as_owner(tid, || {
        let fd = unsafe { libc::open(path.as_cstr().as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        (fd >= 0).then_some(fd)
    })?;
    let off = libc::off_t::try_from(addr).ok();
    let n = match off {
        // SAFETY: dst is writable for dst.len() bytes.
        Some(off) => unsafe { libc::pread(fd, dst.as_mut_ptr().cast(), dst.len(), off) },
        None => -1,
    };
    // SAFETY: fd was opened above and is not used after this.
    unsafe { libc::close(fd) };
    (n > 0).then_some(n as usize)
}

fn peek(tid: i32, addr: u64, dst: &mut [u8]) -> Option<usize> {
    const W: usize = std::mem::size_of::<libc::c_long>();
    let mut done = 0;
    while done < dst.len() {
        let at = addr + done as u64;
        let aligned = at - at % W as u64;
        let mut word: libc::c_long = 0;
        // The raw syscall stores the word at `data` (not in the result).
        let r = sys::ptrace(
            libc::PTRACE_PEEKDATA as c_int,
            tid,
            aligned as usize,
            &mut word as *mut libc::c_long as usize,
        );
        if r < 0 {
            break;
        }
        let bytes = word.to_ne_bytes();
        let skip = (at - aligned) as usize;
        let take = (W - skip).min(dst.len() - done);
        dst[done..done + take].copy_from_slice(&bytes[skip..skip + take]);
        done += take;
        if bytes[skip..skip + take].contains(&0) {
            break;
        }
    }
    (done > 0).then_some(done)
}
