//! What a run checks before it reads anything: a target that is the source
//! is refused (the source is never overwritten), and a target or report that
//! cannot be written fails at once instead of after all the work. And
//! configs with empty command lines are handled, not a panic.

mod util;

use std::time::Instant;

use serde_json::json;
use util::oci::{sample_tar, snapshot, Layout, GZIP};
use util::*;

#[test]
fn a_target_that_is_the_source_is_refused_in_every_transport() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("lay"), &sample_tar(), GZIP);
    let before = snapshot(&l.dir);
    let err = slimify_err(&[&l.reference(), "-o", &l.reference(), "--keep", "/**"]);
    assert!(err.contains("is the source image"), "{err}");
    assert!(err.contains("--force-overwrite-source"), "{err}");
    assert_eq!(snapshot(&l.dir), before, "the layout changed");
    // Another tag of the same layout is another image: fine.
    let other = format!("oci:{}:slim", l.dir.display());
    slimify_ok(&[&l.reference(), "-o", &other, "--keep", "/**"]);

    // An archive, whatever the transport names it.
    let tar = d.path().join("a.tar");
    let archive = format!("oci-archive:{}:t", tar.display());
    slimify_ok(&[&l.reference(), "-o", &archive, "--keep", "/**"]);
    let bytes = std::fs::read(&tar).unwrap();
    for target in [archive.clone(), format!("docker-archive:{}", tar.display())] {
        let err = slimify_err(&[&archive, "-o", &target, "--keep", "/bin/**"]);
        assert!(err.contains("is the source image"), "{err}");
        assert_eq!(std::fs::read(&tar).unwrap(), bytes, "the archive changed");
    }
    // --force-overwrite-source does what it says.
    slimify_ok(&[
        &archive,
        "-o",
        &archive,
        "--keep",
        "/bin/**",
        "--force-overwrite-source",
    ]);
    assert_ne!(std::fs::read(&tar).unwrap(), bytes);
}

#[test]
fn an_engine_tag_is_not_replaced_by_its_slim_image() {
    let fat = fixture("c-app");
    let tag = TempTag::new("same-source");
    docker(&["tag", &fat, &tag.0]);
    let id = docker(&["image", "inspect", "-f", "{{.Id}}", &tag.0]);
    for source in [tag.0.clone(), format!("docker-daemon:{}", tag.0)] {
        let err = slimify_err(&[&source, "-o", &tag.0]);
        assert!(err.contains("is the source image"), "{err}");
    }
    assert_eq!(docker(&["image", "inspect", "-f", "{{.Id}}", &tag.0]), id);
}

/// Run slimify expecting an error; its stderr and how long it took.
fn fails_in(args: &[&str]) -> (String, f64) {
    let started = Instant::now();
    let err = slimify_err(args);
    (err, started.elapsed().as_secs_f64())
}

#[test]
fn unwritable_targets_fail_before_the_source_is_read() {
    // A free loopback port: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = format!("docker://127.0.0.1:{port}/team/app:slim");
    let d = tempfile::tempdir().unwrap();
    let nowhere = d.path().join("missing-dir");
    let archive = format!("docker-archive:{}", nowhere.join("slim.tar").display());
    let layout = format!("oci:{}:slim", nowhere.join("deeper/lay").display());
    let report = nowhere.join("r.json");
    let ok_target = format!("oci:{}:slim", d.path().join("out").display());

    // Proof of order: a source that cannot be read at all. Each error is
    // about the target (or report), so it was checked first.
    let missing_source = format!("oci:{}:t", d.path().join("no-such-layout").display());
    for (target, extra, expect) in [
        (&registry, None, "127.0.0.1"),
        (&archive, None, "cannot write to"),
        (&layout, None, "cannot write to"),
        (&ok_target, Some(&report), "--report"),
    ] {
        let mut args = vec![missing_source.as_str(), "-o", target.as_str()];
        if let Some(r) = extra {
            args.extend(["--report", r.to_str().unwrap()]);
        }
        let (err, _) = fails_in(&args);
        assert!(err.contains(expect), "{target}: {err}");
        assert!(
            !err.contains("no-such-layout"),
            "the source was read first: {err}"
        );
    }

    // On a real image that takes seconds to read, the same errors come at
    // once (the figures are printed, not asserted: timing is the machine's).
    let fat = fixture("java-app");
    let started = Instant::now();
    let dry = slimify(&[&fat, "-o", &ok_target, "--dry-run"]);
    assert!(dry.status.success());
    let reading = started.elapsed().as_secs_f64();
    for (target, extra) in [
        (&registry, None),
        (&archive, None),
        (&ok_target, Some(&report)),
    ] {
        let mut args = vec![fat.as_str(), "-o", target.as_str()];
        if let Some(r) = extra {
            args.extend(["--report", r.to_str().unwrap()]);
        }
        let (_, secs) = fails_in(&args);
        println!("{target}: failed after {secs:.2} s; reading and tracing the image takes {reading:.2} s");
    }
    assert!(!nowhere.exists());
}

#[test]
fn empty_command_lines_are_handled_without_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    // A healthcheck with no command, beside a real entrypoint.
    l.config["config"]["Healthcheck"] = json!({"Test": ["CMD"]});
    l.replace_config();
    let report = d.path().join("r.json");
    let out = d.path().join("out");
    // (/bin/app is a script for a /bin/sh the image lacks: kept as it is.)
    slimify_ok(&[
        &l.reference(),
        "-o",
        &format!("oci:{}:s", out.display()),
        "--report",
        report.to_str().unwrap(),
        "--include",
        "/bin/app",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(kept_paths(&r).contains(&"/bin/app"), "{r}");

    // Nothing to run at all: an error that says what to do, not a panic.
    for test in [json!(["CMD"]), json!(["CMD-SHELL"]), json!(["NONE"])] {
        l.config["config"] = json!({"Entrypoint": [], "Cmd": [], "Healthcheck": {"Test": test}});
        l.replace_config();
        let err = slimify_err(&[&l.reference(), "-o", &format!("oci:{}:s", out.display())]);
        assert!(
            err.contains("nothing to trace") && err.contains("hint:"),
            "{err}"
        );
    }
}
