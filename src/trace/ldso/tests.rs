//! The loader search checked against lddtree (pax-utils), the reference
//! static tracer, on real binaries: the host's files are copied into a
//! synthetic image (symlinks such as the usrmerge /lib -> usr/lib included),
//! so the tracer resolves them inside the image exactly as lddtree does on
//! the host.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::Loader;
use crate::keep::Reason;
use crate::rootfs::RootFs;
use crate::testutil::{index_all, LayerBuilder};

enum HostEntry {
    Dir,
    File(Vec<u8>, u32),
    Link(String),
}

/// Add `path` and everything on the way to it (parents, symlinks and their targets).
fn add_host_path(entries: &mut BTreeMap<String, HostEntry>, path: &Path, depth: usize) {
    assert!(depth < 40, "symlink loop at {path:?}");
    let mut so_far = std::path::PathBuf::from("/");
    let comps: Vec<_> = path.components().skip(1).collect();
    for (i, c) in comps.iter().enumerate() {
        so_far.push(c);
        let rel = so_far
            .strip_prefix("/")
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(&so_far).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&so_far).unwrap();
            entries.insert(rel, HostEntry::Link(target.to_string_lossy().into_owned()));
            let resolved = so_far.parent().unwrap().join(&target);
            let rest: std::path::PathBuf = comps[i + 1..].iter().collect();
            add_host_path(entries, &resolved.join(rest), depth + 1);
            return;
        } else if meta.is_dir() {
            entries.entry(rel).or_insert(HostEntry::Dir);
        } else {
            entries.insert(
                rel,
                HostEntry::File(std::fs::read(&so_far).unwrap(), meta.mode() & 0o7777),
            );
        }
    }
}

/// Run a tool the tests need (installed by scripts/setup.sh); its stdout.
fn run_ok(cmd: &mut std::process::Command, what: &str) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} must be installed (scripts/setup.sh): {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What lddtree prints for `bin`, each path canonicalised on the host.
fn lddtree(bin: &str) -> BTreeSet<String> {
    let out = run_ok(
        std::process::Command::new("/usr/bin/python3").args(["/usr/bin/lddtree", "-l", bin]),
        "lddtree (pax-utils, with Debian's python3)",
    );
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| {
            std::fs::canonicalize(l)
                .unwrap()
                .to_string_lossy()
                .trim_start_matches('/')
                .to_string()
        })
        .collect()
}

#[test]
fn the_library_set_matches_lddtree_on_real_binaries() {
    let bins: Vec<&str> = [
        "/bin/ls",
        "/bin/curl",
        "/bin/ssh",
        "/bin/git",
        "/bin/python3.11",
    ]
    .into_iter()
    .filter(|b| Path::new(b).exists())
    .collect();
    assert!(bins.len() >= 2, "too few reference binaries on this host");
    let mut entries = BTreeMap::new();
    add_host_path(&mut entries, Path::new("/etc/ld.so.cache"), 0);
    let expected: Vec<(&str, BTreeSet<String>)> = bins.iter().map(|b| (*b, lddtree(b))).collect();
    for (_, libs) in &expected {
        for l in libs {
            add_host_path(&mut entries, &Path::new("/").join(l), 0);
        }
    }
    // Also every symlink lddtree's paths go through (e.g. /lib64/ld-linux-x86-64.so.2).
    for b in &bins {
        let out = std::process::Command::new("/usr/bin/python3")
            .args(["/usr/bin/lddtree", "-l", b])
            .output()
            .unwrap();
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            add_host_path(&mut entries, Path::new(l), 0);
        }
    }
    let mut layer = LayerBuilder::new();
    for (path, e) in &entries {
        layer = match e {
            HostEntry::Dir => layer.dir(path, 0o755),
            HostEntry::File(data, mode) => layer.file_with(path, data, *mode, 0, 0),
            HostEntry::Link(t) => layer.symlink(path, t),
        };
    }
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &[layer.bytes()], false)).unwrap();
    let loader = Loader::new(&fs, &[]);
    for (bin, want) in expected {
        let trace = loader.trace(bin).unwrap().expect("ELF");
        assert!(
            trace.missing.is_empty(),
            "{bin}: missing {:?}",
            trace.missing
        );
        let got: BTreeSet<String> = trace
            .needed
            .iter()
            .filter(|(_, n)| !matches!(n, Some(Reason::LinkTo(_) | Reason::Variant(_))))
            .map(|(p, _)| p.as_str().to_string())
            .collect();
        assert_eq!(got, want, "{bin}");
        // Every symlink on the way is kept too, e.g. the usrmerge /lib and /bin links.
        assert!(
            trace.needed.contains_key("lib") && trace.needed.contains_key("bin"),
            "{bin}: {:?}",
            trace.needed.keys()
        );
    }
}

