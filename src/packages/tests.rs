use super::*;
use crate::keep::Reason;
use crate::testutil::{index_all, LayerBuilder};

fn fs_of(layer: LayerBuilder) -> (tempfile::TempDir, RootFs) {
    let dir = tempfile::tempdir().unwrap();
    let fs = RootFs::from_layers(index_all(dir.path(), &[layer.bytes()], false)).unwrap();
    (dir, fs)
}

fn keep_of(paths: &[&str]) -> KeepSet {
    let mut keep = KeepSet::default();
    for p in paths {
        keep.insert(&ImagePath::parse(p).unwrap(), Reason::Root("test".into()));
    }
    keep.add_parents();
    keep
}

/// The kept paths, and the content of those that were replaced.
fn content(fs: &RootFs, keep: &KeepSet, path: &str) -> Option<String> {
    if !keep.contains(path) {
        return None;
    }
    let bytes = match keep.replacement(path) {
        Some(r) => r.to_vec(),
        None => fs.read(path).map(|(_, b)| b).unwrap_or_default(),
    };
    Some(String::from_utf8(bytes).unwrap())
}

fn kept_labels(p: &Packages, keep: &KeepSet) -> Vec<String> {
    p.kept(keep)
        .into_iter()
        .map(|(pkg, _)| format!("{} {}", pkg.ecosystem.name(), pkg.label()))
        .collect()
}

#[test]
fn dpkg_and_apk_databases_name_the_owner_through_usrmerge_links() {
    let layer = LayerBuilder::new()
        .symlink("lib", "usr/lib")
        .file("usr/lib/x86_64-linux-gnu/libc.so.6", b"elf")
        .file("usr/bin/dash", b"elf")
        .file(
            "var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\nDescription: GNU C Library\n multi-line\n\nPackage: dash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.5.12-2\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
        )
        .file("var/lib/dpkg/info/libc6:amd64.list", b"/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n")
        .file("var/lib/dpkg/info/dash.list", b"/usr/bin/dash\n")
        .file("sbin/apk-owned", b"x")
        .file("lib/apk/db/installed", b"C:Q1abc\nP:busybox\nV:1.36.1-r5\nA:x86_64\nF:sbin\nR:apk-owned\n\n");
    let (_dir, fs) = fs_of(layer);
    let p = Packages::read(&fs, &KeepSet::default());
    let name = |path: &str| p.owner(path).map(Package::label);
    assert_eq!(
        name("usr/lib/x86_64-linux-gnu/libc.so.6").as_deref(),
        Some("libc6 2.36-9")
    );
    assert_eq!(name("usr/bin/dash").as_deref(), Some("dash 0.5.12-2"));
    assert_eq!(name("sbin/apk-owned").as_deref(), Some("busybox 1.36.1-r5"));
    // /lib is a directory to libc6: the image's link to usr/lib is no file of it.
    assert_eq!(name("lib"), None);
    assert_eq!(name("usr/lib"), None);
    assert_eq!(
        p.owner("sbin/apk-owned").unwrap().purl(),
        "pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64"
    );
}

