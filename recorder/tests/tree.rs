//! A whole process tree is recorded: shells, subshells, pipelines, exec,
//! threads, fork+exec, chdir, openat with a dirfd, directory listings, the
//! ELF interpreter — each with the right kind and program.

mod common;

use common::*;
use std::ffi::OsStr;

const TREE_C: &str = r#"
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void *opener(void *path) {
    int fd = open((const char *)path, O_RDONLY);
    if (fd >= 0) close(fd);
    return 0;
}

/* argv: THREAD1 THREAD2 CHILDFILE DIR RELNAME MISSING */
int main(int argc, char **argv) {
    if (argc != 7) return 2;
    pthread_t a, b;
    pthread_create(&a, 0, opener, argv[1]);
    pthread_create(&b, 0, opener, argv[2]);
    pthread_join(a, 0);
    pthread_join(b, 0);
    int dfd = open(argv[4], O_RDONLY | O_DIRECTORY);
    int fd = openat(dfd, argv[5], O_RDONLY);
    if (fd >= 0) close(fd);
    struct stat st;
    stat(argv[6], &st);              /* fails: recorded anyway */
    access(argv[6], R_OK);
    char buf[64];
    readlink("/tmp", buf, sizeof buf);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open(argv[3], O_RDONLY);
        if (cfd >= 0) close(cfd);
        execl("/bin/true", "true", (char *)0);
        _exit(99);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"#;

#[test]
fn process_tree_is_recorded_tracing_every_syscall() {
    process_tree("off");
}

#[test]
fn process_tree_is_recorded_with_the_seccomp_filter() {
    process_tree("on");
}

fn process_tree(mode: &str) {
    let dir = TempDir::new("tree");
    let tree = cc(&dir, "tree", TREE_C, &["-pthread"]);
    for f in [
        "sub/rel.txt",
        "sub2/via-exec.txt",
        "a.txt",
        "p.txt",
        "t1",
        "t2",
        "child.txt",
        "dirfd/rel2.txt",
    ] {
        dir.file(f, "data\n");
    }
    dir.file("listme/one", "");
    dir.file("listme/two", "");
    let d = dir.path().display().to_string();
    let script = format!(
        r#"
cd {d}/sub && cat rel.txt >/dev/null
(cat {d}/a.txt) >/dev/null
sh -c 'cd {d}/sub2 && exec cat via-exec.txt' >/dev/null
cat {d}/p.txt | wc -c >/dev/null
ls {d}/listme >/dev/null
{tree} {d}/t1 {d}/t2 {d}/child.txt {d}/dirfd rel2.txt {d}/missing
"#,
        tree = tree.display()
    );
    let (out, rec) = run_record_mode(&dir, mode, &os(&["sh", "-c", &script]), |c| {
        c.env("PATH", "/usr/bin:/bin").current_dir(dir.path());
    });
    assert!(out.status.success(), "{out:?}\n{}", rec.dump());
    assert_eq!(rec.exit, Some(0));

    let cat = system_bin("cat");
    let ls = system_bin("ls");
    let sh = system_bin("sh");
    let truebin = system_bin("true");
    let p = |s: &str| dir.join(s);

    // The entrypoint: the PATH lookup tried /usr/bin/sh first and found it.
    assert!(rec.find('x', "/usr/bin/sh").is_some(), "{}", rec.dump());
    rec.assert_has('x', &sh, &sh);
    // Relative open after cd, attributed to cat, and the chdir itself.
    rec.assert_has('o', p("sub/rel.txt"), &cat);
    rec.assert_has('c', p("sub"), &sh);
    // Subshell, exec from a nested shell (cwd changed there), pipeline.
    rec.assert_has('o', p("a.txt"), &cat);
    rec.assert_has('o', p("sub2/via-exec.txt"), &cat);
    rec.assert_has('o', p("p.txt"), &cat);
    assert!(rec.find('x', system_bin("wc")).is_some());
    // The executed binaries: the first record of a path names the caller
    // of execve (here the shell; /usr/bin/cat is no symlink).
    rec.assert_has('x', "/usr/bin/cat", &sh);
    // A directory listing.
    rec.assert_has('d', p("listme"), &ls);
    // The C program: two threads, openat via a dirfd, failed stat/access,
    // readlink, and a forked child that opens then execs /bin/true.
    rec.assert_has('x', &tree, &sh);
    rec.assert_has('o', p("t1"), &tree);
    rec.assert_has('o', p("t2"), &tree);
    rec.assert_has('o', p("dirfd/rel2.txt"), &tree);
    rec.assert_has('s', p("missing"), &tree);
    rec.assert_has('o', p("child.txt"), &tree);
    rec.assert_has('l', "/tmp", &tree);
    rec.assert_has('x', "/bin/true", &tree);
    // /bin/true is a symlink (merged /usr) or the file itself: the real
    // path is recorded at the exec event, with the new program.
    if truebin != std::path::Path::new("/bin/true") {
        rec.assert_has('x', &truebin, &truebin);
    }
    // The ELF interpreter, mapped by the kernel at exec.
    assert!(
        rec.records
            .iter()
            .any(|r| r.kind == 'o' && String::from_utf8_lossy(&r.path).contains("ld-linux")),
        "no ld-linux: {}",
        rec.dump()
    );
    // Nothing from the pseudo file systems, nor from the recorder's dir.
    let own_dir = std::path::Path::new(BIN).parent().unwrap();
    for r in &rec.records {
        for d in [
            OsStr::new("/proc"),
            OsStr::new("/sys"),
            OsStr::new("/dev"),
            own_dir.as_os_str(),
        ] {
            assert!(!under(&r.path, d), "{r:?}");
        }
    }
}

#[test]
fn tabs_newlines_and_backslashes_in_paths_are_escaped() {
    let dir = TempDir::new("escape");
    let name = "we\tird\nna\\me";
    let file = dir.file(name, "x");
    let (out, rec) = run_record(&dir, &[OsStr::new("cat"), file.as_os_str()], |c| {
        c.env("PATH", "/usr/bin:/bin");
    });
    assert!(out.status.success());
    assert_eq!(out.stdout, b"x");
    rec.assert_has('o', &file, system_bin("cat"));
    let escaped = format!("{}/we\\tird\\nna\\\\me\n", dir.path().display());
    let raw = rec.dump();
    assert!(
        raw.lines()
            .any(|l| l.starts_with("o\t") && format!("{l}\n").ends_with(&escaped)),
        "{raw}"
    );
}

#[test]
fn non_utf8_paths_pass_through_raw() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("bytes");
    let file = dir.path().join(OsStr::from_bytes(b"caf\xe9"));
    std::fs::write(&file, "x").unwrap();
    let (out, rec) = run_record(&dir, &[OsStr::new("/bin/cat"), file.as_os_str()], |_| {});
    assert!(out.status.success());
    assert!(rec.find('o', &file).is_some(), "{}", rec.dump());
    assert!(rec.raw.windows(4).any(|w| w == b"caf\xe9"));
}