/// An arm64 program is traced on this x86-64 machine exactly the same way:
/// goblin reads it, nothing runs, and libraries of the wrong machine are
/// skipped even where they come first in the search order.
#[test]
fn an_arm64_program_gets_arm64_libraries_and_never_x86_decoys() {
    let cross = "/usr/aarch64-linux-gnu/lib";
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("app.c");
    std::fs::write(&src, "#include <math.h>\n#include <stdio.h>\nint main(int argc, char **argv){(void)argv;printf(\"%f\\n\", cos((double)argc));return 0;}\n").unwrap();
    let bin = dir.path().join("app");
    run_ok(
        std::process::Command::new("aarch64-linux-gnu-gcc")
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .arg("-lm"),
        "aarch64-linux-gnu-gcc (gcc-aarch64-linux-gnu)",
    );

    let read = |p: &str| std::fs::read(p).unwrap();
    let host_libc = std::fs::canonicalize("/lib/x86_64-linux-gnu/libc.so.6").unwrap();
    let host_libm = std::fs::canonicalize("/lib/x86_64-linux-gnu/libm.so.6").unwrap();
    let layer = LayerBuilder::new()
        .dir("usr/lib/aarch64-linux-gnu", 0o755)
        .symlink("lib", "usr/lib")
        .file_with("usr/bin/app", &std::fs::read(&bin).unwrap(), 0o755, 0, 0)
        .file_with(
            "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
            &read(&format!("{cross}/ld-linux-aarch64.so.1")),
            0o755,
            0,
            0,
        )
        .file(
            "usr/lib/aarch64-linux-gnu/libc.so.6",
            &read(&format!("{cross}/libc.so.6")),
        )
        .file(
            "usr/lib/aarch64-linux-gnu/libm.so.6",
            &read(&format!("{cross}/libm.so.6")),
        )
        .symlink(
            "usr/lib/ld-linux-aarch64.so.1",
            "aarch64-linux-gnu/ld-linux-aarch64.so.1",
        )
        // Decoys of the wrong machine, searched first through LD_LIBRARY_PATH.
        .file("decoy/libc.so.6", &std::fs::read(host_libc).unwrap())
        .file("decoy/libm.so.6", &std::fs::read(host_libm).unwrap())
        .bytes();
    let fs = RootFs::from_layers(index_all(dir.path(), &[layer], false)).unwrap();
    let loader = Loader::new(&fs, &["LD_LIBRARY_PATH=/decoy".to_string()]);
    let trace = loader.trace("/usr/bin/app").unwrap().expect("ELF");
    assert!(trace.missing.is_empty(), "{:?}", trace.missing);
    let files: BTreeSet<&str> = trace
        .needed
        .iter()
        .filter(|(_, n)| !matches!(n, Some(Reason::LinkTo(_))))
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(
        files,
        BTreeSet::from([
            "usr/bin/app",
            "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
            "usr/lib/aarch64-linux-gnu/libc.so.6",
            "usr/lib/aarch64-linux-gnu/libm.so.6",
        ])
    );
    // PT_INTERP /lib/ld-linux-aarch64.so.1 goes through two links, both kept.
    assert!(
        trace.needed.contains_key("lib")
            && trace.needed.contains_key("usr/lib/ld-linux-aarch64.so.1")
    );
}

/// Two libraries that need each other (built so with the cross compiler):
/// the trace ends, as ld.so does, because each soname is loaded once.
#[test]
fn cyclic_dt_needed_ends_with_both_libraries() {
    let cross = "/usr/aarch64-linux-gnu/lib";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cc = |args: &[&str]| {
        run_ok(
            std::process::Command::new("aarch64-linux-gnu-gcc")
                .current_dir(d)
                .args(args),
            "aarch64-linux-gnu-gcc",
        )
    };
    std::fs::write(
        d.join("a.c"),
        "int b(void);\nint a(void){return 1;}\nint c(void){return b();}\n",
    )
    .unwrap();
    std::fs::write(d.join("b.c"), "int a(void);\nint b(void){return a();}\n").unwrap();
    std::fs::write(
        d.join("app.c"),
        "int a(void);\nint main(void){return a();}\n",
    )
    .unwrap();
    // A shared library `libNAME.so` from `NAME.c`, linked with `extra`.
    let shared = |name: &str, extra: &[&str]| {
        let out = format!("lib{name}.so");
        let soname = format!("-Wl,-soname,{out}");
        let src = format!("{name}.c");
        let mut args = vec!["-shared", "-fPIC", "-o", &out, &src, &soname];
        args.extend_from_slice(extra);
        cc(&args);
    };
    // liba without libb first, then libb on it, then liba again on libb: a cycle.
    shared("a", &["-Wl,--unresolved-symbols=ignore-all"]);
    shared("b", &["-L.", "-la"]);
    shared("a", &["-L.", "-lb"]);
    cc(&[
        "-o",
        "app",
        "app.c",
        "-L.",
        "-la",
        "-Wl,--allow-shlib-undefined",
    ]);

    let read = |p: &std::path::Path| std::fs::read(p).unwrap();
    let lib = "usr/lib/aarch64-linux-gnu";
    let layer = LayerBuilder::new()
        .file_with("usr/bin/app", &read(&d.join("app")), 0o755, 0, 0)
        .file_with(
            "lib/ld-linux-aarch64.so.1",
            &read(std::path::Path::new(&format!(
                "{cross}/ld-linux-aarch64.so.1"
            ))),
            0o755,
            0,
            0,
        )
        .file(
            &format!("{lib}/libc.so.6"),
            &read(std::path::Path::new(&format!("{cross}/libc.so.6"))),
        )
        .file(&format!("{lib}/liba.so"), &read(&d.join("liba.so")))
        .file(&format!("{lib}/libb.so"), &read(&d.join("libb.so")))
        .bytes();
    let fs = RootFs::from_layers(index_all(d, &[layer], false)).unwrap();
    let trace = Loader::new(&fs, &[])
        .trace("/usr/bin/app")
        .unwrap()
        .expect("ELF");
    assert!(trace.missing.is_empty(), "{:?}", trace.missing);
    for l in ["liba.so", "libb.so", "libc.so.6"] {
        assert!(
            trace.needed.contains_key(format!("{lib}/{l}").as_str()),
            "{l} missing: {:?}",
            trace.needed
        );
    }
    let libb = std::fs::read(d.join("libb.so")).unwrap();
    let needed = crate::trace::elf::ElfInfo::parse(&libb)
        .unwrap()
        .unwrap()
        .needed;
    assert!(
        needed.contains(&"liba.so".to_string()),
        "not a cycle: {needed:?}"
    );
}
