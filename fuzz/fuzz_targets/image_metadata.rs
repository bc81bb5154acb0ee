//! The OCI layout reader: index.json, a manifest (or nested index) and a
//! config, separated by `\xffPART\xff`. `@A`/`@SA` in the index and
//! `@B`/`@SB` in the second part become the digest and size of the part they
//! name, so mutations keep their references resolvable.
#![no_main]

#[path = "common.rs"]
mod common;

use slimify::internals::{open_source, Digest, Want};
use slimify::ImageRef;

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let parts = common::split(data, from);
    parts.join(to)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let parts = common::split(data, b"\xffPART\xff");
    let part = |i: usize| parts.get(i).copied().unwrap_or(b"");
    let b = part(2).to_vec();
    let db = Digest::of(&b);
    let a = replace(part(1), b"@SB", b.len().to_string().as_bytes());
    let a = replace(&a, b"@B", db.to_string().as_bytes());
    let da = Digest::of(&a);
    let index = replace(part(0), b"@SA", a.len().to_string().as_bytes());
    let index = replace(&index, b"@A", da.to_string().as_bytes());

    let dir = common::scratch().join("layout");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(dir.join("index.json"), &index).unwrap();
    std::fs::write(dir.join("blobs/sha256").join(da.hex()), &a).unwrap();
    std::fs::write(dir.join("blobs/sha256").join(db.hex()), &b).unwrap();
    let spool = common::scratch().join("spool");
    let _ = std::fs::create_dir_all(&spool);
    for tag in [None, Some("t".to_string())] {
        let _ = open_source(
            &ImageRef::Oci {
                dir: dir.clone(),
                tag,
            },
            &spool,
            &Default::default(),
            &Want::All,
            false,
        );
    }
});
