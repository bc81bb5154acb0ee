//! Forwarding signals to the traced program, as an init (PID 1) must.
//!
//! In a probed container the recorder is PID 1: `docker stop`/`docker kill`
//! signal it, not the program. The handler forwards each signal straight to
//! the main child with `kill(2)` (async-signal-safe), so nothing can sit
//! between "flag set" and "waitpid blocks" while the program is idle; it is
//! installed without SA_RESTART so the tracer's `waitpid` returns EINTR and
//! simply loops.
//!
//! Only signals sent by a process (si_code <= 0: kill, sigqueue, tgkill) are
//! forwarded. Kernel-generated ones are either about the recorder itself
//! (SIGPIPE from its own write) or were sent to the terminal's foreground
//! process group (Ctrl-C, SIGWINCH), which the program shares with the
//! recorder — forwarding those would deliver them twice. A SIGPIPE the kernel
//! raises for our own write is reported as SI_USER from our own pid, so
//! signals from ourselves are dropped too.
//!
//! Not forwarded: SIGKILL/SIGSTOP (cannot be caught), SIGCHLD (ours, about
//! our children), and the synchronous fault signals (SEGV, BUS, FPE, ILL,
//! TRAP, SYS, ABRT), which mean a fault in the recorder and must keep their
//! default action. That is tini's (docker-init's) set, except that we also
//! forward TTIN/TTOU: sent by a process, they ask the program to stop.
//!
//! The program must see the signal state the recorder was started with:
//! [`Saved`] keeps the original dispositions and mask, and the forked child
//! puts them back before exec (handlers would be reset by exec anyway, but
//! SIG_IGN and the mask are inherited).

use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};

static MAIN_PID: AtomicI32 = AtomicI32::new(0);
static OWN_PID: AtomicI32 = AtomicI32::new(0);

/// The signals we catch and forward.
pub fn forwarded() -> Vec<c_int> {
    let never = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGCHLD,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
    ];
    let mut v: Vec<c_int> = (1..32).filter(|s| !never.contains(s)).collect();
    // 32 and 33 are the C library's own; SIGRTMIN() is the first free one.
    v.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    v
}

/// The signal state to give back to the program.
pub struct Saved {
    actions: Vec<(c_int, libc::sigaction)>,
    mask: libc::sigset_t,
}

extern "C" fn forward(sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    // SAFETY: errno is thread-local; we restore it so the interrupted
    // waitpid's caller sees its own EINTR.
    let saved_errno = unsafe { *libc::__errno_location() };
    if !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
        let (code, from) = unsafe { ((*info).si_code, (*info).si_pid()) };
        let main = MAIN_PID.load(Ordering::Relaxed);
        let own = OWN_PID.load(Ordering::Relaxed);
        if code <= 0 && main > 0 && !(from == own && from != 0) {
            // SAFETY: kill is async-signal-safe.
            unsafe { libc::kill(main, sig) };
        }
    }
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Installs the forwarding handler for every forwarded signal, with those
/// signals blocked until [`start_forwarding`] (so one that arrives before
/// the program exists waits instead of being lost). Returns the original
/// state for the child.
pub fn install() -> Saved {
    // SAFETY: plain libc signal calls on properly initialised structures.
    unsafe {
        OWN_PID.store(libc::getpid(), Ordering::Relaxed);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in &forwarded() {
            libc::sigaddset(&mut set, s);
        }
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut mask);

        let mut actions = Vec::new();
        for s in forwarded() {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = forward as *const () as usize;
            // No SA_RESTART: waitpid returns EINTR (see module doc).
            act.sa_flags = libc::SA_SIGINFO;
            libc::sigfillset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(s, &act, &mut old) == 0 {
                actions.push((s, old));
            }
        }
        Saved { actions, mask }
    }
}

/// Forwards from now on to `pid`, and unblocks the forwarded signals (any
/// that arrived meanwhile are delivered, and so forwarded, right away).
pub fn start_forwarding(pid: i32) {
    MAIN_PID.store(pid, Ordering::Relaxed);
    // SAFETY: as in install.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in &forwarded() {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
    }
}

impl Saved {
    /// In the forked child, before exec: the original dispositions, then the
    /// original mask. Only async-signal-safe calls.
    pub fn restore(&self) {
        // SAFETY: restoring values the kernel gave us.
        unsafe {
            for (s, act) in &self.actions {
                libc::sigaction(*s, act, std::ptr::null_mut());
            }
            libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut());
        }
    }
}
