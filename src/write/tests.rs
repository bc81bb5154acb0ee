//! The writer, checked by reading its output back with the same flattener.

use std::collections::HashMap;
use std::io::Read;

use indicatif::ProgressBar;

use super::write_layer;
use crate::blob::BlobFile;
use crate::image_path::ImagePath;
use crate::keep::{KeepGlobs, KeepSet, Reason};
use crate::layer::{index_layer, Kind};
use crate::rootfs::RootFs;
use crate::source::{Compression, LayerBlob};
use crate::testutil::{index_all, LayerBuilder};

fn rich_layers() -> Vec<Vec<u8>> {
    let cap: &[u8] = b"\x01\x00\x00\x02\x00\x04\x00\x00";
    vec![
        LayerBuilder::new()
            .dir("usr/bin", 0o755)
            .symlink("bin", "usr/bin")
            .file_with("usr/bin/su", b"setuid binary", 0o4755, 0, 0)
            .file_with_pax(
                "usr/bin/ping",
                b"cap binary",
                &[("SCHILY.xattr.security.capability", cap)],
            )
            .dir("tmp", 0o1777)
            .file("etc/old", b"removed later")
            .bytes(),
        LayerBuilder::new()
            .whiteout("etc/old")
            .hardlink("usr/bin/su-again", "usr/bin/su")
            .file_with(
                &format!("srv/{}/{}", "n".repeat(150), "file"),
                b"long",
                0o640,
                1234,
                5678,
            )
            .symlink("srv/dangling", &format!("/nowhere/{}", "x".repeat(120)))
            .fifo("run/ctl")
            .char_device("opt/null", 1, 3)
            .bytes(),
    ]
}

/// A comparable view of a filesystem: kind (offsets dropped), metadata,
/// content, and which paths share an inode.
fn view(fs: &RootFs) -> Vec<String> {
    let mut first_of_inode: HashMap<u64, String> = HashMap::new();
    fs.iter()
        .filter(|(p, _)| !p.is_root())
        .map(|(p, n)| {
            let kind = match &n.kind {
                Kind::File { .. } => {
                    let mut data = Vec::new();
                    fs.open(n).unwrap().read_to_end(&mut data).unwrap();
                    format!("file {:?}", String::from_utf8_lossy(&data))
                }
                other => format!("{other:?}"),
            };
            let group = first_of_inode
                .entry(n.inode)
                .or_insert_with(|| p.to_string())
                .clone();
            format!("{p} {kind} {:?} inode-of:{group}", n.meta)
        })
        .collect()
}

fn write_and_reread(
    fs: &RootFs,
    globs: &[&str],
    dir: &std::path::Path,
) -> (RootFs, super::WrittenLayer) {
    let globs: Vec<String> = globs.iter().map(|s| s.to_string()).collect();
    let keep = KeepGlobs::new("--keep", &globs).unwrap().select(fs);
    write_keep_and_reread(fs, &keep, dir)
}

fn write_keep_and_reread(
    fs: &RootFs,
    keep: &KeepSet,
    dir: &std::path::Path,
) -> (RootFs, super::WrittenLayer) {
    let out = tempfile::tempfile_in(dir).unwrap();
    let written = write_layer(fs, keep, out, 6, &ProgressBar::hidden()).unwrap();
    let blob = LayerBlob {
        blob: crate::source::Blob::Local(written.blob.clone()),
        compression: Compression::Gzip,
        digest: Some(written.digest.clone()),
        diff_id: written.diff_id.clone(),
    };
    let index = index_layer(
        0,
        &blob,
        dir,
        &ProgressBar::hidden(),
        &crate::limits::Budget::unlimited(),
    )
    .unwrap();
    (RootFs::from_layers(vec![index]).unwrap(), written)
}

#[test]
fn keeping_everything_reproduces_the_flattened_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &rich_layers(), true)).unwrap();
    let (back, _) = write_and_reread(&fs, &["/**"], dir.path());
    assert_eq!(view(&back), view(&fs));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &rich_layers(), false)).unwrap();
    let (_, a) = write_and_reread(&fs, &["/**"], dir.path());
    let (_, b) = write_and_reread(&fs, &["/**"], dir.path());
    assert_eq!(
        (a.digest.clone(), a.diff_id.clone()),
        (b.digest.clone(), b.diff_id.clone())
    );
    let read = |blob: &BlobFile| {
        let mut v = Vec::new();
        blob.reader().read_to_end(&mut v).unwrap();
        v
    };
    assert_eq!(read(&a.blob), read(&b.blob));
}

#[test]
fn a_partial_keep_keeps_parents_and_turns_a_lone_hard_link_into_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &rich_layers(), true)).unwrap();
    let (back, _) = write_and_reread(&fs, &["/usr/bin/su-again", "/tmp"], dir.path());
    let kept: Vec<&str> = back
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(kept, ["tmp", "usr", "usr/bin", "usr/bin/su-again"]);
    let su = back.get("usr/bin/su-again").unwrap();
    assert!(matches!(su.kind, Kind::File { size: 13, .. }));
    assert_eq!(su.meta.mode, 0o4755);
    assert_eq!(back.get("tmp").unwrap().meta.mode, 0o1777);
}

#[test]
fn a_replaced_file_gets_its_new_content_and_keeps_its_metadata_and_no_link() {
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &rich_layers(), true)).unwrap();
    let mut keep = KeepGlobs::new("--keep", &["/usr/**".to_string()])
        .unwrap()
        .select(&fs);
    let path = ImagePath::parse("usr/bin/su-again").unwrap();
    keep.replace(
        &path,
        b"trimmed".to_vec(),
        Reason::PackageMetadata("test".into()),
    );
    assert_eq!(keep.content_size(&fs), 7 + 13 + 10);
    let (back, _) = write_keep_and_reread(&fs, &keep, dir.path());
    let read = |p: &str| {
        let mut data = Vec::new();
        back.open(back.get(p).unwrap())
            .unwrap()
            .read_to_end(&mut data)
            .unwrap();
        data
    };
    assert_eq!(read("usr/bin/su-again"), b"trimmed");
    assert_eq!(read("usr/bin/su"), b"setuid binary");
    let (su, again) = (
        back.get("usr/bin/su").unwrap(),
        back.get("usr/bin/su-again").unwrap(),
    );
    assert_ne!(
        su.inode, again.inode,
        "new content is not a link to the old"
    );
    assert_eq!(again.meta.mode, 0o4755);
}
