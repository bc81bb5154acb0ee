//! docker:// sources and targets against a real registry on loopback
//! (Debian's docker-registry, started per test by tests/util/registry.rs):
//! once over plain HTTP, once with TLS from a test CA and htpasswd basic
//! auth. Pushed images are checked with skopeo and by pulling and running
//! them next to the fat image.

mod util;

use std::process::{Command, Stdio};

use util::registry::Registry;
use util::{assert_error_form, fixture, run_image, slimify_err, slimify_ok, TempTag};

/// Run slimify with extra environment; returns (success, stderr).
fn slimify_env(args: &[String], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SLIMIFY_CREDS")
        .stdin(Stdio::null())
        .output()
        .expect("run slimify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The slim image behaves like the fat one: same output and exit code.
fn assert_runs_like(reg: &Registry, name: &str, fat: &str) {
    let tag = TempTag::new(&name.replace([':', '/'], "-"));
    reg.pull_to_engine(name, &tag.0);
    let (want, want_code) = run_image(fat, &[]);
    let (got, got_code) = run_image(&tag.0, &[]);
    assert_eq!(want_code, 0, "fat image failed: {want}");
    util::assert_same_lines(&format!("output of {name} vs {fat}"), &want, &got);
    assert_eq!(got_code, want_code);
}

#[test]
fn plain_registry_pull_push_by_tag_and_digest() {
    let fat = fixture("c-app");
    let reg = Registry::plain();
    let source = reg.push_from_engine(&fat, "c-app:fat");
    let flags = reg.slimify_args();

    let target = reg.reference("c-app:slim");
    let mut args = vec![source.as_str(), "-o", &target];
    args.extend(strs(&flags));
    let first = slimify_ok(&args);
    assert!(first.contains("pushed 2 blob(s)"), "{first}");

    // The same slim image again under another tag: nothing to upload.
    let again = reg.reference("c-app:again");
    args[2] = &again;
    let second = slimify_ok(&args);
    assert!(
        second.contains("pushed 0 blob(s), 0 B; 2 already in the registry"),
        "{second}"
    );

    let inspected = reg.inspect("c-app:slim");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 1);
    assert_eq!(inspected["Architecture"], "amd64");
    let fat_info = reg.inspect("c-app:fat");
    assert_eq!(inspected["Labels"], fat_info["Labels"]);
    assert_runs_like(&reg, "c-app:slim", &fat);

    // By digest: the fat manifest's digest reads the same image.
    let digest = fat_info["Digest"].as_str().unwrap();
    let by_digest = reg.reference(&format!("c-app@{digest}"));
    let out = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:d", out.path().join("l").display());
    let mut args = vec![by_digest.as_str(), "-o", &layout];
    args.extend(strs(&flags));
    slimify_ok(&args);

    // Errors are one line: an unknown digest, a missing tag, a digest target,
    // https to a plain-http registry, nothing listening.
    let zero = format!("c-app@sha256:{}", "0".repeat(64));
    let missing = reg.reference(&zero);
    args[0] = &missing;
    assert!(slimify_err(&args).contains("manifest unknown"));
    let nope = reg.reference("nope:1");
    args[0] = &nope;
    assert!(slimify_err(&args).contains("nope"));
    // A digest target must be the slim image's own digest (the output is
    // deterministic): then it is pushed by digest, else refused up front.
    let e = slimify_err(&[&source, "-o", &reg.reference(&zero), &flags[0], &flags[1]]);
    assert!(e.contains("the slim image's digest is sha256:"), "{e}");
    let slim_digest = inspected["Digest"].as_str().unwrap();
    let pinned = reg.reference(&format!("c-app@{slim_digest}"));
    let line = slimify_ok(&[&source, "-o", &pinned, &flags[0], &flags[1]]);
    assert!(line.contains("pushed 0 blob(s)"), "{line}");
    let e = slimify_err(&[&source, "-o", &layout]);
    assert!(e.contains("https://"), "{e}");
    let e = slimify_err(&[
        "docker://127.0.0.1:9/x:1",
        "-o",
        &layout,
        "--insecure-registry",
        "127.0.0.1:9",
    ]);
    assert!(e.contains("Connection refused"), "{e}");
}

#[test]
fn tls_registry_with_basic_auth() {
    let fat = fixture("c-app");
    let reg = Registry::tls_with_auth();
    let source = reg.push_from_engine(&fat, "team/c-app:fat");
    let target = reg.reference("team/c-app:slim");
    let (user, password) = reg.creds.clone().unwrap();
    let ca = reg.ca_dir.clone().unwrap().display().to_string();
    let empty_home = tempfile::tempdir().unwrap();
    let no_config = [("DOCKER_CONFIG", empty_home.path().to_str().unwrap())];
    let base = |extra: &[&str]| {
        let mut a = vec![source.clone(), "-o".into(), target.clone()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // The CA but no credentials: refused, with a hint.
    let (ok, err) = slimify_env(&base(&["--cert-dir", &ca]), &no_config);
    assert!(!ok && err.contains("--creds"), "{err}");
    assert_error_form(&err);
    // Credentials but not the CA: TLS is verified.
    let creds = format!("{user}:{password}");
    let (ok, err) = slimify_env(&base(&["--creds", &creds]), &no_config);
    assert!(!ok && err.contains("certificate"), "{err}");
    // A wrong password.
    let wrong = format!("{user}:not-{password}");
    let (ok, err) = slimify_env(&base(&["--cert-dir", &ca, "--creds", &wrong]), &no_config);
    assert!(
        !ok && err.contains("Not authorized") && err.contains("--creds"),
        "{err}"
    );

    // Both: pushed, inspected, pulled and run.
    let (ok, err) = slimify_env(&base(&["--cert-dir", &ca, "--creds", &creds]), &no_config);
    assert!(ok, "{err}\n{}", reg.log_tail());
    assert!(err.contains("pushed 2 blob(s)"), "{err}");
    assert_eq!(
        reg.inspect("team/c-app:slim")["Layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_runs_like(&reg, "team/c-app:slim", &fat);

    // Each side its own credentials, over --creds: a wrong one fails on its
    // own side only, naming that side's image.
    let (ok, err) = slimify_env(
        &base(&[
            "--cert-dir",
            &ca,
            "--src-creds",
            &creds,
            "--dest-creds",
            &wrong,
        ]),
        &no_config,
    );
    assert!(
        !ok && err.contains("c-app:slim") && err.contains("--dest-creds"),
        "{err}"
    );
    assert_error_form(&err);
    let (ok, err) = slimify_env(
        &base(&[
            "--cert-dir",
            &ca,
            "--src-creds",
            &wrong,
            "--dest-creds",
            &creds,
        ]),
        &no_config,
    );
    assert!(
        !ok && err.contains("c-app:fat") && !err.contains("c-app:slim"),
        "{err}"
    );
    let (ok, err) = slimify_env(
        &base(&[
            "--cert-dir",
            &ca,
            "--creds",
            &wrong,
            "--src-creds",
            &creds,
            "--dest-creds",
            &creds,
        ]),
        &no_config,
    );
    assert!(ok && err.contains("0 blob(s)"), "{err}");

    // No error line ever carries the password.
    for bad in [
        &["--creds", &wrong][..],
        &["--cert-dir", &ca, "--creds", &wrong][..],
        &["--creds", &creds][..],
        &["--src-creds", &wrong, "--dest-creds", &wrong][..],
    ] {
        let (_, err) = slimify_env(&base(bad), &no_config);
        assert!(!err.contains(&password), "{err}");
    }

    // Credentials from a Docker config file: an `auths` entry...
    let config = tempfile::tempdir().unwrap();
    let auth = util::sh(Command::new("python3").args([
        "-c",
        "import base64,sys; print(base64.b64encode(sys.argv[1].encode()).decode())",
        &creds,
    ]));
    let write_config = |json: serde_json::Value| {
        std::fs::write(config.path().join("config.json"), json.to_string()).unwrap()
    };
    write_config(serde_json::json!({"auths": {reg.host.clone(): {"auth": auth.trim()}}}));
    let with_config = [("DOCKER_CONFIG", config.path().to_str().unwrap())];
    let (ok, err) = slimify_env(&base(&["--cert-dir", &ca]), &with_config);
    assert!(ok && err.contains("0 blob(s)"), "{err}");

    // ...and a credential helper named in credHelpers, found on PATH.
    let bin = tempfile::tempdir().unwrap();
    let helper = bin.path().join("docker-credential-slimifytest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    util::sh(Command::new("chmod").arg("755").arg(&helper));
    write_config(serde_json::json!({"credHelpers": {reg.host.clone(): "slimifytest"}}));
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let env = [
        ("DOCKER_CONFIG", config.path().to_str().unwrap()),
        ("PATH", path.as_str()),
    ];
    let (ok, err) = slimify_env(&base(&["--cert-dir", &ca]), &env);
    assert!(ok && err.contains("0 blob(s)"), "{err}");

    // Reading from this registry into an OCI layout takes the same flags.
    let out = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:x", out.path().join("l").display());
    let (ok, err) = slimify_env(
        &[
            source.clone(),
            "-o".into(),
            layout,
            "--cert-dir".into(),
            ca.clone(),
            "--creds".into(),
            creds.clone(),
        ],
        &no_config,
    );
    assert!(ok, "{err}");
}

/// A layer is downloaded straight into the inflater: a registry serving
/// damaged or truncated bytes is an error naming the layer, never an image,
/// and nothing is left behind.
#[test]
fn a_registry_serving_a_damaged_or_short_layer_is_refused() {
    let reg = Registry::plain();
    let fat = fixture("c-data");
    let source = reg.push_from_engine(&fat, "damaged");
    let raw = util::sh(
        std::process::Command::new("skopeo")
            .args(["inspect", "--raw"])
            .args(reg.skopeo_args("--"))
            .arg(reg.reference("damaged")),
    );
    let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let biggest = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|l| l["size"].as_u64().unwrap())
        .unwrap();
    let digest = biggest["digest"].as_str().unwrap();
    let file = reg.blob_file(digest);
    let good = std::fs::read(&file).unwrap();
    let d = tempfile::tempdir().unwrap();
    let target = format!("oci:{}:x", d.path().join("out").display());
    let args: Vec<String> = [source.as_str(), "-o", &target]
        .iter()
        .map(|s| s.to_string())
        .chain(reg.slimify_args())
        .collect();

    // One byte flipped in the middle: the gzip stream or a digest breaks.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    std::fs::write(&file, &bad).unwrap();
    let err = slimify_err(&strs(&args));
    assert!(err.contains(digest), "{err}");
    assert!(!d.path().join("out").exists());

    // Cut short: the registry sends fewer bytes than the manifest declares.
    std::fs::write(&file, &good[..good.len() - 4096]).unwrap();
    let err = slimify_err(&strs(&args));
    assert!(err.contains(digest), "{err}");
    assert!(!d.path().join("out").exists());

    // Whole again: the same command works.
    std::fs::write(&file, &good).unwrap();
    slimify_ok(&strs(&args));
}
