//! An optional seccomp filter that makes the kernel stop the tracee only at
//! the system calls that name files (`SECCOMP_RET_TRACE`, reported as
//! `PTRACE_EVENT_SECCOMP`), instead of at the entry and exit of every call.
//!
//! Why optional: ptrace costs two tracer round trips per system call (about
//! 25 µs each on a small VM); a server that mostly reads, writes and polls
//! pays that for nothing. With the filter, those calls run at full speed and
//! each file call costs one round trip. But installing a filter requires
//! either CAP_SYS_ADMIN or the no_new_privs bit, and no_new_privs is visible
//! to the program (`NoNewPrivs: 1`, and setuid/file-capability binaries no
//! longer gain privileges — which, note, they already do not when traced by
//! a tracer without CAP_SYS_PTRACE, Docker's default).
//!
//! Modes (`record --seccomp MODE`):
//! * `auto` (default): install the filter only if that needs no change the
//!   program could see: no_new_privs is already set (e.g. `docker run
//!   --security-opt no-new-privileges`) or we have CAP_SYS_ADMIN;
//! * `on`: also set no_new_privs when needed (faster; see above);
//! * `off`: never; trace every system call.
//!
//! The filter is installed by the forked child before it stops for the
//! tracer, so every descendant inherits it. A tracee with this filter and no
//! tracer would get ENOSYS from the traced calls, but tracees never outlive
//! the recorder (PTRACE_O_EXITKILL).

use crate::syscalls;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Auto,
    On,
    Off,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "auto" => Some(Mode::Auto),
            "on" => Some(Mode::On),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }
}

// Classic BPF opcodes (linux/bpf_common.h) and seccomp return values.
/// BPF_LD | BPF_W | BPF_ABS (0x00 | 0x00 | 0x20).
const BPF_LD_W_ABS: u16 = 0x20;
/// BPF_JMP | BPF_JEQ | BPF_K (0x05 | 0x10 | 0x00).
const BPF_JMP_JEQ_K: u16 = 0x15;
#[cfg(target_arch = "x86_64")]
/// BPF_JMP | BPF_JSET | BPF_K (0x05 | 0x40 | 0x00).
const BPF_JMP_JSET_K: u16 = 0x45;
const BPF_RET_K: u16 = 0x06;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_TRACE: u32 = 0x7ff0_0000;
// Offsets in struct seccomp_data.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// The filter: trace the native file calls and everything of another ABI
/// (32-bit compat, x32: rare, and `syscalls::classify` sorts them out);
/// allow the rest.
pub fn program() -> Vec<libc::sock_filter> {
    let numbers = syscalls::native_file_syscalls();
    let mut p = vec![stmt(BPF_LD_W_ABS, OFF_ARCH)];
    // Jumps are filled in below, once the position of TRACE is known.
    let arch_check = p.len();
    p.push(stmt(BPF_JMP_JEQ_K, syscalls::NATIVE_ARCH));
    p.push(stmt(BPF_LD_W_ABS, OFF_NR));
    let mut to_trace = vec![];
    #[cfg(target_arch = "x86_64")]
    {
        to_trace.push(p.len());
        p.push(stmt(BPF_JMP_JSET_K, 0x4000_0000));
    }
    for &nr in numbers {
        to_trace.push(p.len());
        p.push(stmt(BPF_JMP_JEQ_K, nr as u32));
    }
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    let trace = p.len();
    p.push(stmt(BPF_RET_K, RET_TRACE));
    // Offsets are relative to the next instruction and fit in a u8 (the
    // list is ~20 numbers).
    let off = |from: usize| u8::try_from(trace - from - 1).unwrap_or(u8::MAX);
    p[arch_check].jt = 0;
    p[arch_check].jf = off(arch_check);
    for i in to_trace {
        p[i].jt = off(i);
        p[i].jf = 0;
    }
    p
}

/// In the forked child: installs `prog` as `mode` allows. Returns whether
/// the filter is in place. Only async-signal-safe calls.
pub fn install(mode: Mode, prog: &mut [libc::sock_filter]) -> bool {
    if mode == Mode::Off || prog.is_empty() {
        return false;
    }
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: fprog points to a valid program for the duration of the call.
    let try_install = || unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &fprog as *const libc::sock_fprog as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        ) == 0
    };
    // Without no_new_privs this succeeds only with CAP_SYS_ADMIN.
    if try_install() {
        return true;
    }
    if mode == Mode::On {
        // SAFETY: plain prctl.
        let nnp = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) };
        return nnp == 0 && try_install();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the classic BPF program on (arch, nr) — a tiny interpreter for
    /// the three instructions we emit.
    fn run(p: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            pc += 1;
            match i.code {
                BPF_LD_W_ABS => acc = if i.k == OFF_ARCH { arch } else { nr },
                BPF_JMP_JEQ_K => pc += if acc == i.k { i.jt } else { i.jf } as usize,
                #[cfg(target_arch = "x86_64")]
                BPF_JMP_JSET_K => pc += if acc & i.k != 0 { i.jt } else { i.jf } as usize,
                BPF_RET_K => return i.k,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    #[test]
    fn filter_traces_exactly_the_file_calls() {
        let p = program();
        for nr in 0..600u32 {
            let want = syscalls::classify(syscalls::NATIVE_ARCH, nr as u64).is_some();
            let got = run(&p, syscalls::NATIVE_ARCH, nr) == RET_TRACE;
            assert_eq!(got, want, "syscall {nr}");
        }
        assert_eq!(
            run(&p, 0x4000_0003, 3),
            RET_TRACE,
            "other ABIs go to the tracer"
        );
        #[cfg(target_arch = "x86_64")]
        assert_eq!(run(&p, syscalls::NATIVE_ARCH, 0x4000_0000 | 257), RET_TRACE);
    }
}
