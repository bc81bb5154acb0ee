//! Round trips through every transport. The flattened filesystem does not
//! change on the way, so every hop must write the very same layer bytes.

mod util;

use std::path::Path;

use util::*;

/// Slim with keep-all and return the output layer digest from the report.
fn hop(dir: &Path, name: &str, source: &str, target: &str) -> serde_json::Value {
    let report = dir.join(format!("{name}.json"));
    slimify_ok(&[
        source,
        "-o",
        target,
        "--keep",
        "/**",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

fn umoci_has_tag(layout: &Path, tag: &str) {
    let tags =
        sh(std::process::Command::new("umoci").args(["ls", "--layout", layout.to_str().unwrap()]));
    assert!(tags.lines().any(|t| t == tag), "umoci ls: {tags}");
}

#[test]
fn every_transport_reads_what_every_other_writes() {
    let fat = fixture("demo");
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let back = TempTag::new("round-trip");

    let first = hop(
        d.path(),
        "1",
        &format!("docker-daemon:{fat}"),
        &format!("oci:{}:slim", p("l1")),
    );
    skopeo_inspect(&format!("oci:{}:slim", p("l1")));
    umoci_has_tag(&d.path().join("l1"), "slim");

    let r2 = hop(
        d.path(),
        "2",
        &format!("oci:{}:slim", p("l1")),
        &format!("oci-archive:{}:two", p("a2.tar")),
    );
    skopeo_inspect(&format!("oci-archive:{}:two", p("a2.tar")));

    let r3 = hop(
        d.path(),
        "3",
        &format!("oci-archive:{}:two", p("a2.tar")),
        &format!("docker-archive:{}:{}", p("a3.tar"), back.0),
    );
    // A docker-archive must load into the engine as it is.
    let loaded = docker(&["load", "-i", &p("a3.tar")]);
    assert!(loaded.contains(&back.0), "docker load: {loaded}");

    let r4 = hop(
        d.path(),
        "4",
        &format!("docker-archive:{}", p("a3.tar")),
        &format!("oci:{}:four", p("l4")),
    );
    umoci_has_tag(&d.path().join("l4"), "four");

    let r5 = hop(d.path(), "5", &format!("oci:{}:four", p("l4")), &back.0);

    // The layer never changes; from hop 2 on (one source layer) neither does the manifest.
    for r in [&r2, &r3, &r4, &r5] {
        assert_eq!(r["layer_digest"], first["layer_digest"]);
        assert_eq!(r["manifest_digest"], r2["manifest_digest"]);
    }
    // And the image that came back through all of them is the fat image's filesystem.
    assert_same_lines("filesystems", &fsdump(&fat), &fsdump(&back.0));
}

#[test]
fn gzip_and_zstd_layouts_written_by_skopeo_give_the_same_layer() {
    let fat = fixture("demo");
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    let from_daemon = hop(d.path(), "daemon", &fat, &format!("oci:{}:a", p("out")));
    let again = hop(d.path(), "again", &fat, &format!("oci:{}:b", p("out")));
    assert_eq!(
        again["layer_digest"], from_daemon["layer_digest"],
        "not deterministic"
    );

    for (name, extra) in [
        ("gzip", vec![]),
        ("zstd", vec!["--dest-compress-format", "zstd"]),
    ] {
        let layout = format!("oci:{}:fat", p(name));
        sh(std::process::Command::new("skopeo")
            .args(["copy", "--quiet"])
            .args(&extra)
            .arg(format!("docker-daemon:{fat}"))
            .arg(&layout));
        let r = hop(d.path(), name, &layout, &format!("oci:{}:{name}", p("out")));
        assert_eq!(
            r["layer_digest"], from_daemon["layer_digest"],
            "{name} source"
        );
    }
    umoci_has_tag(&d.path().join("out"), "zstd");
    // Several tags in one layout: both remain readable.
    skopeo_inspect(&format!("oci:{}:a", p("out")));
    skopeo_inspect(&format!("oci:{}:gzip", p("out")));
}
