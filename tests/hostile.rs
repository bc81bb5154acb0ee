//! Crafted images that try to escape (SECURITY.md): tar entries with `..`,
//! absolute paths, hard links out of the root, symlinks pointing out of the
//! root followed by writes through them, whiteouts naming `..`, index cycles,
//! wrong media types, truncated zstd. Each is refused with its own error, or
//! neutralised: the image's filesystem is virtual, so nothing lands on the host.

mod util;

use std::path::Path;

use serde_json::json;
use util::oci::{sample_tar, Layout, GZIP, TAR};
use util::*;

/// One raw tar entry; the header is written by hand, so `..` and absolute
/// names go in exactly as a hostile builder would write them.
fn raw(name: &str, kind: tar::EntryType, link: &str, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(kind);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn tar_of(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut t: Vec<u8> = entries.concat();
    t.extend_from_slice(&[0u8; 1024]);
    t
}

fn layout(dir: &Path, tar: &[u8]) -> Layout {
    Layout::new(&dir.join("src"), tar, TAR)
}

/// Slim the layout into `dir/out`; returns (success, stderr).
fn run(l: &Layout, dir: &Path) -> (bool, String) {
    let target = format!("oci:{}:x", dir.join("out").display());
    let out = slimify(&[&l.reference(), "-o", &target, "--keep", "/**"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn refused(tar: &[u8], expect: &str) {
    let d = tempfile::tempdir().unwrap();
    let (ok, err) = run(&layout(d.path(), tar), d.path());
    assert!(!ok, "accepted; expected an error with {expect:?}");
    assert_error_form(&err);
    assert!(err.contains(expect), "{err}");
    assert!(!d.path().join("out").exists());
    assert!(leftovers(d.path()).is_empty());
}

#[test]
fn dotdot_entries_hard_links_out_of_the_root_and_dotdot_whiteouts_are_refused() {
    use tar::EntryType::{Link, Regular};
    let file = |n: &str| raw(n, Regular, "", b"x");
    refused(&tar_of(&[file("../../escaped")]), "'..' component");
    refused(&tar_of(&[file("a/../../escaped")]), "'..' component");
    refused(
        &tar_of(&[
            file("etc/passwd"),
            raw("stolen", Link, "../../etc/shadow", b""),
        ]),
        "'..' component",
    );
    refused(&tar_of(&[file("a/.wh..."), file("b")]), "names \"..\"");
}

#[test]
fn absolute_names_and_symlinks_out_of_the_root_stay_inside_the_image() {
    use tar::EntryType::{Regular, Symlink};
    let marker = format!("slimify-escape-{}", std::process::id());
    let tar = tar_of(&[
        raw(&format!("/tmp/{marker}-abs"), Regular, "", b"absolute"),
        raw("up", Symlink, "../../../../../../tmp", b""),
        raw(
            &format!("up/{marker}-through-link"),
            Regular,
            "",
            b"through",
        ),
        raw("root", Symlink, "/", b""),
        raw(
            &format!("root/tmp/{marker}-through-root"),
            Regular,
            "",
            b"root",
        ),
    ]);
    let d = tempfile::tempdir().unwrap();
    let l = layout(d.path(), &tar);
    let (ok, err) = run(&l, d.path());
    assert!(ok, "{err}");
    for name in ["abs", "through-link", "through-root"] {
        let host = Path::new("/tmp").join(format!("{marker}-{name}"));
        assert!(!host.exists(), "{} was written on the host", host.display());
    }
    // Inside the image they all resolved to its own /tmp.
    let explain = slimify(&[
        "explain",
        &l.reference(),
        &format!("/tmp/{marker}-through-link"),
        "--keep",
        "/**",
    ]);
    assert!(
        explain.status.success(),
        "{}",
        String::from_utf8_lossy(&explain.stdout)
    );
}

#[test]
fn an_index_cycle_a_wrong_media_type_and_truncated_zstd() {
    // An index can name itself only through a chain (digests make a true
    // self-reference impossible): a chain deeper than any real one is refused.
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), &sample_tar(), GZIP);
    let manifest = serde_json::to_vec(&l.manifest).unwrap();
    let mut child = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": l.put(&manifest).to_string(), "size": manifest.len()});
    for _ in 0..12 {
        let index = serde_json::to_vec(&json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [child]}))
        .unwrap();
        child = json!({"mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": l.put(&index).to_string(), "size": index.len()});
    }
    child["annotations"] = json!({"org.opencontainers.image.ref.name": "t"});
    std::fs::write(
        l.dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [child]})).unwrap(),
    )
    .unwrap();
    let (ok, err) = run(&l, d.path());
    assert!(!ok && err.contains("nesting deeper than"), "{err}");

    // A manifest whose layer claims to be a config blob.
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), TAR);
    l.manifest["layers"][0]["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
    l.save_manifest();
    let (ok, err) = run(&l, d.path());
    assert!(!ok && err.contains("unsupported media type"), "{err}");

    // A zstd layer cut in half.
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), TAR);
    let z = zstd::encode_all(&sample_tar()[..], 3).unwrap();
    l.manifest["layers"][0]["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+zstd");
    l.replace_layer(&z[..z.len() / 2]);
    let (ok, err) = run(&l, d.path());
    assert!(!ok && err.contains("layer 0"), "{err}");
    assert_error_form(&err);
}
