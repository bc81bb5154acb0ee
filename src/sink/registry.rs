//! A registry as a target (`docker://`): blobs first, each only when the
//! repository lacks it, then the manifest under the tag. The tag moves only
//! once everything it points to is there, so a failed push leaves at most
//! unreferenced blobs, which the registry's garbage collection removes.

use super::Output;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::registry::{Repo, Settings};
use crate::source::BlobFile;
use crate::write::OCI_INDEX;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// What a push did, for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    pub uploaded: usize,
    pub present: usize,
    pub bytes: u64,
}

impl Pushed {
    pub fn describe(&self) -> String {
        format!(
            "pushed {} blob(s), {}; {} already in the registry",
            self.uploaded,
            crate::report::human(self.bytes),
            self.present
        )
    }
}

/// Push every image's blobs and manifest, then (for several platforms) the
/// index; the tag goes on the last document pushed. A target named by digest
/// (`REPO@sha256:...`) must be the digest of what is pushed: slimify's output
/// is deterministic, so a pipeline can pin it.
pub fn write(reference: &str, out: &Output, settings: &Settings) -> Result<Pushed> {
    let repo = Repo::connect(reference, settings)?;
    let top = match out.index {
        Some(index) => &index.digest,
        None => &out.images[0].blobs.manifest_digest,
    };
    if let Some(wanted) = repo.digest() {
        if wanted != top.as_str() {
            return Err(Error::Usage(format!(
                "{}: the slim image's digest is {top}, not the {wanted} the target names",
                repo.name
            )));
        }
    }
    let mut pushed = Pushed::default();
    for image in &out.images {
        let b = image.blobs;
        put_blob(
            &repo,
            image.layer_digest,
            Upload::File(image.layer),
            &mut pushed,
        )?;
        put_blob(
            &repo,
            &b.config_digest,
            Upload::Bytes(&b.config),
            &mut pushed,
        )?;
        let by_digest = out.index.is_some().then_some(&b.manifest_digest);
        repo.push_manifest(&b.manifest, OCI_MANIFEST, by_digest)?;
    }
    if let Some(index) = out.index {
        repo.push_manifest(&index.bytes, OCI_INDEX, None)?;
    }
    Ok(pushed)
}

pub enum Upload<'a> {
    File(&'a BlobFile),
    Bytes(&'a [u8]),
}

/// Upload one blob unless the repository already has it.
pub fn put_blob(repo: &Repo, digest: &Digest, blob: Upload, pushed: &mut Pushed) -> Result<()> {
    if repo.has_blob(digest)? {
        pushed.present += 1;
        return Ok(());
    }
    let size = match blob {
        Upload::File(f) => {
            repo.push_blob(digest, f)?;
            f.len()
        }
        Upload::Bytes(b) => {
            repo.push_bytes(digest, b)?;
            b.len() as u64
        }
    };
    pushed.uploaded += 1;
    pushed.bytes += size;
    Ok(())
}
