//! Flattening synthetic layers: each test is one rule of the OCI changeset
//! semantics or one tar format feature.

use std::io::Read;

use super::RootFs;
use crate::layer::Kind;
use crate::testutil::{index_all, layer_blob, LayerBuilder};

fn flatten(tars: Vec<Vec<u8>>) -> (RootFs, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &tars, true)).unwrap();
    (fs, dir)
}

fn content(fs: &RootFs, path: &str) -> Vec<u8> {
    let mut v = Vec::new();
    fs.open(fs.get(path).unwrap())
        .unwrap()
        .read_to_end(&mut v)
        .unwrap();
    v
}

fn paths(fs: &RootFs) -> Vec<&str> {
    fs.iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| !p.is_empty())
        .collect()
}

#[test]
fn whiteout_deletes_a_lower_file_and_a_whole_lower_tree() {
    let (fs, _d) = flatten(vec![
        LayerBuilder::new()
            .dir("etc", 0o755)
            .file("etc/keep", b"k")
            .file("etc/gone", b"g")
            .dir("var/cache/apt", 0o755)
            .file("var/cache/apt/pkg.bin", b"p")
            .bytes(),
        LayerBuilder::new()
            .whiteout("etc/gone")
            .whiteout("var/cache")
            .bytes(),
    ]);
    assert_eq!(paths(&fs), ["etc", "etc/keep", "var"]);
}

#[test]
fn whiteout_only_hides_lower_layers_not_its_own() {
    // A layer that deletes and recreates a path carries both the whiteout and the new file.
    let (fs, _d) = flatten(vec![
        LayerBuilder::new().file("a", b"old").bytes(),
        LayerBuilder::new().file("a", b"new").whiteout("a").bytes(),
    ]);
    assert_eq!(content(&fs, "a"), b"new");
}

#[test]
fn opaque_directory_hides_lower_children_but_keeps_its_own() {
    let (fs, _d) = flatten(vec![
        LayerBuilder::new()
            .dir("app", 0o755)
            .file("app/old1", b"1")
            .dir("app/sub", 0o755)
            .file("app/sub/old2", b"2")
            .file("appendix", b"sibling with a common prefix")
            .bytes(),
        LayerBuilder::new()
            .dir("app", 0o700)
            .file("app/new", b"n")
            .opaque("app")
            .bytes(),
    ]);
    assert_eq!(paths(&fs), ["app", "app/new", "appendix"]);
    assert_eq!(fs.get("app").unwrap().meta.mode, 0o700);
}

#[test]
fn hard_links_share_one_inode_also_across_layers() {
    let (fs, _d) = flatten(vec![
        LayerBuilder::new()
            .file_with("usr/bin/tool", b"ELF", 0o4755, 0, 0)
            .bytes(),
        LayerBuilder::new()
            .hardlink("usr/bin/tool-alias", "usr/bin/tool")
            .file("x", b"x")
            .hardlink("y", "x")
            .bytes(),
    ]);
    let a = fs.get("usr/bin/tool").unwrap();
    let b = fs.get("usr/bin/tool-alias").unwrap();
    assert_eq!(a.inode, b.inode);
    assert_eq!(
        b.meta.mode, 0o4755,
        "a hard link shares its inode's metadata"
    );
    assert_eq!(content(&fs, "usr/bin/tool-alias"), b"ELF");
    assert_eq!(fs.get("x").unwrap().inode, fs.get("y").unwrap().inode);
}

#[test]
fn rewriting_one_name_of_a_hard_link_breaks_the_link() {
    let (fs, _d) = flatten(vec![
        LayerBuilder::new()
            .file("a", b"1")
            .hardlink("b", "a")
            .bytes(),
        LayerBuilder::new().file("b", b"2").bytes(),
    ]);
    assert_ne!(fs.get("a").unwrap().inode, fs.get("b").unwrap().inode);
    assert_eq!(content(&fs, "a"), b"1");
    assert_eq!(content(&fs, "b"), b"2");
}

#[test]
fn hard_link_to_a_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let layers = index_all(
        dir.path(),
        &[LayerBuilder::new().hardlink("b", "nowhere").bytes()],
        false,
    );
    let err = crate::error::one_line(&RootFs::from_layers(layers).err().unwrap());
    assert!(
        err.contains("hard link") && err.contains("nowhere"),
        "{err}"
    );
}

