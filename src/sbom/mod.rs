//! `--sbom FILE`: a software bill of materials of the slim image, in
//! CycloneDX 1.5 JSON ([`cyclonedx`], the default) or SPDX 2.3 JSON
//! ([`spdx`]). It lists the packages of [`Packages::kept`], the same set as
//! the report's `packages` and the summary's count, each with the files
//! kept from it and their digests, then the kept files that belong to no
//! package; the subject is the slim image, named by its manifest digest.
//!
//! The documents are small typed serde models checked against the official
//! JSON schemas in the tests (tests/sbom.rs). The Rust crates were judged
//! and not taken: cyclonedx-bom (CycloneDX's own, 1.3 to 1.5) models the
//! whole standard, XML included, for the twenty fields written here, and
//! no maintained crate writes SPDX 2.3 (spdx-rs reads SPDX 2.2).

mod cyclonedx;
mod spdx;
mod time;

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::files::PathError;
use crate::image_path::ImagePath;
use crate::keep::KeepSet;
use crate::packages::{Package, Packages};
use crate::rootfs::RootFs;

/// The SBOM's format (`--sbom-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SbomFormat {
    #[default]
    CycloneDx,
    Spdx,
}

/// The image an SBOM describes.
pub struct Subject<'a> {
    /// The target as given: `myapp:slim`, `oci:out:latest`.
    pub name: &'a str,
    /// Its manifest (or index) digest, `sha256:…`.
    pub digest: &'a str,
}

/// A kept regular file and its content's digests (SPDX 2.3 wants SHA-1).
pub struct FileDigest {
    pub path: ImagePath,
    pub sha256: String,
    pub sha1: String,
}

/// What both formats list: packages with their kept files, then the rest.
struct Inventory<'a> {
    subject: &'a Subject<'a>,
    /// Each package with the indexes of its files in `files`.
    packages: Vec<(&'a Package, Vec<usize>)>,
    /// Every kept regular file, in path order.
    files: Vec<FileDigest>,
    /// Indexes of files that belong to no package.
    unowned: Vec<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("serializing the SBOM")]
    Json(#[source] serde_json::Error),
    #[error("reading {0} for its digest")]
    Read(ImagePath, #[source] std::io::Error),
    #[error(transparent)]
    Io(#[from] PathError),
}

/// Write the SBOM of the slim image `keep` selects from `fs` (atomically).
pub fn write_sbom(
    path: &Path,
    format: SbomFormat,
    fs: &RootFs,
    keep: &KeepSet,
    packages: &Packages,
    subject: &Subject,
) -> Result<(), SbomError> {
    let inventory = inventory(fs, keep, packages, subject)?;
    let created = time::now_rfc3339();
    let json = match format {
        SbomFormat::CycloneDx => {
            serde_json::to_vec_pretty(&cyclonedx::document(&inventory, &created))
        }
        SbomFormat::Spdx => serde_json::to_vec_pretty(&spdx::document(&inventory, &created)),
    }
    .map_err(SbomError::Json)?;
    Ok(crate::files::replace_file(path, &json)?)
}

fn inventory<'a>(
    fs: &RootFs,
    keep: &'a KeepSet,
    packages: &'a Packages,
    subject: &'a Subject,
) -> Result<Inventory<'a>, SbomError> {
    let regular: Vec<&ImagePath> = keep
        .paths()
        .filter(|p| fs.get(p.as_str()).is_some_and(|n| n.is_file()))
        .collect();
    let files = regular
        .par_iter()
        .map(|p| digest_file(fs, keep, p))
        .collect::<Result<Vec<_>, _>>()?;
    let index = |p: &ImagePath| files.binary_search_by(|f| f.path.cmp(p)).ok();
    let packages: Vec<(&Package, Vec<usize>)> = packages
        .kept(keep)
        .into_iter()
        .map(|(pkg, paths)| (pkg, paths.into_iter().filter_map(&index).collect()))
        .collect();
    let mut owned = vec![false; files.len()];
    for (_, list) in &packages {
        for &i in list {
            owned[i] = true;
        }
    }
    let unowned = (0..files.len()).filter(|&i| !owned[i]).collect();
    Ok(Inventory {
        subject,
        packages,
        files,
        unowned,
    })
}

/// The sha256 and sha1 of a kept file's slim content.
fn digest_file(fs: &RootFs, keep: &KeepSet, path: &ImagePath) -> Result<FileDigest, SbomError> {
    let mut sha256 = Sha256::new();
    let mut sha1 = Sha1::new();
    if let Some(content) = keep.replacement(path.as_str()) {
        sha256.update(content);
        sha1.update(content);
    } else if let Some(mut reader) = fs.get(path.as_str()).and_then(|n| fs.open(n)) {
        let mut buf = vec![0; 1 << 16];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| SbomError::Read(path.clone(), e))?;
            if n == 0 {
                break;
            }
            sha256.update(&buf[..n]);
            sha1.update(&buf[..n]);
        }
    }
    Ok(FileDigest {
        path: path.clone(),
        sha256: format!("{:x}", sha256.finalize()),
        sha1: format!("{:x}", sha1.finalize()),
    })
}

/// A UUID (version 4 layout) derived from `seed`: the same image gives the
/// same serial number, and different images different ones.
fn uuid_from(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b: [u8; 16] = h[..16].try_into().expect("32 bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;
