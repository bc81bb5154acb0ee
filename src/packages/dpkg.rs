//! Debian's dpkg database: `/var/lib/dpkg/status` (one stanza per package)
//! with `/var/lib/dpkg/info/PKG[:ARCH].list` (the files a package
//! installed) and `.md5sums`, or distroless's `/var/lib/dpkg/status.d/PKG`
//! (a stanza per file) with `PKG.md5sums` beside it.
//!
//! Trimmed for the slim image, it lists what dpkg itself would after
//! removing every file that was dropped: the status stanzas of packages
//! with a kept file, and their file lists and checksums naming kept files
//! only. Trivy, Grype and Syft all read `status` and `status.d/`, and
//! `dpkg-query --admindir` reads `status`, so each stays where it was.

use super::metadata::{line_is_kept, Metadata};
use super::{field, stanzas, Ecosystem, Package, Packages};
use crate::image_path::ImagePath;
use crate::keep::KeepSet;
use crate::rootfs::RootFs;

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";
const INFO: &str = "var/lib/dpkg/info";

#[derive(Default)]
pub struct Database {
    /// The real path of `status`, when the image has one.
    status: Option<ImagePath>,
    entries: Vec<Entry>,
}

/// One installed package, and where its records are.
struct Entry {
    package: usize,
    /// `libc6 2.36-9`, for the report.
    label: String,
    /// Its stanza, as `status` or `status.d/PKG` writes it.
    stanza: String,
    /// `status.d/PKG` (distroless), else the stanza lives in `status`.
    own_file: Option<ImagePath>,
    /// `info/PKG.list`: every path it installed, directories too.
    list: Option<ImagePath>,
    /// `info/PKG.md5sums` or `status.d/PKG.md5sums`: `HASH  PATH` per file.
    md5sums: Option<ImagePath>,
}

impl Database {
    pub fn read(fs: &RootFs, packages: &mut Packages, distro: Option<&str>) -> Database {
        let mut db = Database::default();
        if let Some((real, status)) = super::read_record(fs, STATUS, super::MAX_RECORD) {
            db.status = Some(real);
            db.read_stanzas(
                fs,
                packages,
                distro,
                &String::from_utf8_lossy(&status),
                None,
            );
        }
        let dir = ImagePath::parse(STATUS_D).expect("a plain path");
        for name in fs.children(&dir) {
            if name.ends_with(".md5sums") {
                continue;
            }
            if let Some((real, text)) =
                super::read_record(fs, &format!("{STATUS_D}/{name}"), super::MAX_RECORD)
            {
                let text = String::from_utf8_lossy(&text);
                db.read_stanzas(fs, packages, distro, &text, Some(real));
            }
        }
        db
    }

    fn read_stanzas(
        &mut self,
        fs: &RootFs,
        packages: &mut Packages,
        distro: Option<&str>,
        text: &str,
        own_file: Option<ImagePath>,
    ) {
        for (raw, stanza) in stanzas(text) {
            let (Some(name), Some(version)) =
                (field(&stanza, "Package"), field(&stanza, "Version"))
            else {
                continue;
            };
            // distroless writes no Status: its stanzas are all installed.
            if own_file.is_none()
                && !field(&stanza, "Status").is_some_and(|s| s.ends_with(" installed"))
            {
                continue;
            }
            let arch = field(&stanza, "Architecture").filter(|a| !a.is_empty());
            let info = |ext: &str| {
                let mut names = vec![format!("{INFO}/{name}.{ext}")];
                if let Some(arch) = arch {
                    names.insert(0, format!("{INFO}/{name}:{arch}.{ext}"));
                }
                if own_file.is_some() {
                    names.insert(0, format!("{STATUS_D}/{name}.{ext}"));
                }
                names
                    .into_iter()
                    .find_map(|n| fs.lookup(&n, true).ok().flatten())
                    .filter(|p| fs.get(p.as_str()).is_some_and(|n| n.is_file()))
            };
            let (list, md5sums) = (info("list"), info("md5sums"));
            if list.is_none() && md5sums.is_none() {
                continue;
            }
            let i = packages.add(Package {
                ecosystem: Ecosystem::Deb,
                namespace: Some(super::purl::namespace(distro, "debian")),
                name: name.to_string(),
                version: version.to_string(),
                arch: arch.map(str::to_string),
                distro: distro.map(str::to_string),
            });
            // The file list names every path; md5sums only regular files.
            let files = list.as_ref().or(md5sums.as_ref()).expect("checked above");
            let text = super::read_record(fs, files.as_str(), super::MAX_RECORD)
                .map(|(_, t)| t)
                .unwrap_or_default();
            for line in String::from_utf8_lossy(&text).lines() {
                let path = match list {
                    Some(_) => line,
                    None => md5sum_path(line),
                };
                packages.own(fs, &format!("/{}", path.trim_start_matches('/')), i);
            }
            self.entries.push(Entry {
                package: i,
                label: packages.list[i].label(),
                stanza: raw.to_string(),
                own_file: own_file.clone(),
                list,
                md5sums,
            });
        }
    }

    /// The records of the packages in `kept`, trimmed to kept files.
    pub fn metadata(&self, fs: &RootFs, keep: &KeepSet, kept: &[usize]) -> Vec<Metadata> {
        let mut out = Vec::new();
        let mut status = String::new();
        let mut in_status = 0;
        for e in self.entries.iter().filter(|e| kept.contains(&e.package)) {
            match &e.own_file {
                Some(file) => {
                    out.push(Metadata::whole(file, format!("dpkg status of {}", e.label)))
                }
                None => {
                    status += &e.stanza;
                    status += "\n\n";
                    in_status += 1;
                }
            }
            if let Some(list) = &e.list {
                out.push(Metadata::trimmed(fs, list, &e.label, |line| {
                    line_is_kept(fs, keep, line)
                }));
            }
            if let Some(sums) = &e.md5sums {
                out.push(Metadata::trimmed(fs, sums, &e.label, |line| {
                    line_is_kept(fs, keep, md5sum_path(line))
                }));
            }
        }
        // No kept package, no database: an image of one static program is
        // not a Debian image to a scanner.
        if let Some(path) = self.status.as_ref().filter(|_| in_status > 0) {
            out.push(Metadata::replaced(
                path,
                status.trim_end_matches('\n').to_string() + "\n",
                format!("dpkg status of {in_status} kept packages"),
            ));
            // How the database names files (`1`: `PKG:ARCH.list` for
            // multiarch packages) and which foreign architectures it has:
            // without them dpkg looks for `libc6.list` and finds no files.
            for (file, what) in [
                ("info/format", "the dpkg database's format"),
                ("arch", "the dpkg database's architectures"),
            ] {
                if let Ok(Some(real)) = fs.lookup(&format!("var/lib/dpkg/{file}"), true) {
                    out.push(Metadata::whole(&real, what.to_string()));
                }
            }
        }
        out
    }
}

/// The path of an md5sums line, `d41d8cd98f00b204e9800998ecf8427e  usr/bin/x`.
fn md5sum_path(line: &str) -> &str {
    line.split_once("  ").map_or(line, |(_, p)| p)
}
