//! The program sees exactly what it would see without the recorder: argv,
//! environment, cwd, umask, ids, signal dispositions and mask; and its exit
//! status comes back out unchanged.

mod common;

use common::*;
use std::ffi::OsStr;
use std::process::Command;

const SHOW_C: &str = r#"
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
    char cwd[4096];
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=<%s>\n", i, argv[i]);
    for (char **e = environ; *e; e++) printf("env=<%s>\n", *e);
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
    mode_t m = umask(0); printf("umask=%04o\n", m);
    printf("uid=%d gid=%d euid=%d egid=%d\n", getuid(), getgid(), geteuid(), getegid());
    printf("no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    sigset_t set; sigprocmask(SIG_BLOCK, 0, &set);
    for (int s = 1; s < 65; s++) {
        struct sigaction sa;
        if (sigaction(s, 0, &sa) == 0 && sa.sa_handler == SIG_IGN) printf("ignored %d\n", s);
        if (sigismember(&set, s) == 1) printf("blocked %d\n", s);
    }
    /* no fd other than 0-2 may leak in */
    for (int fd = 3; fd < 64; fd++) if (fcntl(fd, F_GETFD) >= 0) printf("open fd %d\n", fd);
    return 0;
}
"#;

#[test]
fn argv_env_cwd_umask_and_signal_state_pass_through() {
    let dir = TempDir::new("show");
    let show = cc(&dir, "show", &format!("#include <fcntl.h>\n{SHOW_C}"), &[]);
    let workdir = dir.join("work dir");
    std::fs::create_dir(&workdir).unwrap();
    let args = [
        "a b",
        "",
        "'quoted'",
        "\"dq\"",
        "--out",
        "--",
        "tab\there",
        "ünï",
    ];
    // umask and an ignored signal (HUP) are set up by a shell
    // that then execs either the program or the recorder.
    let run = |mode: Option<&str>| {
        let inner = match mode {
            Some(mode) => format!(
                "exec {} record --seccomp {mode} --out {} -- \"$@\"",
                BIN,
                dir.join("out").display()
            ),
            None => "exec \"$@\"".to_string(),
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("umask 027; trap '' HUP; {inner}"))
            .arg("sh")
            .arg(&show)
            .args(args)
            .current_dir(&workdir)
            .env_clear()
            .env("ONE", "1")
            .env("QUOTED", "it's \"x\" = y\tz")
            .env("EMPTY", "")
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let direct = run(None);
    // auto: with the filter where that changes nothing visible (here, as
    // root with CAP_SYS_ADMIN), else without.
    for mode in ["auto", "off"] {
        let traced = run(Some(mode));
        assert_eq!(traced, direct, "--seccomp {mode}");
    }
    // The comparison is only worth something if the state was non-default.
    assert!(direct.contains("umask=0027"), "{direct}");
    assert!(direct.contains("ignored 1\n"), "{direct}");
    assert!(direct.contains("argv[2]=<>"), "{direct}");
    assert!(
        direct.contains("env=<QUOTED=it's \"x\" = y\tz>"),
        "{direct}"
    );
    assert!(
        direct.contains(&format!("cwd={}", workdir.display())),
        "{direct}"
    );
    // Without the recorder's SIGPIPE handling the program would inherit an
    // ignored SIGPIPE (13) from the Rust runtime.
    assert!(!direct.contains("ignored 13\n"), "{direct}");
}

#[test]
fn exit_codes_pass_through() {
    let dir = TempDir::new("exit");
    for code in [0, 3, 42] {
        let (out, rec) = run_record(&dir, &os(&["sh", "-c", &format!("exit {code}")]), |_| {});
        assert_eq!(out.status.code(), Some(code));
        assert_eq!(rec.exit, Some(code));
    }
}

#[test]
fn death_by_signal_gives_128_plus_n() {
    let dir = TempDir::new("sigkill");
    let (out, rec) = run_record(&dir, &os(&["sh", "-c", "kill -9 $$"]), |_| {});
    assert_eq!(out.status.code(), Some(137));
    assert_eq!(rec.exit, Some(137));
    let (out, rec) = run_record(&dir, &os(&["sh", "-c", "kill -TERM $$"]), |_| {});
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(rec.exit, Some(143));
}

#[test]
fn missing_program_gives_127_and_unrunnable_126() {
    let dir = TempDir::new("missing");
    let (out, rec) = run_record(&dir, &os(&["no-such-program-xyz"]), |c| {
        c.env("PATH", "/usr/bin:/bin");
    });
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(rec.exit, Some(127));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        "slimify-recorder: cannot run no-such-program-xyz: No such file or directory\n"
    );
    // Every PATH candidate tried is recorded (the caller keeps those that
    // exist in the image).
    assert!(
        rec.find('x', "/usr/bin/no-such-program-xyz").is_some(),
        "{}",
        rec.dump()
    );
    assert!(
        rec.find('x', "/bin/no-such-program-xyz").is_some(),
        "{}",
        rec.dump()
    );

    let plain = dir.file("plain.txt", "not a program");
    let (out, rec) = run_record(&dir, &[plain.as_os_str()], |_| {});
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    assert_eq!(rec.exit, Some(126));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"));
}

#[test]
fn stdio_passes_through() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = TempDir::new("stdio");
    let mut child = record_cmd(
        &dir.join("out"),
        &[
            OsStr::new("sh"),
            OsStr::new("-c"),
            OsStr::new("tr a-z A-Z; echo err >&2"),
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"HELLO\n");
    assert_eq!(out.stderr, b"err\n");
}
