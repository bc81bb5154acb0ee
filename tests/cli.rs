//! What the user sees: the summary line, --quiet, --report, --help.

mod util;

use util::oci::{sample_tar, Layout, GZIP};
use util::*;

/// `SOURCE -o oci:OUT:s --keep /bin/**`: a run with a known outcome.
fn keep_bin(l: &Layout, out: &std::path::Path) -> Vec<String> {
    let target = format!("oci:{}:s", out.display());
    [&l.reference(), "-o", &target, "--keep", "/bin/**"]
        .map(String::from)
        .to_vec()
}

/// Without a terminal (a CI log): one `progress:` line per finished phase,
/// with its sizes and seconds, then the summary line; no escape codes.
/// `--progress none` leaves the summary alone.
#[test]
fn without_a_terminal_each_phase_is_one_plain_line_then_the_summary() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let args = keep_bin(&l, &d.path().join("o"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = slimify(&args);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let phases: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("progress: "))
        .map(|l| l.split([':', ',']).next().unwrap())
        .collect();
    assert_eq!(
        phases,
        [
            format!("opening {}", l.reference())
                .split(':')
                .next()
                .unwrap(),
            "reading 1 layer",
            "selecting --keep",
            "writing the layer",
            "storing oci"
        ],
        "{stderr}"
    );
    assert!(
        lines[1].contains(" stored, ") && lines[1].ends_with(" s"),
        "{stderr}"
    );
    assert!(lines[2].contains("2 of 4 paths kept"), "{stderr}");
    assert_eq!(lines.len(), 6, "{stderr}");
    assert!(
        lines[5].starts_with("slimify: oci:") && lines[5].contains("4 -> 2 paths"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "escape codes without a terminal: {stderr:?}"
    );

    let mut quiet_args = args.clone();
    quiet_args.extend(["--progress", "none"]);
    let out = slimify(&quiet_args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("slimify: oci:"), "{stderr}");
}

/// On a terminal (a pseudo-terminal from `script`): bars and spinners drawn
/// in place and cleared, in the summary's decimal units, then the summary;
/// no plain lines.
#[test]
fn on_a_terminal_phases_are_bars_that_clear_themselves() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let target = format!("oci:{}:s", d.path().join("o").display());
    let command = format!(
        "{} {} -o {target} --keep '/bin/**'",
        env!("CARGO_BIN_EXE_slimify"),
        l.reference()
    );
    let out = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let screen = String::from_utf8_lossy(&out.stdout);
    // Which phases get drawn depends on how fast each ends (a terminal is
    // redrawn at most 20 times a second): at least one of them is.
    assert!(
        [
            "opening oci:",
            "reading 1 layer",
            "selecting --keep",
            "writing the layer",
            "storing oci:"
        ]
        .iter()
        .any(|p| screen.contains(p)),
        "{screen:?}"
    );
    // Each drawn phase is erased before the next line.
    assert!(screen.contains("\x1b[2K"), "{screen:?}");
    assert!(!screen.contains("progress: "), "{screen:?}");
    assert!(!screen.contains("iB"), "binary units: {screen:?}");
    let last = screen.trim_end().rsplit(['\n', '\r']).next().unwrap();
    assert!(
        last.trim_start_matches("\x1b[2K")
            .starts_with("slimify: oci:"),
        "{screen:?}"
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
        "--progress",
        "\nSelection:\n",
        "\nOutput:\n",
        "\nLimits",
        "\nRegistry",
        "\nExamples:\n",
    ] {
        assert!(help.contains(s), "--help lacks {s}");
    }
    // Every example's flags are the binary's own.
    let examples = help.split("\nExamples:\n").nth(1).unwrap();
    for flag in examples.split_whitespace().filter(|w| w.starts_with("--")) {
        assert!(
            help.contains(&format!("  {flag} ")) || help.contains(&format!(" {flag}\n")),
            "{flag}"
        );
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

// The report follows docs/report.schema.json, written and as a dry run, on
// an image with a package database; its dropped list and its kept list
// together are every path of the source.
#[test]
fn reports_follow_their_json_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../docs/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let fat = fixture("c-app");
    let d = tempfile::tempdir().unwrap();
    let target = format!("oci:{}:slim", d.path().join("layout").display());
    for extra in [&[][..], &["--dry-run"][..]] {
        let report_path = d.path().join("report.json");
        let out = slimify(
            &[
                fat.as_str(),
                "-o",
                &target,
                "--quiet",
                "--report",
                report_path.to_str().unwrap(),
            ]
            .iter()
            .chain(extra)
            .copied()
            .collect::<Vec<_>>(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{extra:?}: {errors:#?}");
        assert_eq!(report["schema_version"], 1);
        assert!(!report["packages"].as_array().unwrap().is_empty());
        let dropped = report["dropped"]["list"].as_array().unwrap();
        let kept = report["kept"].as_array().unwrap();
        assert_eq!(
            dropped.len() + kept.len(),
            report["before"]["paths"].as_u64().unwrap() as usize
        );
        assert!(dropped.iter().any(|p| p["path"] == "/usr/bin/gcc-12"));
        // The schema is closed: a field it does not describe fails it.
        let mut drifted = report.clone();
        drifted["kept"][0]["new_field"] = true.into();
        assert!(!validator.is_valid(&drifted));
    }
}

// --format json: one JSON object on stdout, nothing on stderr; its digest is
// the manifest the layout's index names, which the summary line prints too.
#[test]
fn format_json_prints_the_summary_as_one_object_with_the_digest() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let out_dir = d.path().join("o");
    let args = keep_bin(&l, &out_dir);
    let mut json_args: Vec<&str> = args.iter().map(String::as_str).collect();
    json_args.extend(["--format", "json"]);
    let out = slimify(&json_args);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["manifest_digest"], digest);
    assert_eq!(summary["after"]["paths"], 2);

    let text_args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = slimify(&text_args);
    let line = String::from_utf8_lossy(&out.stderr);
    assert!(
        line.trim_end().ends_with(&format!("; digest {digest}")),
        "{line}"
    );
}

/// slimify's own errors look like clap's: `error:` in bold red on a
/// terminal, plain with NO_COLOR or without a terminal; a mistyped
/// subcommand gets clap's "a similar subcommand exists" and exit 2.
#[test]
fn errors_are_coloured_on_a_terminal_only_and_typos_are_caught() {
    let d = tempfile::tempdir().unwrap();
    let command = format!(
        "{} oci:{}/none:x -o oci:{}/out:x",
        env!("CARGO_BIN_EXE_slimify"),
        d.path().display(),
        d.path().display()
    );
    let on_terminal = |no_color: bool| {
        let mut c = std::process::Command::new("script");
        c.args(["-qfec", &command, "/dev/null"])
            .env("TERM", "xterm");
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    // A busy machine may draw the opening phase's spinner first; it is
    // cleared (`ESC [2K`) before the error.
    let after_bars = |screen: &str| screen.rsplit("\x1b[2K").next().unwrap().to_string();
    let screen = after_bars(&on_terminal(false));
    assert!(screen.starts_with("\x1b[1;31merror:\x1b[0m "), "{screen:?}");
    let screen = after_bars(&on_terminal(true));
    assert!(screen.starts_with("error: "), "{screen:?}");
    assert!(!screen.contains('\x1b'), "{screen:?}");
    let out = slimify(&[
        &format!("oci:{}/none:x", d.path().display()),
        "-o",
        "oci:/x:y",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_error_form(&err);
    assert!(!err.contains('\x1b'), "{err:?}");

    let out = slimify(&["expalin", "myapp:fat", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a similar subcommand exists: 'explain'"),
        "{err}"
    );
}
