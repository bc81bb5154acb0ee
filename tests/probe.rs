//! `--probe`, `--verify` and `slimify verify` on real images in the real
//! engine: apps that compute what they load at run time (static tracing
//! alone breaks them, the probe's run finds it), a server compared by its
//! HTTP answers and health, the recorder inside containers, and the errors.

mod util;

use std::process::{Command, Stdio};
use std::time::Duration;

use util::*;

/// Run slimify, then check it left no container behind (they are
/// labelled with its PID).
fn run_slimify(args: &[&str]) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(containers_of(pid), "", "slimify {args:?} left containers");
    out
}

/// The containers the slimify process `pid` started and did not remove.
fn containers_of(pid: u32) -> String {
    docker(&[
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label=org.slimify.run={pid}"),
    ])
}

/// `slimify verify FAT SLIM ARGS...`: (exit code, stdout, stderr).
fn verify(fat: &str, slim: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["verify", fat, slim];
    args.extend_from_slice(extra);
    let out = run_slimify(&args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report entries kept for the probe alone.
fn probe_only(report: &serde_json::Value) -> Vec<(String, String)> {
    report["kept"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["found_by"] == "probe")
        .map(|k| {
            (
                k["path"].as_str().unwrap().to_string(),
                k["reasons"][0].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// Each fixture loads something whose name it computes at run time (a plugin
// named in a config file, a `require` of a joined path, a `dlopen` of a
// name built with snprintf, data files whose paths are assembled from
// dates): static tracing cannot see it, the probe's run does.
#[test]
fn static_tracing_alone_breaks_them_and_the_probe_fixes_them() {
    for (name, computed) in [
        ("probe-py-plugin", "/opt/acme"),
        ("probe-node-require", "/opt/acme/handlers"),
        ("probe-c-dlopen", "/opt/acme/codecs"),
    ] {
        let fat = fixture(name);
        let (fat_out, fat_code) = run_image(&fat, &[]);
        assert_eq!(fat_code, 0, "{name}: the fat image works: {fat_out}");

        let (static_slim, static_report) = slim(&fat, &format!("{name}-static"), &[]);
        let (out, code) = run_image(&static_slim.0, &[]);
        assert!(
            code != 0 || out != fat_out,
            "{name}: static tracing alone was expected to miss what the app computes, and the slim image worked:\n{out}"
        );
        // verify says so, and names what the slim run's errors name.
        let (vcode, vout, verr) = verify(&fat, &static_slim.0, &[]);
        assert_eq!(vcode, 3, "{name}: verify must fail: {vout}{verr}");
        assert!(vout.contains("does not behave like"), "{vout}");
        assert!(
            vout.contains("the slim run's errors name what is missing")
                && vout.contains("--include "),
            "{name}: verify names what is missing with its --include: {vout}"
        );

        let tag = TempTag::new(&format!("{name}-probed"));
        let d = tempfile::tempdir().unwrap();
        let report = d.path().join("r.json");
        let out = run_slimify(&[
            &fat,
            "-o",
            &tag.0,
            "--probe",
            "--verify",
            "--report",
            report.to_str().unwrap(),
        ]);
        let summary = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {summary}");
        assert!(summary.contains("; probe: "), "{summary}");
        assert!(
            summary.contains("verified: the slim image behaves like the source"),
            "{summary}"
        );
        let (out, code) = run_image(&tag.0, &[]);
        assert_eq!(
            (code, &out),
            (0, &fat_out),
            "{name}: the probed slim image behaves like the fat one"
        );

        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        let added = probe_only(&r);
        assert!(
            added
                .iter()
                .any(|(p, why)| p.starts_with(computed) && why.contains("while probing by /")),
            "{name}: the report says the probe found what is under {computed}: {added:?}"
        );
        assert!(
            r["probe"]["added_paths"].as_u64().unwrap() > 0,
            "{}",
            r["probe"]
        );
        // What the run opened is in the slim image, so it weighs at most
        // the slim image's content, and at least the file the probe added.
        let opened = r["probe"]["opened_bytes"].as_u64().unwrap();
        let content = r["after"]["content_bytes"].as_u64().unwrap();
        assert!(
            opened > 0 && opened <= content && r["probe"]["opened_paths"].as_u64().unwrap() > 0,
            "{name}: opened {opened} of {content}: {}",
            r["probe"]
        );
        assert_eq!(r["verify"]["same"], true);
        // Union, never instead: what static tracing kept is all still there.
        let probed_kept = kept_paths(&r);
        for p in kept_paths(&static_report) {
            assert!(
                probed_kept.contains(&p),
                "{name}: {p} kept statically but not with --probe"
            );
        }
        assert!(
            image_size(&tag.0) < image_size(&fat) / 2,
            "{name}: still slim"
        );
    }
}

// A server compared by what it answers and by its health: the good slim
// image passes; one without the page the healthcheck fetches fails, and
// the diff says where.
#[test]
fn verify_compares_http_answers_and_the_healthcheck() {
    let fat = fixture("static-site");
    let (good, _) = slim(&fat, "verify-site-good", &[]);
    let pages = [
        "--http-get",
        "/",
        "--http-get",
        "/docs/guide.html",
        "--http-get",
        "/nope",
    ];
    let (code, out, err) = verify(&fat, &good.0, &pages);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("behaves like"), "{out}");

    let (broken, _) = slim(
        &fat,
        "verify-site-broken",
        &["--exclude", "/srv/www/index.html"],
    );
    let (code, out, err) = verify(&fat, &broken.0, &pages);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("GET / differs"), "{out}");
    assert!(
        out.contains("healthcheck: source healthy, slim unhealthy"),
        "{out}"
    );
    assert!(!out.contains("GET /docs/guide.html differs"), "{out}");

    // --exec runs inside each container (no shell needed in the image),
    // with what the slim image kept: the server's modules, not all of Python.
    let (code, out, _) = verify(
        &fat,
        &good.0,
        &[
            "--exec",
            "python3 -c 'import http.server; print(http.server.__name__)'",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = verify(
        &fat,
        &broken.0,
        &[
            "--exec",
            "python3 -c 'print(open(\"/srv/www/index.html\").read()[:20])'",
        ],
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("/srv/www/index.html: --include /srv/www/index.html"),
        "{out}"
    );
}

// explain --probe says which run touched a path, and that one was not.
#[test]
fn explain_with_the_probe_names_the_program_that_opened_a_path() {
    let fat = fixture("probe-c-dlopen");
    let explain = |path: &str, probe: bool| {
        let mut args = vec!["explain", fat.as_str(), path];
        if probe {
            args.push("--probe");
        }
        let out = run_slimify(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = explain("/opt/acme/codecs/libdeflate.so", false);
    assert_eq!(code, Some(1), "{text}");
    let (code, text) = explain("/opt/acme/codecs/libdeflate.so", true);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("kept: opened while probing by /app/bin/report"),
        "{text}"
    );
    let (code, text) = explain("/opt/acme/codecs/librle.so", true);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("the probed run did not touch it"), "{text}");
}

// An image of another architecture is probed under qemu (binfmt_misc,
// registered by scripts/setup.sh) and verified the same way.
#[test]
fn an_arm64_image_is_probed_and_verified_under_qemu() {
    let layout = sh(Command::new("bash").arg(repo().join("scripts/multiarch-fixture.sh")));
    let fat = TempTag::new("probe-arm64-fat");
    slimify_ok(&[
        &format!("oci:{}:multi", layout.trim()),
        "-o",
        &fat.0,
        "--platform",
        "linux/arm64",
        "--keep",
        "/**",
        "--quiet",
    ]);
    let slim = TempTag::new("probe-arm64-slim");
    let out = run_slimify(&[&fat.0, "-o", &slim.0, "--probe", "--verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("verified: the slim image behaves like the source"),
        "{err}"
    );
    let (text, code) = run_image(&slim.0, &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("machine: aarch64"), "{text}");
}

// A server that speaks another protocol than HTTP: listening is ready
// enough, and its output is compared (redis, with its own config file).
#[test]
fn verify_waits_for_servers_that_do_not_speak_http() {
    let fat = fixture("redis-conf");
    let (slim_tag, _) = slim(&fat, "verify-redis", &[]);
    let (code, out, err) = verify(&fat, &slim_tag.0, &[]);
    assert_eq!(code, 0, "{out}{err}");
    // A slim image without its config file is told apart.
    let (broken, _) = slim(
        &fat,
        "verify-redis-broken",
        &["--exclude", "/etc/redis/app.conf"],
    );
    let (code, out, err) = verify(&fat, &broken.0, &[]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("/etc/redis/app.conf"), "{out}");
}

// The recorder as a container's entrypoint: as the image's non-root user,
// without extra capabilities, signals reach the app (STOPSIGNAL, docker
// kill) and its exit status comes back.
#[test]
fn a_probed_run_keeps_the_apps_user_signals_and_exit_status() {
    let fat = fixture("c-data");
    let tag = TempTag::new("probe-c-data");
    let d = tempfile::tempdir().unwrap();
    let report = d.path().join("r.json");
    let out = run_slimify(&[
        &fat,
        "-o",
        &tag.0,
        "--probe",
        "--report",
        report.to_str().unwrap(),
    ]);
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && summary.contains("(exit 0)"),
        "{summary}"
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    // Static tracing already found what c-data reads: the probe adds nothing
    // it needs, and says both found the data.
    let data = r["kept"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == "/app/data/greeting.txt")
        .unwrap();
    assert_eq!(data["found_by"], "both", "{data}");
    assert_eq!(run_image(&tag.0, &[]), run_image(&fat, &[]));

    // A server stopped by the probe: the stop signal goes through the
    // recorder to the app, here a shell that traps TERM and exits 7, and
    // its status comes back; verify of the image against itself agrees.
    let base = fixture("shell-app");
    let trap = r#"["/bin/sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo up; while :; do sleep 0.1; done"]"#;
    let server = ["--entrypoint", trap, "--exec", "id -u"];
    let (code, out, err) = verify(&base, &base, &server);
    assert_eq!(code, 0, "{out}{err}");
    let tag = TempTag::new("probe-trap");
    let mut args = vec![base.as_str(), "-o", &tag.0, "--probe"];
    args.extend(server);
    let out = run_slimify(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("(exit 7)"),
        "the app got TERM and its status came back: {err}"
    );
}

#[test]
fn probe_and_verify_errors_are_one_line_and_leave_nothing() {
    let fat = fixture("c-data");
    let d = tempfile::tempdir().unwrap();
    let layout = format!("oci:{}:x", d.path().join("l").display());
    // --probe needs an engine image.
    slimify_ok(&[&fat, "-o", &layout, "--quiet"]);
    let err = slimify_err(&[&layout, "-o", "slimify-test/x:1", "--probe"]);
    assert!(
        err.contains("--probe runs images in the Docker engine"),
        "{err}"
    );
    assert_eq!(
        slimify(&[&layout, "-o", "slimify-test/x:1", "--probe"])
            .status
            .code(),
        Some(2)
    );
    // Flags that cannot go together are usage errors.
    for args in [
        vec![
            fat.as_str(),
            "-o",
            "slimify-test/x:1",
            "--probe",
            "--keep",
            "/**",
        ],
        vec![
            fat.as_str(),
            "-o",
            "slimify-test/x:1",
            "--verify",
            "--dry-run",
        ],
        vec!["verify", fat.as_str(), fat.as_str(), "--ignore", "("],
    ] {
        let out = slimify(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // An image the engine does not have.
    let err = slimify_err(&["verify", &fat, "slimify-test/does-not-exist:1"]);
    assert!(err.contains("slimify-test/does-not-exist:1"), "{err}");
    // No engine.
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args(["verify", &fat, &fat])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_error_form(&err);
    assert!(
        err.starts_with("error: verify runs images in a Docker engine, and none answers"),
        "{err}"
    );
    assert!(err.contains("hint: start the Docker engine"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([&fat, "-o", "oci:/tmp/never-written:x", "--probe"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: --probe runs images in a Docker engine, and none answers"),
        "{err}"
    );
    assert!(!std::path::Path::new("/tmp/never-written").exists());
    // A server that never answers: an error naming it, after --timeout.
    let out = run_slimify(&[
        "verify",
        &fat,
        &fat,
        "--port",
        "9",
        "--timeout",
        "2",
        "--entrypoint",
        "sleep 30",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_error_form(&err);
    assert!(err.contains("never answered on port 9"), "{err}");
}

// Ctrl-C during a run removes its containers.
#[test]
fn an_interrupted_verify_removes_its_containers() {
    let fat = fixture("c-data");
    let child = Command::new(env!("CARGO_BIN_EXE_slimify"))
        .args([
            "verify",
            &fat,
            &fat,
            "--entrypoint",
            "sleep 60",
            "--timeout",
            "60",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both containers running.
    let pid = child.id();
    let start = std::time::Instant::now();
    while containers_of(pid).lines().count() < 2 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(containers_of(pid).lines().count(), 2);
    sh(Command::new("kill").args(["-INT", &pid.to_string()]));
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(containers_of(pid), "");
}
