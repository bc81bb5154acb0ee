//! `containerd:` images (a private containerd, `ctr`): read straight from
//! the content store, or through `ctr images export`, and written through
//! `ctr images import`.

mod util;

use std::path::Path;
use std::process::Command;

use util::containerd::Containerd;
use util::registry::Registry;
use util::*;

const NS: &str = "slimify-test";

/// Run slimify with `env`; returns (success, stderr).
fn slimify_env(args: &[&str], env: &[(String, String)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(dir: &Path, name: &str, args: &[&str], env: &[(String, String)]) -> serde_json::Value {
    let path = dir.join(format!("{name}.json"));
    let target = format!("oci:{}:x", dir.join(name).display());
    let mut all = args.to_vec();
    all.extend(["-o", &target, "--quiet", "--report", path.to_str().unwrap()]);
    let (ok, stderr) = slimify_env(&all, env);
    assert!(ok, "{all:?}: {stderr}");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn pulled_and_imported_images_are_read_from_the_content_store() {
    let ctd = Containerd::start();
    let env = ctd.env(NS);
    let d = tempfile::tempdir().unwrap();
    let fat = fixture("c-data");
    let engine = report(d.path(), "engine", &[&format!("docker-daemon:{fat}")], &[]);

    // Imported from `docker save`: uncompressed layers in the content store.
    let tar = d.path().join("fat.tar");
    docker(&["save", "-o", tar.to_str().unwrap(), &fat]);
    ctd.ctr(NS, &["images", "import", tar.to_str().unwrap()]);
    let source = format!("containerd:{fat}");
    let fast = report(d.path(), "imported", &[&source], &env);
    assert_eq!(fast["read"], "in place from the containerd content store");
    assert_eq!(fast["manifest_digest"], engine["manifest_digest"]);
    let exported = report(d.path(), "exported", &[&source, "--no-in-place"], &env);
    assert_eq!(exported["read"], "through `ctr images export`");
    assert_eq!(exported["manifest_digest"], engine["manifest_digest"]);

    // Pulled from a registry: gzip layers, read as they lie.
    let reg = Registry::plain();
    reg.push_from_engine(&fat, "pulled");
    let pulled = format!("{}/pulled:latest", reg.host);
    ctd.ctr(NS, &["images", "pull", "--plain-http", &pulled]);
    let from_pull = report(d.path(), "pulled", &[&format!("containerd:{pulled}")], &env);
    assert_eq!(
        from_pull["read"],
        "in place from the containerd content store"
    );
    assert_eq!(from_pull["layer_digest"], engine["layer_digest"]);
}

#[test]
fn a_slim_image_imported_into_containerd_runs_like_the_fat_one() {
    let ctd = Containerd::start();
    let env = ctd.env(NS);
    let fat = fixture("layer-edits");
    let (ok, stderr) = slimify_env(
        &[
            &format!("docker-daemon:{fat}"),
            "-o",
            "containerd:slimify-test/slim:1",
            "--include",
            "/app/**",
        ],
        &env,
    );
    assert!(ok, "{stderr}");
    let d = tempfile::tempdir().unwrap();
    let tar = d.path().join("slim.tar");
    ctd.ctr(
        NS,
        &[
            "images",
            "export",
            tar.to_str().unwrap(),
            "docker.io/slimify-test/slim:1",
        ],
    );
    let engine = TempTag::new("from-containerd");
    sh(Command::new("skopeo").args([
        "copy",
        "--quiet",
        &format!("oci-archive:{}", tar.display()),
        &format!("docker-daemon:{}", engine.0),
    ]));
    let (want, code) = run_image(&fat, &[]);
    assert_eq!(code, 0, "{want}");
    let (got, code) = run_image(&engine.0, &[]);
    assert_eq!(code, 0, "{got}");
    assert_same_lines("layer-edits, fat vs slim through containerd", &want, &got);

    let (ok, stderr) = slimify_env(&["containerd:never/built:1", "-o", "oci:/tmp/never"], &env);
    assert!(!ok);
    assert!(
        stderr.contains("no such image in containerd: docker.io/never/built:1"),
        "{stderr}"
    );
}

/// The Docker engine with the containerd image store (Docker 24+, the
/// containerd snapshotter) answers `docker image inspect` with the manifest
/// digest as ID and a snapshotter as driver. That engine cannot run here
/// (Debian's is 20.10), so a CLI wrapper answers as it would, and the
/// image's blobs are in a containerd's `moby` namespace, where that engine
/// keeps them: the image is read from the content store, not saved.
#[test]
fn a_docker_engine_on_containerds_image_store_is_read_from_the_content_store() {
    let ctd = Containerd::start();
    let d = tempfile::tempdir().unwrap();
    let fat = fixture("c-data");
    let tar = d.path().join("fat.tar");
    docker(&["save", "-o", tar.to_str().unwrap(), &fat]);
    ctd.ctr("moby", &["images", "import", tar.to_str().unwrap()]);
    let listed = ctd.ctr("moby", &["images", "ls"]);
    let manifest = listed
        .lines()
        .find(|l| l.contains("c-data"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_string();
    let cli = d.path().join("docker");
    std::fs::write(
        &cli,
        format!(
            "#!/bin/sh\nif [ \"$1\" = image ] && [ \"$2\" = inspect ]; then\n  echo '{manifest} {{\"Data\":null,\"Name\":\"overlayfs\"}}'\n  exit 0\nfi\nexec docker \"$@\"\n"
        ),
    )
    .unwrap();
    sh(Command::new("chmod").arg("+x").arg(&cli));
    let mut env = ctd.env("moby");
    env.push(("SLIMIFY_DOCKER".into(), cli.display().to_string()));
    let engine = report(d.path(), "real", &[&format!("docker-daemon:{fat}")], &[]);
    let via = report(
        d.path(),
        "snapshotter",
        &[&format!("docker-daemon:{fat}")],
        &env,
    );
    assert_eq!(via["read"], "in place from the containerd content store");
    assert_eq!(via["manifest_digest"], engine["manifest_digest"]);
}
