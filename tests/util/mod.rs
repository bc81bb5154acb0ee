//! A small harness so each integration test reads like a usage example:
//! build (or reuse) a fixture image, run slimify, run containers, compare.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;

pub mod containerd;
pub mod oci;
pub mod registry;
pub mod serve;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run a command, panic with its stderr when it fails, return stdout.
pub fn sh(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn docker(args: &[&str]) -> String {
    sh(Command::new("docker").args(args))
}

static DOCKER_UP: Once = Once::new();

/// The tests need a running engine; scripts/setup.sh (called by scripts/test.sh) starts one.
pub fn require_docker() {
    DOCKER_UP.call_once(|| {
        let ok = Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "no Docker engine: run `bash scripts/setup.sh` (scripts/test.sh does) first"
        );
    });
}

/// The tag of a fixture image, built from fixtures/NAME on first use and cached by recipe.
pub fn fixture(name: &str) -> String {
    require_docker();
    let tag = sh(Command::new("bash")
        .arg(repo().join("scripts/fixture.sh"))
        .arg(name));
    tag.trim().to_string()
}

/// Run the slimify binary built for these tests.
pub fn slimify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run slimify")
}

/// Run slimify and require success; returns its stderr (the summary).
pub fn slimify_ok(args: &[&str]) -> String {
    let out = slimify(args);
    assert!(
        out.status.success(),
        "slimify {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Run slimify expecting failure; returns its stderr, checked to be an
/// error in slimify's form (see [`assert_error_form`]).
pub fn slimify_err(args: &[&str]) -> String {
    let out = slimify(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "slimify {args:?} unexpectedly succeeded: {stderr}"
    );
    assert_error_form(&stderr);
    stderr
}

/// An error as slimify prints it: `error: ...` on the first line, then
/// only `caused by: ...` lines, then at most one `hint: ...`; a few short
/// lines, never file contents. Before it, the `progress: ` lines of the
/// phases that finished (stderr is no terminal here) are skipped.
pub fn assert_error_form(stderr: &str) {
    let lines: Vec<&str> = stderr
        .trim_end()
        .lines()
        .skip_while(|l| l.starts_with("progress: "))
        .collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("error: ")),
        "not an error: {stderr}"
    );
    for (i, l) in lines.iter().enumerate().skip(1) {
        let hint = l.starts_with("hint: ");
        assert!(
            l.starts_with("caused by: ") || (hint && i == lines.len() - 1),
            "line {} is neither a cause nor the last line's hint: {stderr}",
            i + 1
        );
    }
    assert!(lines.len() <= 8, "too many lines: {stderr}");
    assert!(
        lines
            .iter()
            .all(|l| l.len() <= 400 && !l.contains('\u{fffd}')),
        "a line too long or not text: {stderr}"
    );
}

/// A unique image tag for this test process, removed from the engine on drop.
pub struct TempTag(pub String);

impl TempTag {
    pub fn new(what: &str) -> Self {
        TempTag(format!("slimify-test/{what}:{}", std::process::id()))
    }
}

impl Drop for TempTag {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rmi", "-f", &self.0])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Run an image with its own entrypoint and command, no network; returns stdout+exit code.
pub fn run_image(image: &str, extra: &[&str]) -> (String, i32) {
    let out = Command::new("docker")
        .args(["run", "--rm", "--network", "none", image])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("docker run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

/// The canonical listing of an image's whole filesystem, as seen by a running
/// container (fixtures/fsdump.py): paths, types, modes, owners, content hashes,
/// link targets, devices, mtimes, xattrs and hard-link groups.
pub fn fsdump(image: &str) -> String {
    let script = repo().join("fixtures/fsdump.py");
    docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        "0",
        "-v",
        &format!("{}:/fsdump.py:ro", script.display()),
        "--entrypoint",
        "python3",
        image,
        "/fsdump.py",
    ])
}

/// The runtime settings an image carries, for comparing fat and slim.
pub fn runtime_config(image: &str) -> serde_json::Value {
    let raw = docker(&["image", "inspect", "--format", "{{json .Config}}", image]);
    let mut v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    // Image is the builder's parent-image id: build metadata, not runtime behaviour.
    v.as_object_mut().unwrap().remove("Image");
    v
}

/// Assert two multi-line texts are equal, showing the first differing lines.
pub fn assert_same_lines(what: &str, a: &str, b: &str) {
    if a == b {
        return;
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let only_a: Vec<&&str> = la.iter().filter(|l| !lb.contains(l)).take(15).collect();
    let only_b: Vec<&&str> = lb.iter().filter(|l| !la.contains(l)).take(15).collect();
    panic!(
        "{what} differ ({} vs {} lines)\nonly in first: {only_a:#?}\nonly in second: {only_b:#?}",
        la.len(),
        lb.len()
    );
}

/// Files below `dir` whose names show an unfinished write of ours.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".slimify-tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Config digest (the image ID) of an image in an OCI layout, via skopeo.
pub fn skopeo_inspect(reference: &str) -> serde_json::Value {
    let raw = sh(Command::new("skopeo").args(["inspect", reference]));
    serde_json::from_str(&raw).unwrap()
}

/// Slim `fat` by tracing (no --keep) into a temporary engine tag; returns the tag and the report.
pub fn slim(fat: &str, what: &str, extra: &[&str]) -> (TempTag, serde_json::Value) {
    let tag = TempTag::new(what);
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("r.json");
    let mut args = vec![fat, "-o", &tag.0, "--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    slimify_ok(&args);
    let r = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    (tag, r)
}

/// The paths a `--report` lists as kept.
pub fn kept_paths(report: &serde_json::Value) -> Vec<&str> {
    report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["path"].as_str().unwrap())
        .collect()
}

/// Bytes of the files a `--report` lists as kept for package metadata (the
/// dpkg records, copyright files and release files kept for scanners).
pub fn metadata_bytes(report: &serde_json::Value) -> u64 {
    report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| {
            k["reasons"][0]
                .as_str()
                .unwrap()
                .starts_with("package metadata")
        })
        .map(|k| k["size"].as_u64().unwrap())
        .sum()
}

/// The image size the engine reports (`docker image inspect`), in bytes.
pub fn image_size(image: &str) -> u64 {
    docker(&["image", "inspect", "-f", "{{.Size}}", image])
        .trim()
        .parse()
        .unwrap()
}
