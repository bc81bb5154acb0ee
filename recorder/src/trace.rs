//! `record`: run the program as a traced child and log the paths its whole
//! process tree touches.
//!
//! # Start-up: PTRACE_SEIZE, not PTRACE_TRACEME
//!
//! The child restores the original signal state, stops itself with
//! `raise(SIGSTOP)` and then `execvp`s the program. The parent waits for that
//! stop, attaches with `PTRACE_SEIZE` (options set atomically with the
//! attach, inherited by every auto-attached descendant), and sends SIGCONT.
//!
//! SEIZE instead of TRACEME+ATTACH semantics because of job control: under
//! TRACEME a group-stop (SIGSTOP/SIGTSTP to the program) cannot be told apart
//! from a signal-delivery-stop without tricks, and a group-stopped tracee
//! stays stopped until the tracer restarts it — which would let it run on
//! although it was stopped (restart) or hang the recorder forever (don't).
//! Under SEIZE a group-stop is reported as `PTRACE_EVENT_STOP`; we answer it
//! with `PTRACE_LISTEN`, which leaves the tracee stopped like an untraced
//! process until SIGCONT, and the kernel then reports it again so we resume
//! it. The program sees ordinary stop/continue semantics.
//!
//! # The loop
//!
//! `waitpid(-1, __WALL)` gets every stop of every traced thread (threads and
//! children are attached automatically by TRACEFORK/VFORK/CLONE), and also
//! reaps any orphan reparented to us (we are PID 1 in a container). Each stop
//! is one of:
//! * a syscall-stop (SIGTRAP|0x80): at an entry, look the syscall up in
//!   `syscalls::classify`, read and resolve its path, record it;
//! * a signal-delivery-stop: restart it with the same signal (re-injected);
//! * `PTRACE_EVENT_STOP`: a group-stop (LISTEN) or a new tracee's first stop;
//! * `PTRACE_EVENT_EXEC`: record the new executable and its mappings;
//! * fork/clone events: nothing to do, the child reports its own stops.
//!
//! Entry vs exit comes from the kernel for each stop (`op` of
//! PTRACE_GET_SYSCALL_INFO, or a register on the fallback path), not from a
//! toggle we would have to keep per thread: a toggle goes out of step at
//! exec from a non-leader thread and at a new child's first stop.
//!
//! With the seccomp filter (`seccomp.rs`) the kernel stops a tracee only at
//! the entry of the file calls (`PTRACE_EVENT_SECCOMP`), and tracees are
//! resumed with PTRACE_CONT instead of PTRACE_SYSCALL; the rest is the same.
//!
//! Without it, the per-syscall cost for a call that names no file is waitpid +
//! GET_SYSCALL_INFO + PTRACE_SYSCALL and a match on the number: no
//! allocation, no /proc access. The executable for the program column is
//! read once per thread, lazily (only when a new path is recorded), and
//! refreshed at exec.

