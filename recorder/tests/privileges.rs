//! Without CAP_SYS_PTRACE (Docker's default) a tracee that dropped to
//! another user is still recorded: /proc is read with the tracee owner's
//! file-system ids, and the exec'd path is recovered from AT_EXECFN.
//!
//! Needs root and setpriv (util-linux); skipped with a message otherwise.

mod common;

use common::*;
use std::process::Command;

fn can_run() -> bool {
    // SAFETY: plain getter.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root");
        return false;
    }
    let ok = Command::new("setpriv")
        .args(["--bounding-set", "-sys_ptrace", "--", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: setpriv cannot drop CAP_SYS_PTRACE here");
    }
    ok
}

fn dropped_to_another_user(mode: &str) {
    if !can_run() {
        return;
    }
    let dir = TempDir::new("privs");
    dir.file("rel.txt", "x\n");
    dir.file("sub/one", "");
    let d = dir.path().display();
    let out = dir.join("out");
    // The recorder runs as root without CAP_SYS_PTRACE (its parent is the
    // recorder: the script checks that), the program as uid/gid 1002.
    let script = format!(
        r#"grep CapEff /proc/$PPID/status; id -u; cd {d} && cat rel.txt >/dev/null; ls {d}/sub >/dev/null"#
    );
    let status = Command::new("setpriv")
        .args([
            "--bounding-set",
            "-sys_ptrace",
            "--inh-caps",
            "-sys_ptrace",
            "--",
        ])
        .arg(BIN)
        .args(["record", "--seccomp", mode, "--out"])
        .arg(&out)
        .args([
            "--",
            "setpriv",
            "--reuid",
            "1002",
            "--regid",
            "1002",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(&script)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let stdout = String::from_utf8(status.stdout).unwrap();
    let mut lines = stdout.lines();
    let cap_eff = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let cap_eff = u64::from_str_radix(cap_eff, 16).unwrap();
    assert_eq!(
        cap_eff & (1 << 19), /* CAP_SYS_PTRACE */
        0,
        "the recorder still has CAP_SYS_PTRACE"
    );
    assert_eq!(lines.next(), Some("1002"));

    let rec = parse(&std::fs::read(&out).unwrap());
    let cat = system_bin("cat");
    // Relative path: needs /proc/TID/cwd of a uid-1002 task.
    rec.assert_has('o', dir.join("rel.txt"), &cat);
    // Listing: needs /proc/TID/fd/N.
    rec.assert_has('d', dir.join("sub"), system_bin("ls"));
    // setpriv exec'd sh right after setresuid (not dumpable then): the path
    // comes from AT_EXECFN after the exec.
    assert!(rec.find('x', "/usr/bin/sh").is_some(), "{}", rec.dump());
    rec.assert_has('x', system_bin("sh"), system_bin("sh"));
}

#[test]
fn uid_switch_without_cap_sys_ptrace_tracing_every_syscall() {
    dropped_to_another_user("off");
}

#[test]
fn uid_switch_without_cap_sys_ptrace_with_the_seccomp_filter() {
    dropped_to_another_user("on");
}