fn debian() -> LayerBuilder {
    LayerBuilder::new()
        .symlink("lib", "usr/lib")
        .file("usr/lib/x86_64-linux-gnu/libc.so.6", b"elf")
        .file("usr/lib/x86_64-linux-gnu/libm.so.6", b"elf-m")
        .file("usr/bin/dash", b"elf")
        .file("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("etc/debian_version", b"12.4\n")
        .file(
            "var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9\nDescription: GNU C Library\n multi-line\n\nPackage: dash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.5.12-2\n\nPackage: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4\n\nPackage: libc6-base\nStatus: install ok installed\nArchitecture: all\nVersion: 2.36-9\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
        )
        .file("var/lib/dpkg/info/format", b"1\n")
        .file(
            "var/lib/dpkg/info/libc6-base.list",
            b"/usr/share/doc/libc6-base/copyright\n",
        )
        .file(
            "var/lib/dpkg/info/libc6:amd64.list",
            b"/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n/lib/x86_64-linux-gnu/libm.so.6\n/usr/share/doc/libc6\n",
        )
        .file(
            "var/lib/dpkg/info/libc6:amd64.md5sums",
            b"aaa  lib/x86_64-linux-gnu/libc.so.6\nbbb  lib/x86_64-linux-gnu/libm.so.6\n",
        )
        .file("var/lib/dpkg/info/libc6:amd64.postinst", b"#!/bin/sh\n")
        .file("usr/share/doc/libc6-base/copyright", b"GNU Lesser General Public License")
        .symlink("usr/share/doc/libc6", "libc6-base")
        .file("usr/share/doc/dash/copyright", b"BSD")
        .file(
            "var/lib/dpkg/info/dash.list",
            b"/.\n/usr\n/usr/bin\n/usr/bin/dash\n/usr/share/doc/dash/copyright\n",
        )
        .file(
            "var/lib/dpkg/info/base-files.list",
            b"/etc/debian_version\n/etc/os-release\n/usr/lib/os-release\n",
        )
}

#[test]
fn dpkg_metadata_is_trimmed_to_kept_packages_and_their_kept_files() {
    let (_dir, fs) = fs_of(debian());
    let mut keep = keep_of(&["lib", "usr/lib/x86_64-linux-gnu/libc.so.6"]);
    let packages = Packages::read(&fs, &keep);
    let warnings = keep_metadata(&fs, &mut keep, &packages);
    assert!(warnings.is_empty(), "{warnings:?}");
    // base-files is kept for the release files that name the distribution,
    // libc6-base for the copyright file libc6's doc directory links to.
    assert_eq!(
        kept_labels(&packages, &keep),
        [
            "deb base-files 12.4",
            "deb libc6 2.36-9",
            "deb libc6-base 2.36-9"
        ]
    );
    let status = content(&fs, &keep, "var/lib/dpkg/status").unwrap();
    assert!(status.starts_with("Package: libc6\nStatus: install ok installed\n"));
    assert!(status.contains("Source: glibc\n") && status.contains(" multi-line\n"));
    assert!(status.contains("\n\nPackage: base-files\n"), "{status}");
    assert!(status.contains("\n\nPackage: libc6-base\n"), "{status}");
    assert!(
        !status.contains("dash") && !status.contains("gone"),
        "{status}"
    );
    assert_eq!(
        content(&fs, &keep, "var/lib/dpkg/info/libc6:amd64.list").unwrap(),
        "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6\n"
    );
    assert!(keep.contains("usr/share/doc/libc6-base/copyright"));
    assert!(keep.contains("usr/share/doc/libc6"), "the link on the way");
    assert!(!keep.contains("usr/share/doc/dash/copyright"));
    assert_eq!(
        content(&fs, &keep, "var/lib/dpkg/info/libc6:amd64.md5sums").unwrap(),
        "aaa  lib/x86_64-linux-gnu/libc.so.6\n"
    );
    for dropped in [
        "var/lib/dpkg/info/dash.list",
        "var/lib/dpkg/info/libc6:amd64.postinst",
    ] {
        assert!(!keep.contains(dropped), "{dropped}");
    }
    for kept in [
        "var/lib/dpkg/info/format",
        "etc/os-release",
        "usr/lib/os-release",
        "etc/debian_version",
    ] {
        assert!(keep.contains(kept), "{kept}");
    }
    let libc = packages
        .owner("usr/lib/x86_64-linux-gnu/libc.so.6")
        .unwrap();
    assert_eq!(
        libc.purl(),
        "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12"
    );
}

#[test]
fn an_image_of_no_package_gets_no_database() {
    let (_dir, fs) = fs_of(debian().file("app/server", b"static"));
    let mut keep = keep_of(&["app/server"]);
    let packages = Packages::read(&fs, &keep);
    keep_metadata(&fs, &mut keep, &packages);
    assert!(packages.kept(&keep).is_empty());
    assert_eq!(keep.paths().count(), 2, "app and app/server only");
}

#[test]
fn distroless_status_d_keeps_each_kept_package_file_and_trims_its_md5sums() {
    let layer = LayerBuilder::new()
        .file("usr/lib/libc.so.6", b"elf")
        .file("usr/lib/libm.so.6", b"elf")
        .file("usr/lib/libssl.so.3", b"elf")
        .file(
            "var/lib/dpkg/status.d/libc6",
            b"Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n",
        )
        .file(
            "var/lib/dpkg/status.d/libc6.md5sums",
            b"aaa  usr/lib/libc.so.6\nbbb  usr/lib/libm.so.6\n",
        )
        .file(
            "var/lib/dpkg/status.d/libssl3",
            b"Package: libssl3\nVersion: 3.0\nArchitecture: amd64\n",
        )
        .file(
            "var/lib/dpkg/status.d/libssl3.md5sums",
            b"ccc  usr/lib/libssl.so.3\n",
        );
    let (_dir, fs) = fs_of(layer);
    let mut keep = keep_of(&["usr/lib/libc.so.6"]);
    let packages = Packages::read(&fs, &keep);
    keep_metadata(&fs, &mut keep, &packages);
    assert_eq!(kept_labels(&packages, &keep), ["deb libc6 2.36-9"]);
    assert!(content(&fs, &keep, "var/lib/dpkg/status.d/libc6")
        .unwrap()
        .starts_with("Package: libc6\n"));
    assert_eq!(
        content(&fs, &keep, "var/lib/dpkg/status.d/libc6.md5sums").unwrap(),
        "aaa  usr/lib/libc.so.6\n"
    );
    assert!(!keep.contains("var/lib/dpkg/status.d/libssl3"));
    assert!(!keep.contains("var/lib/dpkg/status"));
}

#[test]
fn python_distributions_own_their_record_and_keep_metadata_when_kept() {
    let site = "opt/venv/lib/python3.11/site-packages";
    let layer = LayerBuilder::new()
        .file(&format!("{site}/idna/__init__.py"), b"")
        .file(&format!("{site}/idna/codec.py"), b"")
        .file(
            &format!("{site}/idna-3.10.dist-info/METADATA"),
            b"Metadata-Version: 2.1\nName: idna\nVersion: 3.10\n\nName: not-a-header\n",
        )
        .file(&format!("{site}/idna-3.10.dist-info/INSTALLER"), b"pip\n")
        .file(
            &format!("{site}/idna-3.10.dist-info/RECORD"),
            b"idna/__init__.py,sha256=x,0\nidna/codec.py,sha256=y,0\nidna-3.10.dist-info/METADATA,,\nidna-3.10.dist-info/INSTALLER,,\nidna-3.10.dist-info/RECORD,,\n../../../bin/idna-cli,sha256=z,0\n/usr/share/idna/data.txt,,\n",
        )
        .file("usr/share/idna/data.txt", b"data")
        .file("opt/venv/bin/idna-cli", b"#!/opt/venv/bin/python\n")
        .file(&format!("{site}/tomli/__init__.py"), b"")
        .file(
            &format!("{site}/Tomli-2.0.2.dist-info/METADATA"),
            b"Name: Tomli\nVersion: 2.0.2\n",
        )
        .file(
            &format!("{site}/Tomli-2.0.2.dist-info/RECORD"),
            b"tomli/__init__.py,,\n",
        );
    let (_dir, fs) = fs_of(layer);
    let mut keep = keep_of(&[&format!("{site}/idna/__init__.py"), "opt/venv/bin/idna-cli"]);
    let packages = Packages::read(&fs, &keep);
    assert_eq!(
        packages
            .owner("opt/venv/bin/idna-cli")
            .map(Package::purl)
            .as_deref(),
        Some("pkg:pypi/idna@3.10")
    );
    assert_eq!(
        packages
            .owner(&format!("{site}/tomli/__init__.py"))
            .map(Package::purl)
            .as_deref(),
        Some("pkg:pypi/tomli@2.0.2")
    );
    keep_metadata(&fs, &mut keep, &packages);
    assert_eq!(kept_labels(&packages, &keep), ["pypi idna 3.10"]);
    assert!(keep.contains(&format!("{site}/idna-3.10.dist-info/METADATA")));
    assert!(keep.contains(&format!("{site}/idna-3.10.dist-info/INSTALLER")));
    assert_eq!(
        content(&fs, &keep, &format!("{site}/idna-3.10.dist-info/RECORD")).unwrap(),
        "idna/__init__.py,sha256=x,0\nidna-3.10.dist-info/METADATA,,\nidna-3.10.dist-info/INSTALLER,,\nidna-3.10.dist-info/RECORD,,\n../../../bin/idna-cli,sha256=z,0\n"
    );
    assert!(!keep.contains(&format!("{site}/Tomli-2.0.2.dist-info/METADATA")));
}

#[test]
fn npm_packages_own_their_directory_up_to_a_nested_package() {
    let layer = LayerBuilder::new()
        .file("app/package.json", br#"{"name":"app","version":"1.0.0"}"#)
        .file("app/index.js", b"")
        .file(
            "app/node_modules/@scope/pkg/package.json",
            br#"{"name":"@scope/pkg","version":"2.0.0"}"#,
        )
        .file("app/node_modules/@scope/pkg/lib/x.js", b"")
        .file(
            "app/node_modules/@scope/pkg/node_modules/ms/package.json",
            br#"{"name":"ms","version":"2.1.3"}"#,
        )
        .file("app/node_modules/@scope/pkg/node_modules/ms/index.js", b"")
        .file(
            "app/node_modules/@scope/pkg/dist/package.json",
            br#"{"type":"module"}"#,
        )
        .file("app/node_modules/.package-lock.json", b"{}");
    let (_dir, fs) = fs_of(layer);
    let mut keep = keep_of(&["app/node_modules/@scope/pkg/node_modules/ms/index.js"]);
    let packages = Packages::read(&fs, &keep);
    let owner = |p: &str| packages.owner(p).map(Package::purl);
    assert_eq!(
        owner("app/node_modules/@scope/pkg/node_modules/ms/index.js").as_deref(),
        Some("pkg:npm/ms@2.1.3")
    );
    assert_eq!(
        owner("app/node_modules/@scope/pkg/lib/x.js").as_deref(),
        Some("pkg:npm/%40scope/pkg@2.0.0")
    );
    assert_eq!(
        owner("app/node_modules/@scope/pkg/dist/package.json").as_deref(),
        Some("pkg:npm/%40scope/pkg@2.0.0")
    );
    assert_eq!(owner("app/index.js").as_deref(), Some("pkg:npm/app@1.0.0"));
    assert_eq!(owner("app/node_modules/.package-lock.json"), None);
    keep_metadata(&fs, &mut keep, &packages);
    assert_eq!(kept_labels(&packages, &keep), ["npm ms 2.1.3"]);
    assert!(keep.contains("app/node_modules/@scope/pkg/node_modules/ms/package.json"));
    assert!(!keep.contains("app/node_modules/@scope/pkg/package.json"));
}

fn jar(poms: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("META-INF/MANIFEST.MF", opts).unwrap();
    zip.write_all(b"Manifest-Version: 1.0\n").unwrap();
    for (i, pom) in poms.iter().enumerate() {
        zip.start_file(format!("META-INF/maven/g{i}/a{i}/pom.properties"), opts)
            .unwrap();
        zip.write_all(pom.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn a_kept_jar_is_every_maven_package_its_pom_properties_name() {
    let shaded = jar(&[
        "#Generated\nversion=3.14.0\ngroupId=org.apache.commons\nartifactId=commons-lang3\n",
        "groupId = com.example\nartifactId = inner\nversion = 1.0\n",
    ]);
    let layer = LayerBuilder::new().file("app/app.jar", &shaded).file(
        "app/unused.jar",
        &jar(&["groupId=x\nartifactId=y\nversion=1\n"]),
    );
    let (_dir, fs) = fs_of(layer);
    let keep = keep_of(&["app/app.jar"]);
    let packages = Packages::read(&fs, &keep);
    let purls: Vec<String> = packages
        .kept(&keep)
        .into_iter()
        .map(|(p, _)| p.purl())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:maven/com.example/inner@1.0",
            "pkg:maven/org.apache.commons/commons-lang3@3.14.0"
        ]
    );
    assert_eq!(
        packages.owner("app/unused.jar"),
        None,
        "an unkept jar is not read"
    );
}

#[test]
fn an_rpm_database_is_kept_whole_with_a_warning() {
    let layer = LayerBuilder::new()
        .file("usr/bin/app", b"elf")
        .file("var/lib/rpm/rpmdb.sqlite", b"SQLite format 3")
        .file("etc/os-release", b"ID=fedora\nVERSION_ID=40\n");
    let (_dir, fs) = fs_of(layer);
    let mut keep = keep_of(&["usr/bin/app"]);
    let packages = Packages::read(&fs, &keep);
    let warnings = keep_metadata(&fs, &mut keep, &packages);
    assert!(keep.contains("var/lib/rpm/rpmdb.sqlite"));
    assert!(keep.contains("etc/os-release"));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("RPM database /var/lib/rpm is kept whole"),
        "{warnings:?}"
    );
}

#[test]
fn a_record_kept_already_stays_as_the_image_has_it() {
    let (_dir, fs) = fs_of(debian());
    // As `--keep '/**'` keeps it, or a program of the image that reads it.
    let mut keep = keep_of(&[
        "lib",
        "usr/lib/x86_64-linux-gnu/libc.so.6",
        "var/lib/dpkg/status",
    ]);
    let packages = Packages::read(&fs, &keep);
    keep_metadata(&fs, &mut keep, &packages);
    assert_eq!(keep.replacement("var/lib/dpkg/status"), None);
    assert!(content(&fs, &keep, "var/lib/dpkg/status")
        .unwrap()
        .contains("Package: dash"));
    // The file lists nothing else keeps are trimmed as usual.
    assert!(keep
        .replacement("var/lib/dpkg/info/libc6:amd64.list")
        .is_some());
}

#[test]
fn a_record_larger_than_its_bound_is_treated_as_absent() {
    let (_dir, fs) = fs_of(LayerBuilder::new().file("var/lib/dpkg/status", b"Package: x\n"));
    assert!(read_record(&fs, "var/lib/dpkg/status", 11).is_some());
    assert!(read_record(&fs, "var/lib/dpkg/status", 10).is_none());
}
