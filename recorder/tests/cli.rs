//! The command line: usage errors, `pids`, bad `record` set-ups; and the
//! recorder as PID 1 of its own PID namespace (as in a container).

mod common;

use common::*;
use std::process::Command;

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--help"][..],
        &["bogus"][..],
        &["record"][..],
        &["record", "--out", "/tmp/x"][..],
        &["record", "--", "true"][..],
        &["http-get", "/"][..],
        &["http-get", "--port", "x", "/"][..],
        &["pids", "extra"][..],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("usage: slimify-recorder record"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn unwritable_out_file_is_a_setup_error() {
    let out = Command::new(BIN)
        .args(["record", "--out", "/nonexistent-dir/x", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("slimify-recorder: cannot create /nonexistent-dir/x:"),
        "{err}"
    );
}

#[test]
fn pids_lists_proc_sorted_without_itself() {
    let child = Command::new(BIN)
        .arg("pids")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let own = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let pids: Vec<u32> = text.lines().map(|l| l.parse().unwrap()).collect();
    assert!(pids.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(pids.contains(&std::process::id()), "{text}");
    assert!(pids.contains(&1));
    assert!(!pids.contains(&own));
}

/// `unshare --pid --fork --mount-proc` makes the recorder PID 1 with its own
/// /proc, as in a container. Needs root (or user namespaces); skipped with a
/// message where unshare cannot do it.
fn as_pid1(dir: &TempDir, script: &str) -> Option<(std::process::Output, Recording)> {
    let out_file = dir.join("out");
    let out = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", BIN, "record", "--out"])
        .arg(&out_file)
        .args(["--", "sh", "-c", script])
        .output()
        .ok()?;
    if !out_file.exists() {
        eprintln!("skipped: unshare cannot create a PID namespace here: {out:?}");
        return None;
    }
    let rec = parse(&std::fs::read(&out_file).unwrap());
    Some((out, rec))
}

#[test]
fn as_pid1_signals_from_inside_reach_the_program_and_orphans_are_reaped() {
    let dir = TempDir::new("pid1");
    // The program signals PID 1 (the recorder): as the program itself would
    // be PID 1 without the recorder, it must get the signal. Orphans (the
    // background sleeps whose shell exits) are reparented to the recorder
    // and must not stay zombies.
    let script = r#"
        test $$ = 2 || { echo "not pid 2: $$"; exit 1; }
        trap 'echo got USR1' USR1
        for i in 1 2 3; do (sleep 0.1 &) ; done
        kill -USR1 1
        sleep 0.5
        zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)
        echo "zombies=$zombies"
        exit 4
    "#;
    let Some((out, rec)) = as_pid1(&dir, script) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(rec.exit, Some(4));
    assert!(stdout.contains("got USR1"), "{stdout}");
    assert!(stdout.contains("zombies=0"), "{stdout}");
}
