//! What the user sees: the summary line, --quiet, --report, --help.

mod util;

use util::oci::{sample_tar, Layout, GZIP};
use util::*;

#[test]
fn without_a_terminal_the_only_output_is_the_summary_line() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let out = slimify(&[
        &l.reference(),
        "-o",
        &format!("oci:{}:s", d.path().join("o").display()),
        "--keep",
        "/bin/**",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("slimify: oci:") && lines[0].contains("4 -> 2 paths"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "escape codes without a terminal: {stderr:?}"
    );
}

#[test]
fn quiet_prints_nothing_on_success() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let out = slimify(&[
        &l.reference(),
        "-o",
        &format!("oci:{}:s", d.path().join("o").display()),
        "--keep",
        "/**",
        "--quiet",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn the_report_explains_every_kept_path_and_never_prints_env_values() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let report = d.path().join("r.json");
    slimify_ok(&[
        &l.reference(),
        "-o",
        &format!("oci:{}:s", d.path().join("o").display()),
        "--keep",
        "/bin/app",
        "--report",
        report.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains("hunter2"), "Env value in the report");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let kept = r["kept"].as_array().unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0]["path"], "/bin");
    assert_eq!(kept[0]["kind"], "dir");
    assert_eq!(
        kept[0]["reasons"],
        serde_json::json!(["parent of /bin/app", "matches --keep /bin/app"])
    );
    assert_eq!(kept[1]["path"], "/bin/app");
    assert_eq!(kept[1]["size"], 18);
    assert_eq!(kept[1]["mode"], "0755");
    assert_eq!(r["dropped"]["paths"], 2);
    assert_eq!(r["before"]["paths"], 4);
}

#[test]
fn help_names_every_transport_and_flag() {
    let out = slimify(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for s in [
        "docker-daemon:",
        "docker-archive:",
        "oci:",
        "oci-archive:",
        "--keep",
        "--report",
        "--quiet",
        "--compression-level",
        "--tmp-dir",
    ] {
        assert!(help.contains(s), "--help lacks {s}");
    }
}

// --version names the commit it was built from, as `git` sees this checkout.
#[test]
fn version_names_the_commit_and_its_date() {
    let out = slimify(&["--version"]);
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let commit = git(&["rev-parse", "--short=7", "HEAD"]);
    let date = git(&["log", "-1", "--format=%cs"]);
    let version = env!("CARGO_PKG_VERSION");
    if commit.is_empty() {
        // Not a checkout git can read (a source tarball): the bare version.
        assert_eq!(line, format!("slimify {version}"));
    } else {
        assert_eq!(line, format!("slimify {version} ({commit} {date})"));
    }
}

// Completions and the man page come from the parser itself: every flag the
// binary takes is in them.
#[test]
fn completions_and_the_man_page_describe_every_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = slimify(&["completions", shell]);
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shell}");
        for flag in ["min-ratio", "no-import-graph", "insecure-registry"] {
            assert!(script.contains(flag), "{shell} completions lack --{flag}");
        }
    }
    let out = slimify(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));

    let out = slimify(&["man"]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(page.contains(".TH slimify 1"), "{page}");
    for flag in ["\\-\\-max\\-size", "\\-\\-report", "explain", "verify"] {
        assert!(page.contains(flag), "the man page lacks {flag}");
    }
}