#[test]
fn xattrs_modes_owners_and_special_files_survive() {
    let cap: &[u8] = b"\x01\x00\x00\x02\x00\x04\x00\x00";
    let (fs, _d) = flatten(vec![LayerBuilder::new()
        .file_with_pax(
            "bin/ping",
            b"ELF",
            &[("SCHILY.xattr.security.capability", cap)],
        )
        .file_with("home/u/secret", b"s", 0o600, 1234, 5678)
        .dir("tmp", 0o1777)
        .fifo("run/fifo")
        .char_device("opt/null", 1, 3)
        .bytes()]);
    let ping = fs.get("bin/ping").unwrap();
    assert_eq!(
        ping.meta.xattrs,
        vec![("security.capability".to_string(), cap.to_vec())]
    );
    let secret = fs.get("home/u/secret").unwrap();
    assert_eq!(
        (secret.meta.mode, secret.meta.uid, secret.meta.gid),
        (0o600, 1234, 5678)
    );
    assert_eq!(fs.get("tmp").unwrap().meta.mode, 0o1777);
    assert_eq!(fs.get("run/fifo").unwrap().kind, Kind::Fifo);
    assert_eq!(
        fs.get("opt/null").unwrap().kind,
        Kind::CharDevice { major: 1, minor: 3 }
    );
    // Parents a layer never lists exist as plain directories.
    assert_eq!(fs.get("run").unwrap().kind, Kind::Dir);
}

#[test]
fn long_names_in_gnu_and_pax_form() {
    let long_dir = "d".repeat(120);
    let long_file = format!("{long_dir}/{}", "f".repeat(200));
    let long_target = format!("/{}", "t".repeat(150));
    let (fs, _d) = flatten(vec![LayerBuilder::new()
        .file(&long_file, b"gnu long name")
        .file_with_pax(
            "short",
            b"pax path",
            &[("path", format!("{long_dir}/pax-named").as_bytes())],
        )
        .symlink("link", &long_target)
        .bytes()]);
    assert_eq!(content(&fs, &long_file), b"gnu long name");
    assert_eq!(content(&fs, &format!("{long_dir}/pax-named")), b"pax path");
    assert_eq!(fs.get("link").unwrap().kind, Kind::Symlink(long_target));
}

#[test]
fn a_parent_named_through_a_symlink_resolves_inside_the_image() {
    // usrmerge: /bin -> usr/bin; a later layer writes bin/tool.
    let (fs, _d) = flatten(vec![
        LayerBuilder::new()
            .dir("usr/bin", 0o755)
            .symlink("bin", "usr/bin")
            .bytes(),
        LayerBuilder::new().file("bin/tool", b"t").bytes(),
    ]);
    assert!(fs.get("bin/tool").is_none());
    assert_eq!(content(&fs, "usr/bin/tool"), b"t");
    assert_eq!(
        fs.lookup("bin/tool", true)
            .unwrap()
            .as_ref()
            .map(|p| p.as_str()),
        Some("usr/bin/tool")
    );
}

#[test]
fn absolute_and_dotdot_symlinks_never_leave_the_root() {
    let (fs, _d) = flatten(vec![LayerBuilder::new()
        .file("etc/passwd", b"root:x:0:0")
        .symlink("a/up", "../../../../etc")
        .symlink("abs", "/etc/passwd")
        .bytes()]);
    assert_eq!(
        fs.lookup("a/up/passwd", true)
            .unwrap()
            .as_ref()
            .map(|p| p.as_str()),
        Some("etc/passwd")
    );
    assert_eq!(
        fs.lookup("abs", true).unwrap().as_ref().map(|p| p.as_str()),
        Some("etc/passwd")
    );
    assert_eq!(
        fs.lookup("abs", false)
            .unwrap()
            .as_ref()
            .map(|p| p.as_str()),
        Some("abs")
    );
}

#[test]
fn symlink_loops_are_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let layers = index_all(
        dir.path(),
        &[
            LayerBuilder::new()
                .symlink("a", "b")
                .symlink("b", "a")
                .bytes(),
            LayerBuilder::new().file("a/x", b"x").bytes(),
        ],
        false,
    );
    let err = crate::error::one_line(&RootFs::from_layers(layers).err().unwrap());
    assert!(err.contains("too many levels of symbolic links"), "{err}");
}

#[test]
fn a_file_replaces_a_directory_and_the_other_way_round() {
    let (fs, _d) = flatten(vec![
        LayerBuilder::new()
            .file("x/inner", b"i")
            .file("y", b"y")
            .bytes(),
        LayerBuilder::new()
            .file("x", b"now a file")
            .dir("y", 0o755)
            .file("y/z", b"z")
            .bytes(),
    ]);
    assert_eq!(paths(&fs), ["x", "y", "y/z"]);
}

#[test]
fn dotdot_entries_are_refused_with_the_layer_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = LayerBuilder::new().file("placeholder-name", b"x").bytes();
    // Rewrite the name in place: the tar crate refuses to build such an entry.
    raw[..16].copy_from_slice(b"../../etc/passwd");
    let mut h = tar::Header::from_byte_slice(&raw[..512]).clone();
    h.set_cksum();
    raw[..512].copy_from_slice(h.as_bytes());
    let blob = layer_blob(dir.path(), 0, &raw, false);
    let err = crate::layer::index_layer(
        0,
        &blob,
        dir.path(),
        &indicatif::ProgressBar::hidden(),
        &crate::limits::Budget::unlimited(),
    )
    .err()
    .map(|e| crate::error::one_line(&e))
    .unwrap();
    assert!(err.contains("layer 0") && err.contains(".."), "{err}");
}
