//! Which system calls name a file, how the recorder classifies each one, and
//! which argument holds the path (or the fd) — per syscall ABI.
//!
//! `PTRACE_GET_SYSCALL_INFO` reports the ABI of each stop (`arch`, an
//! AUDIT_ARCH value), so a 64-bit host also gets the numbers of 32-bit
//! tracees right: i386 on x86_64, arm (EABI) on aarch64, and x32 (x86_64
//! numbers with bit 30 set, where only execve/execveat differ). Native
//! numbers come from `libc::SYS_*`; the compat tables are literal numbers
//! taken from the kernel's unistd_32.h (i386) and libc's arm module, because
//! libc only exposes the build target's own numbers. The legacy path calls
//! (open, stat, access, ...) exist on x86_64 but not on aarch64's native ABI,
//! hence the `cfg`s.

use std::os::raw::c_long;

/// What the process did with a path: the first column of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Executed (`execve`, `execveat`, and the exe/interpreter at exec).
    Exec,
    /// Opened (`open*`, `creat`, and the files mapped at exec).
    Open,
    /// Probed without opening (`stat` family, `access` family).
    Stat,
    /// Read as a symbolic link (`readlink*`).
    Link,
    /// Listed (`getdents*` on a directory fd).
    List,
    /// Made the current directory (`chdir`, `fchdir`).
    Chdir,
}

impl Kind {
    /// The one-letter code written to the output file.
    pub fn letter(self) -> u8 {
        match self {
            Kind::Exec => b'x',
            Kind::Open => b'o',
            Kind::Stat => b's',
            Kind::Link => b'l',
            Kind::List => b'd',
            Kind::Chdir => b'c',
        }
    }
}

/// When an empty path names the directory fd itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Empty {
    /// Never: an empty path fails with ENOENT, nothing to record.
    Never,
    /// When the flags argument at this index has AT_EMPTY_PATH.
    IfFlag(usize),
    /// Always (readlinkat reads the link an O_PATH fd refers to).
    Always,
}

/// Where the file is in the syscall's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// `args[i]` points to a path, relative paths are against the cwd.
    Path(usize),
    /// `args[dirfd]` is a directory fd (or AT_FDCWD) that a relative path
    /// at `args[path]` is resolved against.
    At {
        dirfd: usize,
        path: usize,
        empty: Empty,
    },
    /// `args[i]` is a file descriptor; the file is what it refers to.
    Fd(usize),
}

/// How to record one system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub kind: Kind,
    pub arg: Arg,
}

// Each 64-bit value is only used when building for that architecture.
#[allow(dead_code)]
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
#[allow(dead_code)]
pub const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
pub const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

/// The ABI of this build's own system calls.
#[cfg(target_arch = "x86_64")]
pub const NATIVE_ARCH: u32 = AUDIT_ARCH_X86_64;
#[cfg(target_arch = "aarch64")]
pub const NATIVE_ARCH: u32 = AUDIT_ARCH_AARCH64;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("slimify-recorder supports x86_64 and aarch64 only");

#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u64 = 0x4000_0000;

const fn spec(kind: Kind, arg: Arg) -> Option<Spec> {
    Some(Spec { kind, arg })
}

const fn at(dirfd: usize, path: usize, empty: Empty) -> Arg {
    Arg::At { dirfd, path, empty }
}

/// How to record syscall `nr` of ABI `arch`, or None if it names no file.
/// Called at every syscall entry: a match on integers, no allocation.
pub fn classify(arch: u32, nr: u64) -> Option<Spec> {
    if arch == NATIVE_ARCH {
        #[cfg(target_arch = "x86_64")]
        if nr & X32_SYSCALL_BIT != 0 {
            return classify_x32(nr & !X32_SYSCALL_BIT);
        }
        return classify_native(c_long::try_from(nr).ok()?);
    }
    match arch {
        AUDIT_ARCH_I386 => classify_i386(nr),
        AUDIT_ARCH_ARM => classify_arm(nr),
        _ => None,
    }
}

/// The native numbers [`classify`] knows, for the seccomp filter (a unit
/// test there checks the two agree).
pub fn native_file_syscalls() -> &'static [c_long] {
    &[
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_newfstatat,
        libc::SYS_statx,
        libc::SYS_faccessat,
        libc::SYS_faccessat2,
        libc::SYS_readlinkat,
        libc::SYS_getdents64,
        libc::SYS_chdir,
        libc::SYS_fchdir,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_open,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_creat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_stat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_lstat,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_access,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_readlink,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_getdents,
    ]
}

fn classify_native(nr: c_long) -> Option<Spec> {
    use Kind::*;
    match nr {
        libc::SYS_execve => spec(Exec, Arg::Path(0)),
        libc::SYS_execveat => spec(Exec, at(0, 1, Empty::IfFlag(4))),
        libc::SYS_openat | libc::SYS_openat2 => spec(Open, at(0, 1, Empty::Never)),
        libc::SYS_newfstatat => spec(Stat, at(0, 1, Empty::IfFlag(3))),
        libc::SYS_statx => spec(Stat, at(0, 1, Empty::IfFlag(2))),
        libc::SYS_faccessat => spec(Stat, at(0, 1, Empty::Never)),
        libc::SYS_faccessat2 => spec(Stat, at(0, 1, Empty::IfFlag(3))),
        libc::SYS_readlinkat => spec(Link, at(0, 1, Empty::Always)),
        libc::SYS_getdents64 => spec(List, Arg::Fd(0)),
        libc::SYS_chdir => spec(Chdir, Arg::Path(0)),
        libc::SYS_fchdir => spec(Chdir, Arg::Fd(0)),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_open | libc::SYS_creat => spec(Open, Arg::Path(0)),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_stat | libc::SYS_lstat | libc::SYS_access => spec(Stat, Arg::Path(0)),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_readlink => spec(Link, Arg::Path(0)),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_getdents => spec(List, Arg::Fd(0)),
        _ => None,
    }
}

