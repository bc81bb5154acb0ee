use serde_json::Value;

use super::*;
use crate::keep::Reason;
use crate::testutil::{index_all, LayerBuilder};

/// Two npm installs of the same package, a file of no package, and a
/// replaced file: what the documents must get right.
fn documents() -> (Value, Value) {
    let layer = LayerBuilder::new()
        .file(
            "a/node_modules/ms/package.json",
            br#"{"name":"ms","version":"2.1.3"}"#,
        )
        .file("a/node_modules/ms/index.js", b"one")
        .file(
            "b/node_modules/ms/package.json",
            br#"{"name":"ms","version":"2.1.3"}"#,
        )
        .file("b/node_modules/ms/index.js", b"two")
        .file("etc/hostname", b"slim\n")
        .file("etc/trimmed", b"long original content");
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &[layer.bytes()], false)).unwrap();
    let mut keep = KeepSet::default();
    for p in [
        "a/node_modules/ms/index.js",
        "b/node_modules/ms/index.js",
        "etc/hostname",
    ] {
        keep.insert(&ImagePath::parse(p).unwrap(), Reason::Root("test".into()));
    }
    let trimmed = ImagePath::parse("etc/trimmed").unwrap();
    keep.replace(
        &trimmed,
        b"short".to_vec(),
        Reason::PackageMetadata("t".into()),
    );
    keep.add_parents();
    let packages = Packages::read(&fs, &keep);
    let subject = Subject {
        name: "oci:out:slim",
        digest: "sha256:0123",
    };
    let inv = inventory(&fs, &keep, &packages, &subject).unwrap();
    let created = "2026-12-03T00:00:00Z";
    (
        serde_json::to_value(cyclonedx::document(&inv, created)).unwrap(),
        serde_json::to_value(spdx::document(&inv, created)).unwrap(),
    )
}

fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

#[test]
fn cyclonedx_nests_kept_files_in_their_package_with_unique_refs() {
    let (bom, _) = documents();
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["metadata"]["component"]["type"], "container");
    assert_eq!(bom["metadata"]["component"]["version"], "sha256:0123");
    let components = bom["components"].as_array().unwrap();
    let libraries: Vec<&Value> = components
        .iter()
        .filter(|c| c["type"] == "library")
        .collect();
    assert_eq!(libraries.len(), 2, "two installs of ms@2.1.3");
    assert_eq!(libraries[0]["bom-ref"], "pkg:npm/ms@2.1.3");
    assert_eq!(libraries[1]["bom-ref"], "pkg:npm/ms@2.1.3#2");
    let file = &libraries[0]["components"][0];
    assert_eq!(file["name"], "/a/node_modules/ms/index.js");
    assert_eq!(file["hashes"][0]["alg"], "SHA-256");
    assert_eq!(file["hashes"][0]["content"], sha256_hex(b"one"));
    let loose: Vec<&str> = components
        .iter()
        .filter(|c| c["type"] == "file")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(loose, ["/etc/hostname", "/etc/trimmed"]);
    let trimmed = components
        .iter()
        .find(|c| c["name"] == "/etc/trimmed")
        .unwrap();
    assert_eq!(
        trimmed["hashes"][0]["content"],
        sha256_hex(b"short"),
        "the slim content"
    );
    let depends = bom["dependencies"][0]["dependsOn"].as_array().unwrap();
    assert_eq!(depends.len(), 2);
}

#[test]
fn spdx_relates_image_packages_and_files() {
    let (_, doc) = documents();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(packages[0]["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(
        packages[1]["externalRefs"][0]["referenceLocator"],
        "pkg:npm/ms@2.1.3"
    );
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    assert_eq!(files[0]["fileName"], "./a/node_modules/ms/index.js");
    assert_eq!(files[0]["checksums"][0]["algorithm"], "SHA1");
    let rel: Vec<String> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["spdxElementId"].as_str().unwrap(),
                r["relationshipType"].as_str().unwrap(),
                r["relatedSpdxElement"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        rel,
        [
            "SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image",
            "SPDXRef-Image CONTAINS SPDXRef-Package-npm-0",
            "SPDXRef-Package-npm-0 CONTAINS SPDXRef-File-0",
            "SPDXRef-Image CONTAINS SPDXRef-Package-npm-1",
            "SPDXRef-Package-npm-1 CONTAINS SPDXRef-File-1",
            "SPDXRef-Image CONTAINS SPDXRef-File-2",
            "SPDXRef-Image CONTAINS SPDXRef-File-3",
        ]
    );
}

#[test]
fn serial_numbers_are_version_4_uuids() {
    let u = uuid_from("x");
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    assert!("89ab".contains(&u[19..20]));
    assert_ne!(uuid_from("x"), uuid_from("y"));
}
