//! Alpine's apk database, `/lib/apk/db/installed`: one stanza per package
//! (`P:` name, `V:` version, `A:` arch), then its files as `F:` folder
//! lines, each followed by `R:` file lines (with `a:` modes and `Z:`
//! checksums after them). Trimmed for the slim image, it holds the
//! stanzas of packages with a kept file, each listing its kept folders and
//! files only, as `apk` would after deleting the rest.

use super::metadata::Metadata;
use super::{field, stanzas, Ecosystem, Package, Packages};
use crate::image_path::ImagePath;
use crate::keep::KeepSet;
use crate::rootfs::RootFs;

const INSTALLED: &str = "lib/apk/db/installed";

#[derive(Default)]
pub struct Database {
    installed: Option<ImagePath>,
    /// Each package's index and raw stanza.
    entries: Vec<(usize, String)>,
}

impl Database {
    pub fn read(fs: &RootFs, packages: &mut Packages, distro: Option<&str>) -> Database {
        let mut db = Database::default();
        let Some((real, text)) = super::read_record(fs, INSTALLED, super::MAX_RECORD) else {
            return db;
        };
        db.installed = Some(real);
        let text = String::from_utf8_lossy(&text);
        for (raw, stanza) in stanzas(&text) {
            let (Some(name), Some(version)) = (field(&stanza, "P"), field(&stanza, "V")) else {
                continue;
            };
            let i = packages.add(Package {
                ecosystem: Ecosystem::Apk,
                namespace: Some(super::purl::namespace(distro, "alpine")),
                name: name.to_string(),
                version: version.to_string(),
                arch: field(&stanza, "A").map(str::to_string),
                distro: distro.map(str::to_string),
            });
            let mut folder = "";
            for (k, v) in &stanza {
                match *k {
                    "F" => folder = v,
                    "R" => packages.own(fs, &format!("/{folder}/{v}"), i),
                    _ => {}
                }
            }
            db.entries.push((i, raw.to_string()));
        }
        db
    }

    /// `installed` with the stanzas of `kept` packages, trimmed to kept files.
    pub fn metadata(&self, fs: &RootFs, keep: &KeepSet, kept: &[usize]) -> Vec<Metadata> {
        let Some(path) = &self.installed else {
            return Vec::new();
        };
        let is_kept = |p: &str| super::metadata::line_is_kept(fs, keep, p);
        let mut out = String::new();
        let mut count = 0;
        for (_, raw) in self.entries.iter().filter(|(i, _)| kept.contains(i)) {
            count += 1;
            out += &trim_stanza(raw, is_kept);
            out.push('\n');
        }
        if count == 0 {
            return Vec::new();
        }
        vec![Metadata::replaced(
            path,
            out,
            format!("apk database of {count} kept packages"),
        )]
    }
}

/// One stanza with only the folders and files `is_kept` accepts; a line
/// about a folder (`M:`) or file (`a:`, `Z:`) goes with it.
fn trim_stanza(raw: &str, is_kept: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut folder = String::new();
    // Whether the lines now read belong to something kept.
    let mut keeping = true;
    for line in raw.lines() {
        let (key, value) = line.split_once(':').unwrap_or((line, ""));
        match key {
            "F" => {
                folder = value.to_string();
                keeping = is_kept(&folder);
            }
            "R" => keeping = is_kept(&format!("{folder}/{value}")),
            "M" | "a" | "Z" => {}
            _ if folder.is_empty() => keeping = true,
            _ => {}
        }
        if keeping {
            out += line;
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stanza_keeps_its_header_and_only_kept_folders_and_files() {
        let raw = "C:Q1x\nP:busybox\nV:1.36\nF:bin\nM:0:0:755\nR:busybox\na:0:0:755\nZ:Q1a\nR:gone\nZ:Q1b\nF:usr/share/doc\nR:README\nZ:Q1c";
        let kept = ["bin", "bin/busybox"];
        let out = trim_stanza(raw, |p| kept.contains(&p));
        assert_eq!(
            out,
            "C:Q1x\nP:busybox\nV:1.36\nF:bin\nM:0:0:755\nR:busybox\na:0:0:755\nZ:Q1a\n"
        );
    }
}
