//! Multi-platform sources: an OCI index of linux/amd64 and linux/arm64
//! images, each built from a Debian root of its own architecture
//! (scripts/multiarch-fixture.sh; arm64 under qemu-user-static). The slim
//! index holds one slim image per platform; each is run (arm64 through qemu
//! binfmt) and compared with its fat image.

mod util;

use std::path::PathBuf;
use std::process::Command;

use util::registry::Registry;
use util::{repo, require_docker, run_image, sh, slimify_err, slimify_ok, TempTag};

/// The fixture layout (read-only: it is the cache entry).
fn multiarch() -> PathBuf {
    require_docker();
    let out = sh(Command::new("bash").arg(repo().join("scripts/multiarch-fixture.sh")));
    PathBuf::from(out.trim())
}

/// One platform of an OCI index into the engine, to run it.
fn load(reference: &str, arch: &str, what: &str) -> TempTag {
    let tag = TempTag::new(&format!("{what}-{arch}"));
    sh(Command::new("skopeo")
        .args(["copy", "-q", "--override-arch", arch])
        .arg(reference)
        .arg(format!("docker-daemon:{}", tag.0)));
    tag
}

fn run_platform(image: &str, arch: &str) -> String {
    let (out, code) = run_image_on(image, arch);
    assert_eq!(code, 0, "{image} on {arch}: {out}");
    out
}

fn run_image_on(image: &str, arch: &str) -> (String, i32) {
    let out = Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--platform"])
        .arg(format!("linux/{arch}"))
        .arg(image)
        .output()
        .expect("docker run");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn index_platforms(reference: &str, extra: &[String]) -> Vec<String> {
    let raw = sh(Command::new("skopeo")
        .args(["inspect", "--raw"])
        .args(extra)
        .arg(reference));
    let index: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            format!(
                "{}/{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn index_in_index_out_each_platform_runs_like_its_fat_image() {
    let fat = format!("oci:{}:multi", multiarch().display());
    let out = tempfile::tempdir().unwrap();
    let slim = format!("oci:{}:slim", out.path().join("layout").display());
    let report = out.path().join("r.json");
    let sbom = out.path().join("sbom.json");
    let line = slimify_ok(&[
        &fat,
        "-o",
        &slim,
        "--report",
        report.to_str().unwrap(),
        "--sbom",
        sbom.to_str().unwrap(),
    ]);
    assert!(
        line.contains("index of linux/amd64, linux/arm64/v8"),
        "{line}"
    );
    assert_eq!(index_platforms(&slim, &[]), ["linux/amd64", "linux/arm64"]);

    for (arch, loader) in [
        ("amd64", "ld-linux-x86-64.so.2"),
        ("arm64", "ld-linux-aarch64.so.1"),
    ] {
        let fat_tag = load(&fat, arch, "fat");
        let slim_tag = load(&slim, arch, "slim");
        let want = run_platform(&fat_tag.0, arch);
        assert!(
            want.contains(if arch == "arm64" { "aarch64" } else { "x86_64" }),
            "{want}"
        );
        util::assert_same_lines(
            &format!("{arch} output"),
            &want,
            &run_platform(&slim_tag.0, arch),
        );
        // The ELF tracer read this platform's binaries: its own loader is kept.
        let suffix = if arch == "arm64" {
            "linux-arm64-v8"
        } else {
            "linux-amd64"
        };
        let r: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.path().join(format!("r.{suffix}.json"))).unwrap(),
        )
        .unwrap();
        let kept = util::kept_paths(&r);
        assert!(
            kept.iter().any(|p| p.ends_with(loader)),
            "{arch}: no {loader}"
        );
        assert!(
            r["after"]["content_bytes"].as_u64().unwrap() * 3
                < r["before"]["content_bytes"].as_u64().unwrap(),
            "{arch}: not 3x smaller"
        );
        // One SBOM per platform, of that platform's image and packages.
        let bom: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.path().join(format!("sbom.{suffix}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            bom["metadata"]["component"]["version"],
            r["manifest_digest"]
        );
        let libc = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "libc6")
            .unwrap_or_else(|| panic!("{arch}: no libc6 in the SBOM"));
        let purl = libc["purl"].as_str().unwrap();
        assert!(purl.contains(&format!("?arch={arch}&")), "{arch}: {purl}");
    }
}

#[test]
fn platform_flag_picks_and_single_image_targets_take_one() {
    let fat = format!("oci:{}:multi", multiarch().display());
    let out = tempfile::tempdir().unwrap();

    // --platform keeps an index, with only what was asked for.
    let arm_only = format!("oci:{}:arm", out.path().join("layout").display());
    slimify_ok(&[&fat, "-o", &arm_only, "--platform", "linux/arm64"]);
    assert_eq!(index_platforms(&arm_only, &[]), ["linux/arm64"]);

    // The engine holds one image: this machine's by default, or the one named.
    let host = TempTag::new("platform-host");
    slimify_ok(&[&fat, "-o", &host.0]);
    assert!(run_image(&host.0, &[]).0.contains("machine: x86_64"));
    let arm = TempTag::new("platform-arm");
    slimify_ok(&[&fat, "-o", &arm.0, "--platform", "linux/arm64/v8"]);
    assert!(run_platform(&arm.0, "arm64").contains("machine: aarch64"));

    let e = slimify_err(&[&fat, "-o", &arm.0, "--platform", "linux/arm64,linux/amd64"]);
    assert!(
        e.contains("holds one image") && e.contains("--platform"),
        "{e}"
    );
    let e = slimify_err(&[&fat, "-o", &arm_only, "--platform", "linux/s390x"]);
    assert!(
        e.contains("no linux/s390x image") && e.contains("linux/arm64/v8"),
        "{e}"
    );
    // A malformed value is a usage error from the argument parser.
    let bad = util::slimify(&[&fat, "-o", &arm_only, "--platform", "linux"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("OS/ARCH"));
}

#[test]
fn index_through_a_registry() {
    let fat = format!("oci:{}:multi", multiarch().display());
    let reg = Registry::plain();
    let flags = reg.slimify_args();
    let target = reg.reference("multi:slim");
    let mut args = vec![fat.as_str(), "-o", &target];
    args.extend(flags.iter().map(String::as_str));
    let line = slimify_ok(&args);
    assert!(line.contains("pushed 4 blob(s)"), "{line}");
    let tls = reg.skopeo_args("--");
    assert_eq!(
        index_platforms(&target, &tls),
        ["linux/amd64", "linux/arm64"]
    );

    // And back out of the registry: the index is read as a source too.
    let again = reg.reference("multi:again");
    let mut args = vec![target.as_str(), "-o", &again];
    args.extend(flags.iter().map(String::as_str));
    slimify_ok(&args);
    let tag = TempTag::new("reg-arm");
    sh(Command::new("skopeo")
        .args(["copy", "-q", "--override-arch", "arm64"])
        .args(reg.skopeo_tls_args(false))
        .arg(&again)
        .arg(format!("docker-daemon:{}", tag.0)));
    assert!(run_platform(&tag.0, "arm64").contains("machine: aarch64"));
}
