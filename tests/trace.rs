//! Automatic tracing on real fat images: the slim image must run exactly
//! like the fat one, its library set must match lddtree's, and it must be small.

mod util;

use std::collections::BTreeSet;
use std::process::Command;

use util::*;

/// Sonames the report says were loaded for a program, plus its loader's name.
fn traced_names(report: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for k in report["kept"].as_array().unwrap() {
        let first = k["reasons"][0].as_str().unwrap();
        if let Some(rest) = first.strip_prefix("needed as ") {
            out.insert(rest.split(' ').next().unwrap().to_string());
        }
        if first.starts_with("dynamic loader of") && k["kind"] == "file" {
            out.insert(
                k["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    out
}

/// What lddtree (pax-utils) lists for `program` inside the exported image, by file name.
fn lddtree_names(image: &str, program: &str) -> BTreeSet<String> {
    let root = tempfile::tempdir().unwrap();
    let cid = docker(&["create", image]).trim().to_string();
    sh(Command::new("bash").arg("-c").arg(format!(
        "docker export {cid} | tar -x -C {} 2>/dev/null; docker rm {cid} >/dev/null",
        root.path().display()
    )));
    let out = sh(Command::new("/usr/bin/python3")
        .args(["/usr/bin/lddtree", "-R"])
        .arg(root.path())
        .args(["-l", program]));
    out.lines()
        .skip(1)
        .map(|l| l.rsplit('/').next().unwrap().to_string())
        .collect()
}

#[test]
fn a_c_program_with_zlib_libcrypto_and_nss_runs_the_same_and_is_under_10_mb() {
    let fat = fixture("c-app");
    let (slim, report) = slim(&fat, "c-app", &[]);
    let (fat_out, fat_code) = run_image(&fat, &[]);
    assert_eq!(fat_code, 0, "{fat_out}");
    assert!(fat_out.contains("all checks passed"), "{fat_out}");
    assert_eq!(run_image(&slim.0, &[]), (fat_out, 0));
    assert_eq!(runtime_config(&slim.0), runtime_config(&fat));
    let size = image_size(&slim.0);
    assert!(size < 10_000_000, "slim image is {size} bytes");
    assert_eq!(
        traced_names(&report),
        lddtree_names(&fat, "/usr/local/bin/c-app")
    );
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn an_entrypoint_behind_an_alternatives_symlink_chain_runs_the_same() {
    let fat = fixture("c-app-alternatives");
    let (slim, report) = slim(&fat, "c-app-alt", &[]);
    let fat_run = run_image(&fat, &[]);
    assert_eq!(fat_run.1, 0, "{}", fat_run.0);
    assert_eq!(run_image(&slim.0, &[]), fat_run);
    // Every link of the chain is kept, with why.
    let kept = util::kept_paths(&report);
    for link in ["/usr/bin/c-app", "/etc/alternatives/c-app"] {
        assert!(kept.contains(&link), "{link} not kept");
    }
    assert!(image_size(&slim.0) < 10_000_000);
    assert_eq!(
        traced_names(&report),
        lddtree_names(&fat, "/usr/lib/c-app/c-app-real")
    );
}

#[test]
fn dry_run_writes_nothing_and_a_missing_entrypoint_is_an_error() {
    let fat = fixture("c-app");
    let tag = TempTag::new("dry-run");
    let out = slimify_ok(&[&fat, "-o", &tag.0, "--dry-run"]);
    assert!(out.contains("dry run"), "{out}");
    assert!(
        Command::new("docker")
            .args(["image", "inspect", &tag.0])
            .output()
            .unwrap()
            .status
            .code()
            != Some(0)
    );
    // --include keeps (and traces) paths, --include-exe programs; the report says why.
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("r.json");
    slimify_ok(&[
        &fat,
        "-o",
        &tag.0,
        "--dry-run",
        "--include",
        "/usr/src/c-app/**",
        "--include-exe",
        "gcc",
        "--report",
        report.to_str().unwrap(),
    ]);
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let reason = |p: &str| {
        r["kept"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["path"] == p)
            .map(|k| k["reasons"][0].as_str().unwrap().to_string())
    };
    assert_eq!(
        reason("/usr/src/c-app/c-app.c").as_deref(),
        Some("matches --include /usr/src/c-app/**")
    );
    assert!(
        reason("/usr/bin/x86_64-linux-gnu-gcc-12").is_some_and(|r| r.contains("--include-exe gcc")),
        "{:?}",
        reason("/usr/bin/x86_64-linux-gnu-gcc-12")
    );
    let err = slimify_err(&[&fat, "-o", &tag.0, "--entrypoint", "/no/such/program"]);
    assert!(
        err.contains("/no/such/program") && err.contains("not an executable"),
        "{err}"
    );
}

#[test]
fn a_static_go_program_keeps_itself_certificates_and_zoneinfo_only() {
    let fat = fixture("go-static");
    let (slim, report) = slim(&fat, "go-static", &[]);
    let fat_run = run_image(&fat, &[]);
    assert_eq!(fat_run.1, 0, "{}", fat_run.0);
    assert!(fat_run.0.contains("all checks passed"));
    assert_eq!(run_image(&slim.0, &[]), fat_run);
    // No loader, no libraries: a static binary keeps just itself.
    assert!(
        traced_names(&report).is_empty(),
        "{:?}",
        traced_names(&report)
    );
    // Within 10% of binary + certificates + zoneinfo, besides the package
    // metadata kept for scanners (the dpkg records and copyright files of
    // ca-certificates and tzdata), which is counted apart.
    let essential: u64 = report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| {
            let p = k["path"].as_str().unwrap();
            p == "/usr/local/bin/go-app"
                || p.starts_with("/usr/share/zoneinfo/")
                || p.contains("ca-certificates")
        })
        .map(|k| k["size"].as_u64().unwrap())
        .sum();
    let size = image_size(&slim.0);
    let metadata = metadata_bytes(&report);
    assert!(metadata < 400_000, "{metadata} bytes of package metadata");
    assert!(
        ((size - metadata) as f64) < essential as f64 * 1.10,
        "slim {size} ({metadata} of package metadata) vs essentials {essential}"
    );
}

/// GET `path` from a server on the host's loopback, retrying while it starts.
fn get(port: u16, path: &str) -> String {
    for _ in 0..50 {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "2"])
            .arg(format!("http://127.0.0.1:{port}{path}"))
            .output()
            .unwrap();
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("nothing answered on 127.0.0.1:{port}");
}

/// Start `image` on the host network (its nginx listens on 127.0.0.1:8080), fetch pages, stop it.
fn serve(image: &str) -> Vec<String> {
    let id = docker(&["run", "-d", "--rm", "--network", "host", image])
        .trim()
        .to_string();
    let pages = vec![get(8080, "/"), get(8080, "/healthz")];
    docker(&["stop", &id]);
    pages
}

#[test]
fn nginx_serves_the_same_pages_from_a_slim_image_under_15_mb() {
    let fat = fixture("nginx");
    // Tracing alone: nginx names /etc/nginx/nginx.conf, which names the web
    // root and the run-time paths.
    let (slim, _) = slim(&fat, "nginx", &[]);
    let fat_pages = serve(&fat);
    assert!(
        fat_pages[0].contains("<html") || fat_pages[0].contains("<!"),
        "{fat_pages:?}"
    );
    assert_eq!(serve(&slim.0), fat_pages);
    assert_eq!(run_image(&slim.0, &["-t"]), run_image(&fat, &["-t"]));
    let size = image_size(&slim.0);
    assert!(size < 15_000_000, "slim nginx is {size} bytes");
}

#[test]
fn explain_says_why_a_path_is_kept_or_not() {
    let fat = fixture("c-app");
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(["explain", &fat, "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("needed as libz.so.1 by /usr/local/bin/c-app")
            && text.contains("<- entrypoint"),
        "{text}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(["explain", &fat, "/usr/bin/gcc-12"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("nothing traced needs it"), "{text}");

    // Many paths, one read of the image, as JSON.
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(["explain", &fat, "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"])
        .args(["/usr/bin/gcc-12", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let answers: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers[0]["kept"], true, "{answers}");
    assert!(answers[0]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("needed as libz.so.1"));
    assert_eq!(answers[1]["path"], "/usr/bin/gcc-12");
    assert_eq!(
        (&answers[1]["kept"], &answers[1]["in_image"]),
        (&false.into(), &true.into())
    );

    // A path the image does not have is no "not kept": an error, exit 2,
    // as for an image that cannot be read.
    for (image, path) in [(fat.as_str(), "/no/such/file"), ("no-such-image:1", "/x")] {
        let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
            .args(["explain", image, path])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}

// CI gates fail the run after writing, with the exit status of a failed
// verify, and say which gate and by how much, even with --quiet.
#[test]
fn min_ratio_and_max_size_gates_fail_after_writing() {
    let fat = fixture("c-app");
    let dir = tempfile::tempdir().unwrap();
    let target = format!("oci:{}:slim", dir.path().join("layout").display());
    let run = |gates: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
            .args([fat.as_str(), "-o", &target, "--quiet"])
            .args(gates)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // c-app: 452 MB -> 8 MB.
    let (code, err) = run(&["--min-ratio", "10", "--max-size", "20MB"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, err) = run(&["--min-ratio", "500", "--max-size", "2MiB"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("gate failed: --min-ratio 500: the slim image is only"),
        "{err}"
    );
    assert!(err.contains("gate failed: --max-size 2.1 MB"), "{err}");
    assert!(
        dir.path().join("layout/index.json").is_file(),
        "the slim image is written"
    );
    let (code, err) = run(&["--max-size", "lots"]);
    assert_eq!(code, Some(2), "{err}");
}
