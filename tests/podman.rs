//! `containers-storage:` (podman's and Buildah's image store, here Debian's
//! podman 4.3, rootful) as a source, read in place or through `podman save`,
//! and as a target, written through `podman load`.

mod util;

use std::path::Path;
use std::process::Command;

use util::*;

fn podman(args: &[&str]) -> String {
    sh(Command::new("podman").args(args))
}

/// The fixture `name` in podman's store, copied there from the engine once
/// (its image ID, the config digest, is the engine's).
fn podman_fixture(name: &str) -> String {
    let tag = fixture(name);
    let exists = Command::new("podman")
        .args(["image", "exists", &tag])
        .status()
        .unwrap()
        .success();
    if !exists {
        let d = tempfile::tempdir().unwrap();
        let tar = d.path().join("fat.tar");
        docker(&["save", "-o", tar.to_str().unwrap(), &tag]);
        podman(&["load", "-q", "-i", tar.to_str().unwrap()]);
    }
    tag
}

/// A podman tag removed on drop.
struct PodmanTag(String);

impl Drop for PodmanTag {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rmi", "-f", &self.0]).output();
    }
}

fn report(dir: &Path, name: &str, args: &[&str]) -> serde_json::Value {
    let path = dir.join(format!("{name}.json"));
    let mut all = args.to_vec();
    all.extend(["--quiet", "--report", path.to_str().unwrap()]);
    slimify_ok(&all);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn podman_images_read_in_place_give_the_engines_slim_image() {
    let d = tempfile::tempdir().unwrap();
    for name in ["c-data", "layer-edits", "go-static", "py-app"] {
        let tag = podman_fixture(name);
        let out = |which: &str| {
            format!(
                "oci:{}:x",
                d.path().join(format!("{name}-{which}")).display()
            )
        };
        let storage = format!("containers-storage:{tag}");
        let fast = report(
            d.path(),
            &format!("{name}-fast"),
            &[&storage, "-o", &out("fast")],
        );
        let saved = report(
            d.path(),
            &format!("{name}-saved"),
            &[&storage, "-o", &out("saved"), "--no-in-place"],
        );
        let engine = report(
            d.path(),
            &format!("{name}-engine"),
            &[&format!("docker-daemon:{tag}"), "-o", &out("engine")],
        );
        assert_eq!(
            fast["read"], "in place from the containers-storage overlay store",
            "{name}"
        );
        assert_eq!(saved["read"], "through `podman save`", "{name}");
        for other in [&saved, &engine] {
            assert_eq!(fast["manifest_digest"], other["manifest_digest"], "{name}");
            assert_eq!(fast["kept"], other["kept"], "{name}");
        }
    }
}

#[test]
fn a_slim_image_written_to_containers_storage_runs_like_the_fat_one() {
    let fat = podman_fixture("layer-edits");
    let slim = PodmanTag(format!("slimify-test/podman-slim:{}", std::process::id()));
    // The store named explicitly, as skopeo writes it: podman's defaults.
    let store = "[overlay@/var/lib/containers/storage+/run/containers/storage]";
    slimify_ok(&[
        &format!("containers-storage:{fat}"),
        "-o",
        &format!("containers-storage:{store}{}", slim.0),
        "--include",
        "/app/**",
        "--quiet",
    ]);
    let listed = podman(&["image", "inspect", "--format", "{{.Size}}", &slim.0]);
    assert!(listed.trim().parse::<u64>().unwrap() > 0, "{listed}");
    // This VM refuses podman's containers the rlimits they ask for, so the
    // slim image is run by the Docker engine, copied there by skopeo.
    let engine = TempTag::new("from-podman");
    sh(Command::new("skopeo").args([
        "copy",
        "--quiet",
        &format!("containers-storage:localhost/{}", slim.0),
        &format!("docker-daemon:{}", engine.0),
    ]));
    let (want, code) = run_image(&fat, &[]);
    assert_eq!(code, 0, "{want}");
    let (got, code) = run_image(&engine.0, &[]);
    assert_eq!(code, 0, "{got}");
    assert_same_lines("layer-edits, fat vs slim through podman", &want, &got);
}

#[test]
fn a_missing_podman_image_and_a_target_that_is_the_source_are_refused() {
    let err = slimify_err(&[
        "containers-storage:slimify-test/never-built:1",
        "-o",
        "oci:/tmp/never",
    ]);
    assert!(
        err.contains("no such image in containers-storage: slimify-test/never-built:1"),
        "{err}"
    );
    assert!(err.contains("podman images"), "{err}");
    let fat = podman_fixture("c-data");
    let err = slimify_err(&[
        &format!("containers-storage:{fat}"),
        "-o",
        &format!("containers-storage:localhost/{fat}"),
    ]);
    assert!(err.contains("source"), "{err}");
}
