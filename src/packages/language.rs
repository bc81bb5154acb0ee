//! Language packages, from the records their package managers leave:
//! - Python: `NAME-VERSION.dist-info/` with `METADATA` (Name, Version) and
//!   `RECORD` (every installed file, relative to the site directory),
//! - npm: a `package.json` with a name and a version (installed in
//!   `node_modules/[@SCOPE/]NAME/`, or an application's own); the package
//!   owns its directory but not a `node_modules` or package nested in it,
//! - Maven: `META-INF/maven/GROUP/ARTIFACT/pom.properties` inside a kept jar
//!   (the metadata travels inside the jar, so keeping the jar keeps it).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::metadata::{line_is_kept, Metadata};
use super::{Ecosystem, Package, Packages};
use crate::image_path::ImagePath;
use crate::keep::KeepSet;
use crate::rootfs::RootFs;

/// Add the language packages of `fs` to `packages`; jars only when kept
/// (reading every jar of an image would cost more than the rest together).
pub fn read(fs: &RootFs, keep: &KeepSet, packages: &mut Packages) {
    let mut npm_dirs = BTreeMap::new();
    for (path, node) in fs.iter() {
        if !node.is_file() {
            continue;
        }
        let p = path.as_str();
        if p.ends_with(".dist-info/METADATA") {
            python(fs, path, packages);
        } else if p.ends_with("/package.json") {
            if let Some(i) = npm(fs, path, packages) {
                npm_dirs.insert(path.parent(), i);
            }
        } else if (p.ends_with(".jar") || p.ends_with(".war")) && keep.contains(p) {
            maven(fs, path, packages);
        }
    }
    // Every file under a package directory, up to a nested node_modules.
    for (path, node) in fs.iter() {
        if node.is_dir() || npm_dirs.is_empty() {
            continue;
        }
        let owner = path
            .ancestors()
            .take_while(|a| a.file_name() != "node_modules")
            .find_map(|a| npm_dirs.get(&a));
        if let Some(&i) = owner {
            packages.language.entry(path.clone()).or_default().push(i);
        }
    }
}

/// The `Name:` and `Version:` headers of core metadata (PKG-INFO format:
/// RFC 822 headers, then a blank line and the description).
fn python(fs: &RootFs, metadata: &ImagePath, packages: &mut Packages) {
    let Some((_, text)) = super::read_record(fs, metadata.as_str(), super::MAX_RECORD) else {
        return;
    };
    let text = String::from_utf8_lossy(&text);
    let header = |key: &str| {
        text.lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    };
    let (Some(name), Some(version)) = (header("Name"), header("Version")) else {
        return;
    };
    let i = packages.add(Package {
        ecosystem: Ecosystem::Pypi,
        namespace: None,
        name,
        version,
        arch: None,
        distro: None,
    });
    let dist = metadata.parent();
    let site = dist.parent();
    let record = dist.join("RECORD");
    if let Some((_, text)) = super::read_record(fs, record.as_str(), super::MAX_RECORD) {
        for line in String::from_utf8_lossy(&text).lines() {
            let file = record_path(line);
            packages.own(fs, &in_site(&site, file), i);
        }
    }
    // The dist-info files but RECORD, which is trimmed to kept files.
    let files = fs
        .descendants(&dist)
        .filter(|(p, n)| !n.is_dir() && **p != record)
        .map(|(p, _)| p.clone())
        .collect();
    packages.language_metadata.insert(i, files);
    packages.records.insert(i, record);
}

/// Where a RECORD path is: relative to the site directory, unless absolute
/// (data files a wheel installs outside it).
fn in_site(site: &ImagePath, file: &str) -> String {
    if file.starts_with('/') {
        file.to_string()
    } else {
        format!("{site}/{file}")
    }
}

/// The path of a RECORD line (CSV: `path,sha256=…,size`; a path with a
/// comma is quoted).
fn record_path(line: &str) -> &str {
    match line.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or(rest),
        None => line.split(',').next().unwrap_or(line),
    }
}

/// A package.json with a name and a version: an installed package
/// (`node_modules/[@S/]NAME/`), an application's own, or one a
/// distribution installed (Debian's /usr/share/nodejs), as Syft counts them.
fn npm(fs: &RootFs, manifest: &ImagePath, packages: &mut Packages) -> Option<usize> {
    if fs.get(manifest.as_str())?.size() > 1 << 20 {
        return None;
    }
    let (_, text) = super::read_record(fs, manifest.as_str(), super::MAX_RECORD)?;
    let json: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let full = json.get("name")?.as_str()?;
    let version = json.get("version")?.as_str()?;
    let (namespace, name) = match full.split_once('/') {
        Some((scope, name)) if scope.starts_with('@') => (Some(scope.to_string()), name),
        _ => (None, full),
    };
    let i = packages.add(Package {
        ecosystem: Ecosystem::Npm,
        namespace,
        name: name.to_string(),
        version: version.to_string(),
        arch: None,
        distro: None,
    });
    packages.language_metadata.insert(i, vec![manifest.clone()]);
    Some(i)
}

/// Every `pom.properties` of a jar: a shaded jar carries several.
fn maven(fs: &RootFs, jar: &ImagePath, packages: &mut Packages) {
    let Some((_, bytes)) = super::read_record(fs, jar.as_str(), super::MAX_JAR) else {
        return;
    };
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return;
    };
    let poms: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter(|n| n.starts_with("META-INF/maven/") && n.ends_with("/pom.properties"))
        .map(|n| n.into_owned())
        .collect();
    for name in poms {
        let mut text = String::new();
        match zip.by_name(&name) {
            Ok(mut f) if f.size() < 1 << 16 => {
                let _ = f.read_to_string(&mut text);
            }
            _ => continue,
        }
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix('='))
                .map(|v| v.trim().to_string())
        };
        let (Some(group), Some(artifact), Some(version)) =
            (value("groupId"), value("artifactId"), value("version"))
        else {
            continue;
        };
        let i = packages.add(Package {
            ecosystem: Ecosystem::Maven,
            namespace: Some(group),
            name: artifact,
            version,
            arch: None,
            distro: None,
        });
        packages.language.entry(jar.clone()).or_default().push(i);
    }
}

/// The RECORD of each kept Python package, trimmed to kept files.
pub fn trimmed_records(
    fs: &RootFs,
    keep: &KeepSet,
    packages: &Packages,
    kept: &BTreeSet<usize>,
) -> Vec<Metadata> {
    let mut out = Vec::new();
    for (i, record) in &packages.records {
        if !kept.contains(i) || fs.get(record.as_str()).is_none() {
            continue;
        }
        let site = record.parent().parent();
        let label = packages.list[*i].label();
        out.push(Metadata::trimmed(fs, record, &label, |line| {
            // RECORD lists itself; it stays.
            let file = record_path(line);
            let path = in_site(&site, file);
            ImagePath::parse(&path).is_ok_and(|p| p == *record) || line_is_kept(fs, keep, &path)
        }));
    }
    out
}
