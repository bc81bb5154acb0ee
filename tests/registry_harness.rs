//! The test registry (tests/util/registry.rs) works with a real client:
//! skopeo pushes an image to it, reads it back by digest, and is turned away
//! without the CA or the credentials when the registry asks for them.

mod util;

use std::path::Path;
use std::process::{Command, Stdio};

use util::registry::Registry;
use util::sh;

/// A one-layer OCI layout tagged `t`, made with umoci (no engine needed).
/// Returns the skopeo reference and the manifest digest from index.json.
fn small_layout(dir: &Path) -> (String, String) {
    let layout = dir.join("layout");
    let image = format!("{}:t", layout.display());
    sh(Command::new("umoci")
        .arg("init")
        .arg("--layout")
        .arg(&layout));
    sh(Command::new("umoci").args(["new", "--image", &image]));
    let hello = dir.join("hello.txt");
    std::fs::write(&hello, "hello from the harness\n").unwrap();
    sh(Command::new("umoci")
        .args(["insert", "--image", &image])
        .arg(&hello)
        .arg("/hello.txt"));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "t")
        .expect("tag t in index.json")["digest"]
        .as_str()
        .unwrap()
        .to_string();
    (format!("oci:{image}"), digest)
}

/// `skopeo inspect` with these flags, expecting failure; returns stderr.
fn inspect_fails(flags: &[String], reference: &str) -> String {
    let out = Command::new("skopeo")
        .arg("inspect")
        .args(flags)
        .arg(reference)
        .stdin(Stdio::null())
        .output()
        .expect("run skopeo");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "skopeo inspect {flags:?} {reference} unexpectedly succeeded"
    );
    stderr
}

/// Push the layout to `reg`, inspect it there and pull it back: the manifest
/// digest must be the same at every step. Returns the pushed reference.
fn round_trip(reg: &Registry) -> String {
    let d = tempfile::tempdir().unwrap();
    let (layout, digest) = small_layout(d.path());
    let remote = format!("docker://{}/harness/test:1", reg.host);
    let digestfile = d.path().join("digest");

    sh(Command::new("skopeo")
        .args(["copy", "--quiet", "--digestfile"])
        .arg(&digestfile)
        .args(reg.skopeo_tls_args(true))
        .arg(&layout)
        .arg(&remote));
    let pushed = std::fs::read_to_string(&digestfile).unwrap();
    assert_eq!(pushed.trim(), digest, "digest of the pushed manifest");

    let raw = sh(Command::new("skopeo")
        .arg("inspect")
        .args(reg.skopeo_args("--"))
        .arg(&remote));
    let inspected: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(inspected["Digest"], digest.as_str(), "{raw}");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 1, "{raw}");

    // Pull back by digest, through the source flags.
    let back = format!("oci:{}:back", d.path().join("back").display());
    sh(Command::new("skopeo")
        .args(["copy", "--quiet"])
        .args(reg.skopeo_tls_args(false))
        .arg(format!("docker://{}/harness/test@{digest}", reg.host))
        .arg(&back));
    let again = util::skopeo_inspect(&back);
    assert_eq!(again["Digest"], digest.as_str());
    remote
}

#[test]
fn plain_registry_round_trips_an_image() {
    let reg = Registry::plain();
    assert!(reg.ca_dir.is_none() && reg.creds.is_none());
    let remote = round_trip(&reg);

    // skopeo verifies TLS by default, and a plain registry has none.
    let err = inspect_fails(&[], &remote);
    assert!(
        err.contains("HTTP response to HTTPS client"),
        "unexpected error: {err}"
    );
}

#[test]
fn tls_registry_with_auth_round_trips_and_turns_strangers_away() {
    let reg = Registry::tls_with_auth();
    let ca_dir = reg.ca_dir.clone().expect("ca_dir");
    assert!(ca_dir.join("ca.crt").is_file());
    let (user, password) = reg.creds.clone().expect("creds");
    let remote = round_trip(&reg);

    // The CA but no credentials: the registry refuses.
    let err = inspect_fails(
        &["--cert-dir".into(), ca_dir.display().to_string()],
        &remote,
    );
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "unexpected error: {err}\nregistry log:\n{}",
        reg.log_tail()
    );

    // A wrong password: refused too.
    let err = inspect_fails(
        &[
            "--cert-dir".into(),
            ca_dir.display().to_string(),
            "--creds".into(),
            format!("{user}:not-{password}"),
        ],
        &remote,
    );
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "unexpected error: {err}"
    );

    // Credentials but not the CA: the certificate is not trusted.
    let err = inspect_fails(&["--creds".into(), format!("{user}:{password}")], &remote);
    assert!(
        err.contains("certificate signed by unknown authority"),
        "unexpected error: {err}"
    );
}
