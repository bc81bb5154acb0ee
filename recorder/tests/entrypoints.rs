//! Static and dynamic entrypoints are both recorded, including what the
//! kernel maps for a dynamic one (the ELF interpreter).

mod common;

use common::*;
use std::ffi::OsStr;
use std::process::Command;

const OPENER_C: &str = r#"
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) return 1;
    close(fd);
    return 0;
}
"#;

fn interpreter_recorded(rec: &Recording) -> bool {
    rec.records
        .iter()
        .any(|r| r.kind == 'o' && String::from_utf8_lossy(&r.path).contains("ld-linux"))
}

#[test]
fn static_entrypoint() {
    let dir = TempDir::new("static");
    let opener = cc(&dir, "opener", OPENER_C, &["-static"]);
    let data = dir.file("data.txt", "x");
    let (out, rec) = run_record(&dir, &[opener.as_os_str(), data.as_os_str()], |_| {});
    assert!(out.status.success(), "{out:?}");
    rec.assert_has('x', &opener, BIN);
    rec.assert_has('o', &opener, &opener);
    rec.assert_has('o', &data, &opener);
    assert!(
        !interpreter_recorded(&rec),
        "a static binary has no interpreter: {}",
        rec.dump()
    );
}

#[test]
fn dynamic_entrypoint() {
    let dir = TempDir::new("dynamic");
    let opener = cc(&dir, "opener", OPENER_C, &[]);
    let data = dir.file("data.txt", "x");
    let (out, rec) = run_record(&dir, &[opener.as_os_str(), data.as_os_str()], |_| {});
    assert!(out.status.success(), "{out:?}");
    rec.assert_has('o', &data, &opener);
    assert!(interpreter_recorded(&rec), "{}", rec.dump());
    // libc, opened by the dynamic loader on behalf of the program.
    assert!(
        rec.records
            .iter()
            .any(|r| r.kind == 'o' && String::from_utf8_lossy(&r.path).contains("libc.so")),
        "{}",
        rec.dump()
    );
}

#[test]
fn python_entrypoint() {
    // The interpreter found on PATH may be a wrapper script (pyenv shims):
    // ask the real one for its executable.
    let Ok(probe) = Command::new("python3")
        .args(["-c", "import os; print(os.path.realpath('/proc/self/exe'))"])
        .output()
    else {
        eprintln!("python3 not installed: the dynamic C entrypoint test covers this");
        return;
    };
    assert!(probe.status.success());
    let python = String::from_utf8(probe.stdout).unwrap().trim().to_owned();
    let dir = TempDir::new("python");
    let data = dir.file("data.json", "{\"a\": 1}");
    let code = "import json, sys; print(json.load(open(sys.argv[1]))['a'])";
    let (out, rec) = run_record(
        &dir,
        &[
            OsStr::new("python3"),
            OsStr::new("-c"),
            OsStr::new(code),
            data.as_os_str(),
        ],
        |_| {},
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"1\n");
    rec.assert_has('o', &data, &python);
    rec.assert_has('x', &python, &python);
    // The json package: imported by path search (stat) and opened.
    assert!(
        rec.records
            .iter()
            .any(|r| r.kind == 'o' && String::from_utf8_lossy(&r.path).contains("json/")),
        "{}",
        rec.dump()
    );
}
