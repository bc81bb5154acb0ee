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
