//! Which distribution package installed a file, from the package database
//! the image carries: Debian's dpkg (`/var/lib/dpkg/status` and
//! `/var/lib/dpkg/info/PKG[:ARCH].list`) or Alpine's apk
//! (`/lib/apk/db/installed`). The report names each kept file's package, so
//! a reader sees which packages the slim image still draws on (and which
//! versions, for vulnerability triage).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::image_path::ImagePath;
use crate::rootfs::RootFs;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
}

/// Every file the image's package database lists, by its real image path.
#[derive(Default)]
pub struct Packages {
    list: Vec<Package>,
    owner: BTreeMap<ImagePath, usize>,
}

/// `Key: value` stanzas separated by blank lines (dpkg status; apk uses `K:value`).
fn stanzas(text: &str) -> impl Iterator<Item = Vec<(&str, &str)>> {
    text.split("\n\n").map(|s| {
        s.lines()
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k, v.trim()))
            .collect()
    })
}

/// The value of `key` in a stanza.
fn field<'a>(stanza: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    stanza.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

impl Packages {
    /// Read whichever database the image has; empty when it has none.
    pub fn read(fs: &RootFs) -> Packages {
        let mut p = Packages::default();
        p.read_dpkg(fs);
        p.read_apk(fs);
        p
    }

    pub fn owner(&self, path: &str) -> Option<&Package> {
        self.owner.get(path).map(|&i| &self.list[i])
    }

    /// Record that `listed` (an absolute path as the database writes it) belongs to package `i`.
    fn own(&mut self, fs: &RootFs, listed: &str, i: usize) {
        // Parents resolve inside the image (usrmerge: /lib is usr/lib), the
        // file itself stays as named; directories are shared, so not owned.
        let Ok(Some(real)) = fs.lookup(listed, false) else {
            return;
        };
        if fs.get(real.as_str()).is_some_and(|n| !n.is_dir()) {
            self.owner.entry(real).or_insert(i);
        }
    }

    fn read_dpkg(&mut self, fs: &RootFs) {
        let Some((_, status)) = fs.read("var/lib/dpkg/status") else {
            return;
        };
        let status = String::from_utf8_lossy(&status);
        for stanza in stanzas(&status) {
            let (Some(name), Some(version)) =
                (field(&stanza, "Package"), field(&stanza, "Version"))
            else {
                continue;
            };
            if !field(&stanza, "Status").is_some_and(|s| s.ends_with(" installed")) {
                continue;
            }
            let arch = field(&stanza, "Architecture").unwrap_or("");
            let list = [format!("{name}:{arch}.list"), format!("{name}.list")]
                .into_iter()
                .find_map(|f| fs.read(&format!("var/lib/dpkg/info/{f}")));
            let Some((_, list)) = list else { continue };
            let i = self.list.len();
            self.list.push(Package {
                name: name.to_string(),
                version: version.to_string(),
            });
            for line in String::from_utf8_lossy(&list).lines() {
                self.own(fs, line, i);
            }
        }
    }

    fn read_apk(&mut self, fs: &RootFs) {
        let Some((_, db)) = fs.read("lib/apk/db/installed") else {
            return;
        };
        let db = String::from_utf8_lossy(&db);
        for stanza in stanzas(&db) {
            let (Some(name), Some(version)) = (field(&stanza, "P"), field(&stanza, "V")) else {
                continue;
            };
            let i = self.list.len();
            self.list.push(Package {
                name: name.to_string(),
                version: version.to_string(),
            });
            let mut folder = "";
            for (k, v) in &stanza {
                match *k {
                    "F" => folder = v,
                    "R" => self.own(fs, &format!("/{folder}/{v}"), i),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{index_all, LayerBuilder};

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
            .file("lib/apk/db/installed", b"C:Q1abc\nP:busybox\nV:1.36.1-r5\nF:sbin\nR:apk-owned\n\n");
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs::from_layers(index_all(dir.path(), &[layer.bytes()], false)).unwrap();
        let p = Packages::read(&fs);
        let name = |path: &str| p.owner(path).map(|p| format!("{} {}", p.name, p.version));
        assert_eq!(
            name("usr/lib/x86_64-linux-gnu/libc.so.6").as_deref(),
            Some("libc6 2.36-9")
        );
        assert_eq!(name("usr/bin/dash").as_deref(), Some("dash 0.5.12-2"));
        assert_eq!(name("sbin/apk-owned").as_deref(), Some("busybox 1.36.1-r5"));
        assert_eq!(name("usr/lib"), None);
    }
}
