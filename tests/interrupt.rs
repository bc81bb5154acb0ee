//! Ctrl-C in the middle of a run leaves nothing behind, and a rerun works.

mod util;

use std::process::{Command, Stdio};
use std::time::Duration;

use util::*;

#[test]
fn sigint_mid_run_leaves_no_target_no_spool_and_a_rerun_succeeds() {
    let fat = fixture("demo");
    let d = tempfile::tempdir().unwrap();
    let spool = d.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let target = format!("oci:{}:slim", d.path().join("out").display());
    let args = [
        &fat,
        "-o",
        &target,
        "--keep",
        "/etc/**",
        "--tmp-dir",
        spool.to_str().unwrap(),
        // Through `docker save`: read in place, the run is over in a blink.
        "--no-in-place",
    ];

    let child = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // docker save of the ~480 MB demo image alone takes seconds: we are mid-run.
    std::thread::sleep(Duration::from_millis(1000));
    sh(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!d.path().join("out").exists());
    assert_eq!(leftovers(d.path()), Vec::<String>::new());
    assert_eq!(
        std::fs::read_dir(&spool).unwrap().count(),
        0,
        "spool not cleaned up"
    );

    slimify_ok(&args);
    skopeo_inspect(&target);
}

/// Wait until `dir` holds an entry whose name starts with `prefix` (or time out).
fn wait_for_entry(dir: &std::path::Path, prefix: &str) -> bool {
    for _ in 0..3000 {
        let found = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
            })
            .unwrap_or(false);
        if found {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn kill_9_mid_run_leaves_no_target_and_the_rerun_removes_the_leftovers() {
    let fat = fixture("demo");
    let d = tempfile::tempdir().unwrap();
    let spool = d.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let out = d.path().join("out.tar");
    let target = format!("oci-archive:{}:slim", out.display());
    let args = [
        &fat,
        "-o",
        &target,
        "--keep",
        "/**",
        "--quiet",
        "--tmp-dir",
        spool.to_str().unwrap(),
    ];
    // Once while reading (the spool exists), once while writing the target
    // (its temporary file exists beside it).
    for (dir, prefix) in [
        (&spool, "slimify-"),
        (&d.path().to_path_buf(), ".slimify-tmp-"),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_slimify"))
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            wait_for_entry(dir, prefix),
            "no {prefix}* appeared in {}",
            dir.display()
        );
        child.kill().unwrap(); // SIGKILL: nothing can clean up
        child.wait().unwrap();
        assert!(!out.exists(), "a partial target exists");
    }
    assert!(!leftovers(d.path()).is_empty() || std::fs::read_dir(&spool).unwrap().count() > 0);

    slimify_ok(&args);
    skopeo_inspect(&target);
    assert_eq!(leftovers(d.path()), Vec::<String>::new());
    assert_eq!(
        std::fs::read_dir(&spool).unwrap().count(),
        0,
        "stale spools remain"
    );
}

#[test]
fn concurrent_runs_writing_one_layout_keep_every_tag() {
    let d = tempfile::tempdir().unwrap();
    let src = util::oci::Layout::new(
        &d.path().join("src"),
        &util::oci::sample_tar(),
        util::oci::GZIP,
    );
    let layout = d.path().join("shared");
    let tags = ["a", "b", "c", "d"];
    let children: Vec<_> = tags
        .iter()
        .map(|t| {
            Command::new(env!("CARGO_BIN_EXE_slimify"))
                .args([
                    &src.reference(),
                    "-o",
                    &format!("oci:{}:{t}", layout.display()),
                    "--keep",
                    "/**",
                ])
                .stdin(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for t in tags {
        skopeo_inspect(&format!("oci:{}:{t}", layout.display()));
    }
    assert_eq!(leftovers(d.path()), Vec::<String>::new());
}