use std::collections::HashMap;
use std::ffi::{CString, OsStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::output::Output;
use crate::paths::{Resolver, Skip};
use crate::seccomp::{self, Mode};
use crate::signals::{self, Saved};
use crate::sys::{self, errno};
use crate::syscalls::{self, Kind};
use crate::{error, procfs, EXIT_SETUP};

const PTRACE_GET_SYSCALL_INFO: c_int = 0x420e;
const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
const PTRACE_SYSCALL_INFO_SECCOMP: u8 = 3;
const PTRACE_GETREGSET: c_int = 0x4204;
const NT_PRSTATUS: usize = 1;

/// `struct ptrace_syscall_info` (linux/ptrace.h), with the union laid out as
/// its `entry` (and `seccomp`) member: nr, args[6], then room for `ret_data`.
/// At an exit stop `nr` holds `rval` instead, which we never read.
#[repr(C)]
#[derive(Default)]
struct SyscallInfo {
    op: u8,
    _pad: [u8; 3],
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    nr: u64,
    args: [u64; 6],
    _ret_data: u32,
    _pad2: u32,
}

/// Runs `program` under the recorder and returns the exit code to exit with.
pub fn record(out: &OsStr, program: &[OsString], mode: Mode) -> i32 {
    let mut output = match Output::create(Path::new(out)) {
        Ok(o) => o,
        Err(e) => {
            error(&format!(
                "cannot create {}: {}",
                Path::new(out).display(),
                sys::describe(&e)
            ));
            return EXIT_SETUP;
        }
    };
    let argv: Vec<CString> = program
        .iter()
        .filter_map(|a| CString::new(a.clone().into_vec()).ok())
        .collect();
    if argv.len() != program.len() || argv.is_empty() {
        error("an argument contains a NUL byte");
        return EXIT_SETUP;
    }
    let own_exe = std::fs::read_link("/proc/self/exe").ok();
    let skip = Skip::new(own_exe.as_deref().map(|p| p.as_os_str().as_bytes()));

    let saved = signals::install();
    let (pid, filtered) = match spawn(&argv, &saved, mode) {
        Ok(r) => r,
        Err(e) => {
            error(&format!("cannot fork: {}", sys::strerror(e)));
            return EXIT_SETUP;
        }
    };

    // Wait for the child's raise(SIGSTOP). The forwarded signals are still
    // blocked, so this cannot be interrupted; loop anyway.
    let mut status: c_int = 0;
    loop {
        // SAFETY: status is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
        if r == pid {
            break;
        }
        if r < 0 && errno() != libc::EINTR {
            error(&format!("waitpid: {}", sys::strerror(errno())));
            return EXIT_SETUP;
        }
    }
    if !libc::WIFSTOPPED(status) {
        // Killed before it could stop (SIGKILL from outside).
        let code = exit_code(status);
        output.exit(code);
        return code;
    }

    let mut options = libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_EXITKILL;
    if filtered {
        options |= libc::PTRACE_O_TRACESECCOMP;
    }
    if sys::ptrace(libc::PTRACE_SEIZE as c_int, pid, 0, options as usize) < 0 {
        let e = errno();
        error(&format!(
            "cannot trace {}: {}{}",
            program[0].to_string_lossy(),
            sys::strerror(e),
            if e == libc::EPERM {
                " (ptrace is not allowed here: run the container with --cap-add SYS_PTRACE)"
            } else {
                ""
            }
        ));
        // SAFETY: our own stopped child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
        return EXIT_SETUP;
    }
    // Out of its stop: the child execs the program next.
    // SAFETY: our own child.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    signals::start_forwarding(pid);

    Tracer {
        out: output,
        skip,
        resolver: Resolver::new(),
        main_pid: pid,
        exes: HashMap::new(),
        path: Vec::with_capacity(256),
        use_info: true,
        // With the filter the kernel stops us at the calls that matter;
        // PTRACE_SYSCALL would add a stop at every call again.
        resume: if filtered {
            libc::PTRACE_CONT
        } else {
            libc::PTRACE_SYSCALL
        } as c_int,
    }
    .run()
}

/// Forks the child that becomes the program. In the child: original signal
/// state, the seccomp filter if `mode` allows (it tells the parent whether
/// through a pipe), stop until the tracer attached, exec; on failure a
/// shell-like message and exit code (127 not found, 126 found but not
/// runnable). Returns the pid and whether the filter is in place.
fn spawn(argv: &[CString], saved: &Saved, mode: Mode) -> Result<(libc::pid_t, bool), c_int> {
    let mut ptrs: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let mut msg = b"slimify-recorder: cannot run ".to_vec();
    msg.extend_from_slice(argv[0].as_bytes());
    msg.extend_from_slice(b": ");
    let mut filter = seccomp::program();
    let mut fds = [-1 as c_int; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(errno());
    }
    // SAFETY: fork in a single-threaded process; the child only calls
    // async-signal-safe functions (and execvp) before exec or _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = errno();
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(e);
    }
    if pid == 0 {
        saved.restore();
        let filtered = seccomp::install(mode, &mut filter);
        sys::write_all_fd(fds[1], if filtered { b"S" } else { b"P" });
        // SAFETY: see above; ptrs is a NULL-terminated array of C strings.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
            libc::raise(libc::SIGSTOP);
            libc::execvp(ptrs[0], ptrs.as_ptr());
        }
        let e = errno();
        sys::write_all_fd(2, &msg);
        sys::write_all_fd(2, sys::strerror_static(e));
        sys::write_all_fd(2, b"\n");
        let code = if e == libc::ENOENT || e == libc::ENOTDIR {
            127
        } else {
            126
        };
        // SAFETY: leave without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut byte = [0u8; 1];
    // SAFETY: closing our copy of the write end, reading one byte (EOF if
    // the child died first: then no filter).
    let filtered = unsafe {
        libc::close(fds[1]);
        let n = loop {
            let n = libc::read(fds[0], byte.as_mut_ptr().cast(), 1);
            if n >= 0 || errno() != libc::EINTR {
                break n;
            }
        };
        libc::close(fds[0]);
        n == 1 && byte[0] == b'S'
    };
    Ok((pid, filtered))
}

