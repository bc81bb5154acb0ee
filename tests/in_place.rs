//! Engine images read in place from the engine's overlay2 layer store must
//! give the very image the `docker save` path gives: the same layer and
//! config digests, hence the same manifest digest, for every fixture.

mod util;

use std::path::Path;
use std::process::Command;

use util::*;

/// Slim `image` into an OCI layout under `dir` and return the report.
fn slim_to_layout(dir: &Path, name: &str, image: &str, extra: &[&str]) -> serde_json::Value {
    let report = dir.join(format!("{name}.json"));
    let target = format!("oci:{}:x", dir.join(name).display());
    let mut args = vec![
        image,
        "-o",
        &target,
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    slimify_ok(&args);
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("fixtures"))
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.path()
                .join("Dockerfile")
                .is_file()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_fixture_read_in_place_gives_the_image_docker_save_gives() {
    let names = fixture_names();
    assert!(names.len() >= 20, "fixtures: {names:?}");
    assert!(names.iter().any(|n| n == "layer-edits"));
    // Build (or find) every fixture first; then compare two at a time.
    let images: Vec<(String, String)> = names.iter().map(|n| (n.clone(), fixture(n))).collect();
    let d = tempfile::tempdir().unwrap();
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = images
            .chunks(images.len().div_ceil(2))
            .map(|chunk| {
                let dir = d.path();
                s.spawn(move || {
                    let mut failures = Vec::new();
                    for (name, tag) in chunk {
                        let image = format!("docker-daemon:{tag}");
                        let fast = slim_to_layout(dir, &format!("{name}-in-place"), &image, &[]);
                        let saved = slim_to_layout(
                            dir,
                            &format!("{name}-saved"),
                            &image,
                            &["--no-in-place"],
                        );
                        assert_eq!(
                            fast["read"], "in place from the engine's overlay2 store",
                            "{name}"
                        );
                        assert_eq!(saved["read"], "through `docker save`", "{name}");
                        for key in ["layer_digest", "manifest_digest"] {
                            if fast[key] != saved[key] {
                                failures.push(format!(
                                    "{name}: {key} {} in place, {} saved",
                                    fast[key], saved[key]
                                ));
                            }
                        }
                        if fast["kept"] != saved["kept"] || fast["before"] != saved["before"] {
                            failures.push(format!("{name}: the reports differ"));
                        }
                        for which in ["in-place", "saved"] {
                            let _ = std::fs::remove_dir_all(dir.join(format!("{name}-{which}")));
                        }
                    }
                    failures
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Whiteouts, an opaque directory, hard links across layers, setuid, a
/// file capability and PAX-long names behave the same in the slim image
/// read in place as in the fat one.
#[test]
fn layer_edits_read_in_place_behave_as_in_the_fat_image() {
    let fat = fixture("layer-edits");
    let slim = TempTag::new("layer-edits-in-place");
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("r.json");
    slimify_ok(&[
        &format!("docker-daemon:{fat}"),
        "-o",
        &format!("docker-daemon:{}", slim.0),
        "--include",
        "/app/**",
        "--report",
        report.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(report["read"], "in place from the engine's overlay2 store");
    let (want, code) = run_image(&fat, &[]);
    assert_eq!(code, 0, "{want}");
    assert!(
        want.contains("data/old/b.txt") && !want.contains("deleted.txt"),
        "{want}"
    );
    assert!(
        !want.contains("a.txt") && want.contains("data/k-link 644 2 5: kept"),
        "{want}"
    );
    assert!(
        want.contains("suid-true 4755") && want.contains("cap_net_bind_service=ep"),
        "{want}"
    );
    let (got, code) = run_image(&slim.0, &[]);
    assert_eq!(code, 0, "{got}");
    assert_same_lines("layer-edits, fat vs slim read in place", &want, &got);
}

/// A docker CLI wrapper that rewrites what `docker image inspect` says of
/// the storage driver, as an engine with another driver would answer.
fn driver_says(dir: &Path, driver: &str) -> String {
    let path = dir.join("docker");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ \"$1\" = image ] && [ \"$2\" = inspect ]; then\n  docker \"$@\" | sed 's/\"Name\":\"overlay2\"/\"Name\":\"{driver}\"/'\n  exit 0\nfi\nexec docker \"$@\"\n"
        ),
    )
    .unwrap();
    sh(Command::new("chmod").arg("+x").arg(&path));
    path.display().to_string()
}

#[test]
fn another_driver_falls_back_to_docker_save_saying_why_in_one_line() {
    let fat = format!("docker-daemon:{}", fixture("c-data"));
    let d = tempfile::tempdir().unwrap();
    let cli = driver_says(d.path(), "vfs");
    let report = d.path().join("r.json");
    let target = format!("oci:{}:x", d.path().join("out").display());
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([&fat, "-o", &target, "--report", report.to_str().unwrap()])
        .env("SLIMIFY_DOCKER", &cli)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let info: Vec<&str> = stderr.lines().filter(|l| l.starts_with("info: ")).collect();
    assert_eq!(
        info,
        [format!(
            "info: reading {fat} through `docker save`: the engine keeps images with the \"vfs\" storage driver; reading in place needs overlay2"
        )],
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(report["read"]
        .as_str()
        .unwrap()
        .contains("\"vfs\" storage driver"));
    // The same image as in place; and --quiet says nothing.
    let direct = slim_to_layout(d.path(), "direct", &fat, &[]);
    assert_eq!(report["manifest_digest"], direct["manifest_digest"]);
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([&fat, "-o", &target, "-q"])
        .env("SLIMIFY_DOCKER", &cli)
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
}

#[test]
fn an_engine_elsewhere_is_read_through_docker_save() {
    let fat = format!("docker-daemon:{}", fixture("c-data"));
    let d = tempfile::tempdir().unwrap();
    let target = format!("oci:{}:x", d.path().join("out").display());
    // DOCKER_HOST names an engine on another machine; the CLI wrapper still
    // reaches the local one, so the run can succeed, through `docker save`.
    let cli = d.path().join("docker");
    std::fs::write(
        &cli,
        "#!/bin/sh\nDOCKER_HOST=unix:///var/run/docker.sock exec docker \"$@\"\n",
    )
    .unwrap();
    sh(Command::new("chmod").arg("+x").arg(&cli));
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([&fat, "-o", &target])
        .env("SLIMIFY_DOCKER", &cli)
        .env("DOCKER_HOST", "ssh://builder@build-host")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "through `docker save`: the engine is not on this machine (ssh://builder@build-host)"
        ),
        "{stderr}"
    );
}

/// An image removed between `docker image inspect` and reading its store is
/// an error, never another image.
#[test]
fn an_image_deleted_while_it_is_opened_is_an_error() {
    let base = fixture("c-data");
    let doomed = TempTag::new("in-place-doomed");
    let build = format!(
        "FROM {base}\nLABEL org.slimify.test.doomed=\"{}\"\n",
        std::process::id()
    );
    let mut child = Command::new("docker")
        .args(["build", "-q", "-t", &doomed.0, "-"])
        .env("DOCKER_BUILDKIT", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(build.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let d = tempfile::tempdir().unwrap();
    let cli = d.path().join("docker");
    std::fs::write(
        &cli,
        "#!/bin/sh\nif [ \"$1\" = image ] && [ \"$2\" = inspect ]; then\n  docker \"$@\" && docker rmi -f \"$5\" >/dev/null\n  exit 0\nfi\nexec docker \"$@\"\n",
    )
    .unwrap();
    sh(Command::new("chmod").arg("+x").arg(&cli));
    let target = format!("oci:{}:x", d.path().join("out").display());
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([&format!("docker-daemon:{}", doomed.0), "-o", &target])
        .env("SLIMIFY_DOCKER", &cli)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or("");
    assert!(
        error.contains(&doomed.0) || error.contains("No such image"),
        "{stderr}"
    );
    assert!(!d.path().join("out").join("index.json").exists());
}

/// Not root (but allowed to use the engine, in the docker group): the
/// engine's store is root's, so the image is saved, saying why.
#[test]
fn an_unprivileged_run_reads_through_docker_save_saying_why() {
    let fat = format!("docker-daemon:{}", fixture("c-data"));
    let gid = sh(Command::new("getent").args(["group", "docker"]));
    let gid = gid
        .trim()
        .split(':')
        .nth(2)
        .expect("a docker group")
        .to_string();
    let d = tempfile::tempdir().unwrap();
    sh(Command::new("chmod").arg("0777").arg(d.path()));
    let as_root = slim_to_layout(d.path(), "root", &fat, &[]);
    let target = format!("oci:{}:x", d.path().join("nobody").display());
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", &format!("--groups={gid}")])
        .arg(env!("CARGO_BIN_EXE_slimify"))
        .args([&fat, "-o", &target, "--tmp-dir", d.path().to_str().unwrap()])
        .env("HOME", d.path())
        .env("DOCKER_CONFIG", d.path().join(".docker"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "info: reading {fat} through `docker save`: reading the engine's store in place needs root"
        )),
        "{stderr}"
    );
    let index = std::fs::read_to_string(d.path().join("nobody/index.json")).unwrap();
    let digest = as_root["manifest_digest"].as_str().unwrap();
    assert!(index.contains(digest), "{index} vs {digest}");
}
