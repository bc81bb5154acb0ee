//! Resource limits against hostile images: a decompression bomb, an entry
//! count bomb, absurd paths. Each stops with one error line that names the
//! limit's flag, leaves nothing behind, and raising the flag lets a run pass.

mod util;

use std::io::Write;
use std::process::{Command, Stdio};

use util::oci::{sample_tar, Layout, GZIP, TAR};
use util::*;

const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// A zstd layer holding one file of `size` zero bytes (a few hundred KB stored).
fn zstd_bomb(size: u64) -> Vec<u8> {
    zstd_entry(tar::EntryType::Regular, "zeros", size)
}

/// A zstd layer with one entry of `kind` whose data is `size` zero bytes.
fn zstd_entry(kind: tar::EntryType, name: &str, size: u64) -> Vec<u8> {
    let mut enc = zstd::Encoder::new(Vec::new(), 3).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    h.set_cksum();
    enc.write_all(h.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        enc.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    enc.write_all(&[0u8; 1024]).unwrap();
    enc.finish().unwrap()
}

/// Run slimify under an address-space limit; returns (exit code, stderr).
fn slimify_limited(args: &[&str], address_space: u64) -> (Option<i32>, String) {
    let out = Command::new("prlimit")
        .arg(format!("--as={address_space}"))
        .arg(env!("CARGO_BIN_EXE_slimify"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run prlimit");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_decompression_bomb_stops_at_the_ratio_guard_within_a_memory_limit() {
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), ZSTD);
    // 8 GiB of zeros in well under a megabyte.
    let bomb = zstd_bomb(8 << 30);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    l.replace_layer(&bomb);
    let out = d.path().join("out");
    let target = format!("oci:{}:x", out.display());
    let args = [
        l.reference(),
        "-o".into(),
        target.clone(),
        "--keep".into(),
        "/**".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, err) = slimify_limited(&args, 2 << 30);
    assert_eq!(code, Some(1), "{err}");
    assert_error_form(&err);
    assert!(
        err.contains("decompression bomb") && err.contains("--max-compression-ratio"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(leftovers(d.path()).is_empty());

    // Without the ratio guard, the total size limit still stops it.
    let mut more = args.clone();
    more.extend(["--max-compression-ratio", "0", "--max-image-size", "256M"]);
    let (code, err) = slimify_limited(&more, 2 << 30);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--max-image-size"), "{err}");
}

#[test]
fn a_gnu_long_name_of_gigabytes_is_refused_before_it_is_read() {
    // The tar crate reads a long name whole into memory; slimify's header
    // guard refuses it by its declared size, so even with the other guards
    // off it never has to fit in the 2 GiB the run may use.
    let d = tempfile::tempdir().unwrap();
    let mut l = Layout::new(&d.path().join("src"), &sample_tar(), ZSTD);
    l.replace_layer(&zstd_entry(
        tar::EntryType::GNULongName,
        "././@LongLink",
        3 << 30,
    ));
    let target = format!("oci:{}:x", d.path().join("out").display());
    let source = l.reference();
    let args = [
        source.as_str(),
        "-o",
        &target,
        "--keep",
        "/**",
        "--max-compression-ratio",
        "0",
    ];
    let (code, err) = slimify_limited(&args, 2 << 30);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("GNU long name") && err.contains("--max-path-length"),
        "{err}"
    );
    assert!(!d.path().join("out").exists());
}

/// A tar with an empty file at each path.
fn tar_of(paths: &[String]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for p in paths {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, p, std::io::empty()).unwrap();
    }
    b.into_inner().unwrap()
}

fn run_layout(tar: &[u8], media: &str, extra: &[&str]) -> std::process::Output {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(&d.path().join("src"), tar, media);
    let target = format!("oci:{}:x", d.path().join("out").display());
    let mut args = vec![
        l.reference(),
        "-o".into(),
        target,
        "--keep".into(),
        "/**".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    slimify(&args)
}

fn fails_naming(tar: &[u8], media: &str, extra: &[&str], flag: &str) {
    let out = run_layout(tar, media, extra);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_error_form(&err);
    assert!(err.contains(flag), "{err}");
}

#[test]
fn too_many_entries_too_long_and_too_deep_paths_name_their_flags() {
    let many: Vec<String> = (0..1000).map(|i| format!("f{i}")).collect();
    fails_naming(
        &tar_of(&many),
        GZIP,
        &["--max-entries", "100"],
        "--max-entries",
    );
    let out = run_layout(&tar_of(&many), GZIP, &["--max-entries", "1000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let long = vec![format!("{}/{}", "d".repeat(200), "n".repeat(200))];
    fails_naming(
        &tar_of(&long),
        TAR,
        &["--max-path-length", "300"],
        "--max-path-length",
    );

    let deep = vec!["d/".repeat(300) + "f"];
    fails_naming(&tar_of(&deep), TAR, &[], "--max-path-depth");
    let out = run_layout(&tar_of(&deep), TAR, &["--max-path-depth", "400"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
