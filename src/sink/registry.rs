//! A registry as a target (`docker://`): blobs first, each only when the
//! repository lacks it, then the manifest under the tag. The tag moves only
//! once everything it points to is there, so a failed push leaves at most
//! unreferenced blobs, which the registry's garbage collection removes.

use oci_spec::image::MediaType;

use super::{Output, Payload, SinkError};
use crate::digest::Digest;
use crate::registry::{RegistryError, Repo, Role, Settings};
use crate::units::human;

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
            human(self.bytes),
            self.present
        )
    }
}

/// Push every image's blobs and manifest, then (for several platforms) the
/// index; the tag goes on the last document pushed. A target named by digest
/// (`REPO@sha256:...`) must be the digest of what is pushed: slimify's output
/// is deterministic, so a pipeline can pin it.
pub fn write(reference: &str, out: &Output, settings: &Settings) -> Result<Pushed, SinkError> {
    let repo = Repo::connect(reference, settings, Role::Target)?;
    let top = match out.index {
        Some(index) => &index.digest,
        None => &out.images[0].blobs.manifest_digest,
    };
    if let Some(wanted) = repo.digest() {
        if wanted != top.as_str() {
            return Err(SinkError::DigestPinned {
                name: repo.name.clone(),
                slim: top.to_string(),
                pinned: wanted.to_string(),
            });
        }
    }
    let mut pushed = Pushed::default();
    for image in &out.images {
        let b = image.blobs;
        put_blob(
            &repo,
            image.layer_digest,
            Payload::File(image.layer),
            &mut pushed,
        )?;
        put_blob(
            &repo,
            &b.config_digest,
            Payload::Bytes(&b.config),
            &mut pushed,
        )?;
        let by_digest = out.index.is_some().then_some(&b.manifest_digest);
        repo.push_manifest(&b.manifest, MediaType::ImageManifest.as_ref(), by_digest)?;
    }
    if let Some(index) = out.index {
        repo.push_manifest(&index.bytes, MediaType::ImageIndex.as_ref(), None)?;
    }
    Ok(pushed)
}

/// Upload one blob unless the repository already has it.
fn put_blob(
    repo: &Repo,
    digest: &Digest,
    blob: Payload,
    pushed: &mut Pushed,
) -> Result<(), RegistryError> {
    if repo.has_blob(digest)? {
        pushed.present += 1;
        return Ok(());
    }
    match blob {
        Payload::File(f) => repo.push_blob(digest, f)?,
        Payload::Bytes(b) => repo.push_bytes(digest, b)?,
    }
    pushed.uploaded += 1;
    pushed.bytes += blob.len();
    Ok(())
}
