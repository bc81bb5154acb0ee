//! Broken input gets one clear error line and a non-zero exit; nothing is
//! written and the source is left exactly as it was.

mod util;

use std::path::Path;

use util::oci::{gzip, sample_tar, snapshot, Layout, GZIP, TAR};
use util::*;

/// Run slimify on `source` expecting failure; check that neither the target
/// nor any temporary leftover exists and that `source_dir` is unchanged.
fn fails_cleanly(source: &str, source_dir: &Path, out_dir: &Path) -> String {
    let before = snapshot(source_dir);
    let target = out_dir.join("slim");
    let err = slimify_err(&[
        source,
        "-o",
        &format!("oci:{}:x", target.display()),
        "--keep",
        "/**",
    ]);
    assert!(!target.exists(), "a target was written despite: {err}");
    assert_eq!(
        leftovers(out_dir),
        Vec::<String>::new(),
        "temporary files left: {err}"
    );
    assert_eq!(snapshot(source_dir), before, "the source changed");
    assert!(
        !err.contains("hunter2"),
        "an Env value leaked into the error: {err}"
    );
    err
}

#[test]
fn a_valid_hand_made_layout_works_so_the_failures_below_are_real() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let out = d.path().join("out");
    slimify_ok(&[
        &l.reference(),
        "-o",
        &format!("oci:{}:x", out.display()),
        "--keep",
        "/**",
    ]);
    skopeo_inspect(&format!("oci:{}:x", out.display()));
}

#[test]
fn a_layer_whose_content_does_not_match_its_diff_id() {
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), TAR);
    let mut tar = sample_tar();
    let pos = tar.windows(2).position(|w| w == b"hi").unwrap();
    tar[pos] = b'H'; // same size, same tar structure, other bytes
    l.replace_layer(&tar);
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(
        err.contains("digest mismatch") && err.contains("diff_id"),
        "{err}"
    );
}

#[test]
fn a_blob_whose_bytes_do_not_match_its_digest() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let path = l.blob_path(&l.config_digest());
    let mut bytes = std::fs::read(&path).unwrap();
    let i = bytes.iter().position(|&b| b == b'a').unwrap();
    bytes[i] = b'b';
    std::fs::write(&path, bytes).unwrap();
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(
        err.contains("digest mismatch") && err.contains(&l.config_digest().to_string()),
        "{err}"
    );
}

#[test]
fn a_truncated_gzip_layer() {
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let gz = gzip(&sample_tar());
    l.replace_layer(&gz[..gz.len() / 2]);
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(
        err.contains(&l.layer_digest().to_string()),
        "the error must name the layer: {err}"
    );
}

#[test]
fn a_blob_shorter_than_its_descriptor() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let path = l.blob_path(&l.layer_digest());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(err.contains("bytes"), "{err}");
}

#[test]
fn an_unsupported_layer_media_type() {
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    l.manifest["layers"][0]["mediaType"] = "application/vnd.example.squashfs".into();
    l.save_manifest();
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(
        err.contains("unsupported media type") && err.contains("squashfs"),
        "{err}"
    );
}

#[test]
fn a_manifest_naming_a_missing_blob() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    std::fs::remove_file(l.blob_path(&l.layer_digest())).unwrap();
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(err.contains(l.layer_digest().hex()), "{err}");
}

#[test]
fn invalid_json_and_unknown_tags() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let err = fails_cleanly(&format!("oci:{}:nope", l.dir.display()), &l.dir, d.path());
    assert!(err.contains("nope") && err.contains("t"), "{err}");
    std::fs::write(l.dir.join("index.json"), b"{not json").unwrap();
    let err = fails_cleanly(&l.reference(), &l.dir, d.path());
    assert!(err.contains("index.json"), "{err}");
}

#[test]
fn a_path_that_is_not_an_image() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("empty");
    std::fs::create_dir(&src).unwrap();
    let err = fails_cleanly(&format!("oci:{}", src.display()), &src, d.path());
    assert!(err.contains("not an OCI image layout"), "{err}");
    std::fs::write(src.join("junk.tar"), b"this is not a tar archive at all").unwrap();
    for t in ["docker-archive", "oci-archive"] {
        let err = fails_cleanly(
            &format!("{t}:{}", src.join("junk.tar").display()),
            &src,
            d.path(),
        );
        assert!(err.contains("junk.tar"), "{err}");
    }
}

#[test]
fn unknown_transports_and_bad_flags() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let err = fails_cleanly("bogus:some/thing:x", &src, d.path());
    assert!(
        err.contains("unknown transport") && err.contains("bogus"),
        "{err}"
    );
    let err = fails_cleanly("ostree:/repo/app:1", &src, d.path());
    assert!(err.contains("not supported"), "{err}");
    let l = Layout::new(&src, &sample_tar(), GZIP);
    let err = slimify_err(&[
        &l.reference(),
        "-o",
        "oci:/tmp/never",
        "--keep",
        "/{unclosed",
    ]);
    assert!(err.contains("--keep"), "{err}");
    let err = slimify_err(&[
        &l.reference(),
        "-o",
        &format!("oci:{}:x", d.path().join("o").display()),
        "--keep",
        "/no/such/path",
    ]);
    assert!(err.contains("nothing to keep"), "{err}");
    assert!(!d.path().join("o").exists());
}

#[test]
fn an_existing_directory_that_is_not_a_layout_is_not_overwritten() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let target = d.path().join("precious");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("thesis.txt"), b"do not lose me").unwrap();
    let err = slimify_err(&[
        &l.reference(),
        "-o",
        &format!("oci:{}", target.display()),
        "--keep",
        "/**",
    ]);
    assert!(err.contains("not an OCI image layout"), "{err}");
    assert_eq!(
        std::fs::read(target.join("thesis.txt")).unwrap(),
        b"do not lose me"
    );
}

#[test]
fn a_missing_image_and_an_unreachable_daemon() {
    require_docker();
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let err = fails_cleanly(
        "docker-daemon:slimify-test/does-not-exist:never",
        &src,
        d.path(),
    );
    assert!(err.to_lowercase().contains("no such image"), "{err}");

    let target = d.path().join("out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([
            "some/app:1",
            "-o",
            &format!("oci:{}", target.display()),
            "--keep",
            "/**",
        ])
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-daemon.sock", d.path().display()),
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("docker") && err.contains("connect"), "{err}");
    assert_error_form(&err);
    assert!(!target.exists());
}
