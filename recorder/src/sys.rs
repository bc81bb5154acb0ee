//! Thin wrappers over the few raw system calls the recorder makes.
//!
//! `ptrace` goes through `syscall(SYS_ptrace, ...)` rather than libc's
//! variadic wrapper: the wrapper's request type differs between glibc
//! (`c_uint`) and musl (`c_int`), and glibc's wrapper changes the meaning of
//! PEEKDATA's return value. The raw call has one ABI everywhere.

use std::ffi::CStr;
use std::os::raw::{c_int, c_long, c_void};

/// The calling thread's errno.
pub fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The C library's message for an errno value ("No such file or directory").
pub fn strerror(err: c_int) -> String {
    std::io::Error::from_raw_os_error(err)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// An I/O error as one short phrase ("Connection refused"), without the
/// "(os error N)" that std appends.
pub fn describe(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => strerror(code),
        None => e.to_string(),
    }
}

/// Same as [`strerror`] but without allocating, for the forked child before
/// exec (it points into libc's static message table).
pub fn strerror_static(err: c_int) -> &'static [u8] {
    // SAFETY: strerror returns a pointer to a NUL-terminated string that
    // stays valid at least until the next strerror call in this thread; the
    // forked child calls it once and then exits.
    let p = unsafe { libc::strerror(err) };
    if p.is_null() {
        return b"unknown error";
    }
    unsafe { CStr::from_ptr(p) }.to_bytes()
}

/// Raw `ptrace(req, pid, addr, data)`; returns the raw result or -1 (errno set).
pub fn ptrace(req: c_int, pid: libc::pid_t, addr: usize, data: usize) -> c_long {
    // SAFETY: every request we make passes either integers or pointers to
    // buffers of the size the request expects (checked at each call site).
    unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            req as c_long,
            pid as c_long,
            addr as *mut c_void,
            data as *mut c_void,
        )
    }
}

/// `readlink(2)` of a NUL-terminated path into `buf`; `None` on error or if
/// the target may have been truncated (it filled the whole buffer).
pub fn readlink(path: &CStr, buf: &mut [u8]) -> Option<usize> {
    // SAFETY: path is NUL-terminated, buf is writable for buf.len() bytes.
    let n = unsafe { libc::readlink(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 || n as usize >= buf.len() {
        None
    } else {
        Some(n as usize)
    }
}

/// Writes all of `data` to a file descriptor, retrying on EINTR and short
/// writes. Used where no `std` writer exists (the forked child).
pub fn write_all_fd(fd: c_int, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: data is a valid readable slice.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return;
        }
        if n == 0 {
            return;
        }
        data = &data[n as usize..];
    }
}