/// x32: the x86_64 numbers, except the calls whose arguments hold pointers
/// to pointers, which got numbers from 512 up (execve 520, execveat 545).
#[cfg(target_arch = "x86_64")]
fn classify_x32(nr: u64) -> Option<Spec> {
    match nr {
        520 => spec(Kind::Exec, Arg::Path(0)),
        545 => spec(Kind::Exec, at(0, 1, Empty::IfFlag(4))),
        59 | 322 => None, // the 64-bit execve/execveat numbers are invalid in x32
        n if n >= 512 => None,
        n => classify_native(c_long::try_from(n).ok()?),
    }
}

/// i386 (arch/x86/entry/syscalls/syscall_32.tbl).
fn classify_i386(nr: u64) -> Option<Spec> {
    use Kind::*;
    match nr {
        11 => spec(Exec, Arg::Path(0)),                  // execve
        358 => spec(Exec, at(0, 1, Empty::IfFlag(4))),   // execveat
        5 | 8 => spec(Open, Arg::Path(0)),               // open, creat
        295 | 437 => spec(Open, at(0, 1, Empty::Never)), // openat, openat2
        18 | 84 | 106 | 107 | 195 | 196 | 33 => spec(Stat, Arg::Path(0)), // (old)stat, (old)lstat, stat64, lstat64, access
        300 => spec(Stat, at(0, 1, Empty::IfFlag(3))),                    // fstatat64
        383 => spec(Stat, at(0, 1, Empty::IfFlag(2))),                    // statx
        307 => spec(Stat, at(0, 1, Empty::Never)),                        // faccessat
        439 => spec(Stat, at(0, 1, Empty::IfFlag(3))),                    // faccessat2
        85 => spec(Link, Arg::Path(0)),                                   // readlink
        305 => spec(Link, at(0, 1, Empty::Always)),                       // readlinkat
        141 | 220 => spec(List, Arg::Fd(0)),                              // getdents, getdents64
        12 => spec(Chdir, Arg::Path(0)),                                  // chdir
        133 => spec(Chdir, Arg::Fd(0)),                                   // fchdir
        _ => None,
    }
}

/// 32-bit arm EABI (arch/arm/tools/syscall.tbl).
fn classify_arm(nr: u64) -> Option<Spec> {
    use Kind::*;
    match nr {
        11 => spec(Exec, Arg::Path(0)),                         // execve
        387 => spec(Exec, at(0, 1, Empty::IfFlag(4))),          // execveat
        5 | 8 => spec(Open, Arg::Path(0)),                      // open, creat
        322 | 437 => spec(Open, at(0, 1, Empty::Never)),        // openat, openat2
        106 | 107 | 195 | 196 | 33 => spec(Stat, Arg::Path(0)), // stat, lstat, stat64, lstat64, access
        327 => spec(Stat, at(0, 1, Empty::IfFlag(3))),          // fstatat64
        397 => spec(Stat, at(0, 1, Empty::IfFlag(2))),          // statx
        334 => spec(Stat, at(0, 1, Empty::Never)),              // faccessat
        439 => spec(Stat, at(0, 1, Empty::IfFlag(3))),          // faccessat2
        85 => spec(Link, Arg::Path(0)),                         // readlink
        332 => spec(Link, at(0, 1, Empty::Always)),             // readlinkat
        141 | 217 => spec(List, Arg::Fd(0)),                    // getdents, getdents64
        12 => spec(Chdir, Arg::Path(0)),                        // chdir
        133 => spec(Chdir, Arg::Fd(0)),                         // fchdir
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_table() {
        let c = |nr: c_long| classify(NATIVE_ARCH, nr as u64);
        assert_eq!(c(libc::SYS_execve).unwrap().kind, Kind::Exec);
        assert_eq!(
            c(libc::SYS_openat),
            spec(Kind::Open, at(0, 1, Empty::Never))
        );
        assert_eq!(c(libc::SYS_statx).unwrap().arg, at(0, 1, Empty::IfFlag(2)));
        assert_eq!(c(libc::SYS_getdents64).unwrap().kind, Kind::List);
        assert_eq!(c(libc::SYS_fchdir).unwrap().arg, Arg::Fd(0));
        assert_eq!(c(libc::SYS_read), None);
        assert_eq!(c(libc::SYS_fstat), None);
        assert_eq!(classify(NATIVE_ARCH, u64::MAX), None);
        assert_eq!(classify(0x1234, libc::SYS_openat as u64), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_tables() {
        assert_eq!(classify(NATIVE_ARCH, 2).unwrap().kind, Kind::Open); // open
        assert_eq!(
            classify(NATIVE_ARCH, X32_SYSCALL_BIT | 257).unwrap().kind,
            Kind::Open
        );
        assert_eq!(
            classify(NATIVE_ARCH, X32_SYSCALL_BIT | 520).unwrap().kind,
            Kind::Exec
        );
        assert_eq!(classify(NATIVE_ARCH, X32_SYSCALL_BIT | 59), None);
        assert_eq!(classify(AUDIT_ARCH_I386, 5).unwrap().kind, Kind::Open);
        assert_eq!(classify(AUDIT_ARCH_I386, 11).unwrap().kind, Kind::Exec);
        assert_eq!(classify(AUDIT_ARCH_I386, 3), None); // read
    }
}
