//! Signals sent to the recorder reach the program; job control on the
//! program (SIGSTOP/SIGCONT) works and does not hang the recorder; a
//! SIGKILL of the recorder loses nothing already recorded.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

/// Starts `sh -c script` under the recorder and waits for its first stdout
/// line (the script prints "ready" once its traps are set).
fn start(dir: &TempDir, script: &str) -> (Child, BufReader<std::process::ChildStdout>) {
    start_mode(dir, "auto", script)
}

fn start_mode(
    dir: &TempDir,
    mode: &str,
    script: &str,
) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = record_cmd_mode(&dir.join("out"), mode, &os(&["sh", "-c", script]))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    (child, stdout)
}

fn rest(mut stdout: BufReader<std::process::ChildStdout>) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
    s
}

const TRAPS: &str = r#"
trap 'echo got USR1; exit 11' USR1
trap 'echo got TERM; exit 12' TERM
echo ready
while :; do sleep 0.05; done
"#;

#[test]
fn usr1_is_forwarded_to_the_program() {
    let dir = TempDir::new("usr1");
    let (mut child, stdout) = start(&dir, TRAPS);
    kill(child.id(), libc::SIGUSR1);
    let status = child.wait().unwrap();
    assert_eq!(rest(stdout), "got USR1\n");
    assert_eq!(status.code(), Some(11));
    let rec = parse(&std::fs::read(dir.join("out")).unwrap());
    assert_eq!(rec.exit, Some(11));
}

#[test]
fn term_is_forwarded_to_the_program() {
    let dir = TempDir::new("term");
    let (mut child, stdout) = start(&dir, TRAPS);
    kill(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(rest(stdout), "got TERM\n");
    assert_eq!(status.code(), Some(12));
}

/// The pid of the recorder's (only) child: the program.
fn program_pid(recorder: u32) -> u32 {
    let mut pid = 0;
    wait_for(5, "the program's pid", || {
        let children =
            std::fs::read_to_string(format!("/proc/{recorder}/task/{recorder}/children"))
                .unwrap_or_default();
        pid = children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        pid != 0
    });
    pid
}

fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.chars().next().unwrap()
}

#[test]
fn sigstop_and_sigcont_work_tracing_every_syscall() {
    stop_and_continue("off");
}

#[test]
fn sigstop_and_sigcont_work_with_the_seccomp_filter() {
    stop_and_continue("on");
}

fn stop_and_continue(mode: &str) {
    let dir = TempDir::new("stop");
    let ticks = dir.join("ticks");
    let script = format!(
        "trap 'exit 12' TERM; echo ready; while :; do echo t >> '{}'; sleep 0.02; done",
        ticks.display()
    );
    let (mut child, stdout) = start_mode(&dir, mode, &script);
    let prog = program_pid(child.id());
    let size = || std::fs::metadata(&ticks).map(|m| m.len()).unwrap_or(0);
    wait_for(5, "ticks", || size() > 0);

    kill(prog, libc::SIGSTOP);
    // Stopped (T) or stopped under ptrace (t, after PTRACE_LISTEN).
    wait_for(5, "the program to stop", || {
        matches!(state(prog), 'T' | 't')
    });
    std::thread::sleep(Duration::from_millis(100));
    let frozen = size();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(size(), frozen, "the program kept running while stopped");

    kill(prog, libc::SIGCONT);
    wait_for(5, "the program to run again", || size() > frozen);

    // Job control through the recorder: TSTP forwarded, then CONT.
    kill(child.id(), libc::SIGTSTP);
    wait_for(5, "the program to stop on TSTP", || {
        matches!(state(prog), 'T' | 't')
    });
    kill(child.id(), libc::SIGCONT);
    let again = size();
    wait_for(5, "the program to run after CONT", || size() > again);

    kill(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(12));
    assert_eq!(rest(stdout), "");
}

#[test]
fn sigkill_of_the_recorder_keeps_what_was_recorded() {
    let dir = TempDir::new("killed");
    let seen = dir.file("seen.txt", "x\n");
    let script = format!("cat '{}' >/dev/null; echo ready; sleep 30", seen.display());
    let (mut child, _stdout) = start(&dir, &script);
    let prog = program_pid(child.id());
    kill(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    let raw = std::fs::read(dir.join("out")).unwrap();
    let rec = parse(&raw);
    assert_eq!(rec.exit, None, "no exit line when killed");
    assert!(rec.find('o', &seen).is_some(), "{}", rec.dump());
    // PTRACE_O_EXITKILL: the program does not outlive its tracer.
    wait_for(5, "the program to die with the recorder", || {
        !std::path::Path::new(&format!("/proc/{prog}")).exists() || state(prog) == 'Z'
    });
}