/// The exit code for a wait status: the exit status, or 128+N for a death
/// by signal N (what a shell reports, and what docker-init exits with: as
/// PID 1 we cannot re-raise a fatal signal on ourselves).
fn exit_code(status: c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        EXIT_SETUP
    }
}

struct Tracer {
    out: Output,
    skip: Skip,
    resolver: Resolver,
    /// The program's pid: its exit ends the recording.
    main_pid: libc::pid_t,
    /// Per thread: its executable (the program column), read lazily.
    exes: HashMap<libc::pid_t, Vec<u8>>,
    /// Scratch buffer for the resolved path.
    path: Vec<u8>,
    /// PTRACE_GET_SYSCALL_INFO works (Linux 5.3+); else read registers.
    use_info: bool,
    /// How to restart a tracee: PTRACE_SYSCALL, or PTRACE_CONT when the
    /// seccomp filter stops it at the calls we record.
    resume: c_int,
}

impl Tracer {
    fn run(mut self) -> i32 {
        loop {
            let mut status: c_int = 0;
            // SAFETY: status is a valid out-pointer.
            let tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
            if tid < 0 {
                match errno() {
                    libc::EINTR => continue,
                    e => {
                        error(&format!("waitpid: {}", sys::strerror(e)));
                        self.out.exit(EXIT_SETUP);
                        return EXIT_SETUP;
                    }
                }
            }
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                self.exes.remove(&tid);
                if tid == self.main_pid {
                    let code = exit_code(status);
                    self.out.exit(code);
                    return code;
                }
                continue;
            }
            if !libc::WIFSTOPPED(status) {
                continue;
            }
            let sig = libc::WSTOPSIG(status);
            let event = (status >> 16) & 0xff;
            let mut inject = 0;
            if sig == libc::SIGTRAP | 0x80 {
                self.on_syscall_stop(tid, false);
            } else if event == libc::PTRACE_EVENT_SECCOMP {
                self.on_syscall_stop(tid, true);
            } else if event == 0 {
                // Signal-delivery-stop: deliver the signal as if untraced.
                inject = sig;
            } else if event == libc::PTRACE_EVENT_STOP {
                if matches!(
                    sig,
                    libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
                ) {
                    // Group-stop: stay stopped until SIGCONT (see module doc).
                    if sys::ptrace(libc::PTRACE_LISTEN as c_int, tid, 0, 0) == 0
                        || errno() == libc::ESRCH
                    {
                        continue;
                    }
                }
                // Otherwise a new tracee's first stop or the end of a
                // group-stop: resume.
            } else if event == libc::PTRACE_EVENT_EXEC {
                self.on_exec(tid);
            }
            // ESRCH (killed meanwhile) is the only expected failure, and
            // then there is nothing left to resume.
            sys::ptrace(self.resume, tid, 0, inject as usize);
        }
    }

    /// A syscall-stop, or (`seccomp`) a stop of the filter, which is always
    /// at an entry.
    fn on_syscall_stop(&mut self, tid: libc::pid_t, seccomp: bool) {
        let Some((arch, nr, args)) = self.syscall_entry(tid, seccomp) else {
            return;
        };
        let Some(spec) = syscalls::classify(arch, nr) else {
            return;
        };
        let mut path = std::mem::take(&mut self.path);
        if self.resolver.resolve(tid, spec.arg, &args, &mut path) {
            self.record(tid, spec.kind, &path);
        }
        self.path = path;
    }

    /// (arch, nr, args) if `tid` is at a syscall entry, None at an exit.
    fn syscall_entry(&mut self, tid: libc::pid_t, seccomp: bool) -> Option<(u32, u64, [u64; 6])> {
        if self.use_info {
            let mut info = SyscallInfo::default();
            let r = sys::ptrace(
                PTRACE_GET_SYSCALL_INFO,
                tid,
                std::mem::size_of::<SyscallInfo>(),
                &mut info as *mut SyscallInfo as usize,
            );
            if r > 0 {
                let entry = matches!(
                    info.op,
                    PTRACE_SYSCALL_INFO_ENTRY | PTRACE_SYSCALL_INFO_SECCOMP
                );
                return entry.then_some((info.arch, info.nr, info.args));
            }
            if errno() != libc::EIO && errno() != libc::EINVAL {
                return None;
            }
            // Kernel older than 5.3: registers from now on.
            self.use_info = false;
        }
        regs_entry(tid, seccomp)
    }

    /// At PTRACE_EVENT_EXEC: the thread that called execve now has the
    /// group's pid; the process image is new.
    fn on_exec(&mut self, pid: libc::pid_t) {
        let mut former: libc::c_ulong = 0;
        sys::ptrace(
            libc::PTRACE_GETEVENTMSG as c_int,
            pid,
            0,
            &mut former as *mut libc::c_ulong as usize,
        );
        if let Ok(former) = libc::pid_t::try_from(former) {
            self.exes.remove(&former);
        }
        let exe = procfs::exe(pid).unwrap_or_default();
        self.exes.insert(pid, exe.clone());
        // The path as given to execve, once more: usually recorded at the
        // entry already, but not if the old image was unreadable.
        let mut path = std::mem::take(&mut self.path);
        if self.resolver.execfn(pid, &mut path) {
            self.record(pid, Kind::Exec, &path);
        }
        self.path = path;
        // For a #! script this is the interpreter (the script itself was
        // recorded at the execve entry).
        if !exe.is_empty() {
            self.record(pid, Kind::Exec, &exe);
        }
        // The executable and what the kernel mapped with it: the ELF
        // interpreter (ld-linux), which no syscall of the tracee opens.
        for file in procfs::mapped_files(pid) {
            self.record(pid, Kind::Open, &file);
        }
    }

    fn record(&mut self, tid: libc::pid_t, kind: Kind, path: &[u8]) {
        if self.skip.skipped(path) || !self.out.is_new(kind, path) {
            return;
        }
        let exe = self
            .exes
            .entry(tid)
            .or_insert_with(|| procfs::exe(tid).unwrap_or_default());
        self.out.record(kind, exe, path);
    }
}

/// The fallback for kernels without PTRACE_GET_SYSCALL_INFO: the native
/// registers (NT_PRSTATUS). A 32-bit tracee has a smaller register set and
/// is skipped. A seccomp stop is always an entry; at a syscall-stop, entry
/// is told by the kernel's own marker: on x86_64 the return register holds
/// -ENOSYS at entry; on aarch64 x7 is 0 at entry and 1 at exit while the
/// tracee is stopped.
fn regs_entry(tid: libc::pid_t, seccomp: bool) -> Option<(u32, u64, [u64; 6])> {
    #[cfg(target_arch = "x86_64")]
    const N: usize = 27;
    #[cfg(target_arch = "aarch64")]
    const N: usize = 34;
    let mut regs = [0u64; N];
    let mut iov = libc::iovec {
        iov_base: regs.as_mut_ptr().cast(),
        iov_len: std::mem::size_of_val(&regs),
    };
    let r = sys::ptrace(
        PTRACE_GETREGSET,
        tid,
        NT_PRSTATUS,
        &mut iov as *mut libc::iovec as usize,
    );
    if r < 0 || iov.iov_len != std::mem::size_of_val(&regs) {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx
        // rdx rsi rdi orig_rax ...
        let enosys = (-(libc::ENOSYS as i64)) as u64;
        (seccomp || regs[10] == enosys).then_some((
            syscalls::NATIVE_ARCH,
            regs[15],
            [regs[14], regs[13], regs[12], regs[7], regs[9], regs[8]],
        ))
    }
    #[cfg(target_arch = "aarch64")]
    {
        // user_pt_regs: x0..x30 sp pc pstate; the number is in x8.
        (seccomp || regs[7] == 0).then_some((
            syscalls::NATIVE_ARCH,
            regs[8],
            [regs[0], regs[1], regs[2], regs[3], regs[4], regs[5]],
        ))
    }
}
