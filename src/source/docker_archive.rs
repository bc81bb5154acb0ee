//! `docker save` archives: a `manifest.json` naming the config and layer files.
//!
//! Docker before 25 names the config `<hex>.json` and layers `<id>/layer.tar`;
//! Docker 25 and later write an OCI layout with `blobs/sha256/<hex>` and keep
//! the same `manifest.json` beside it, so reading `manifest.json` covers both.

use serde::Deserialize;

use super::{BlobStore, Compression, SourceImage};
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};

/// One entry of `manifest.json` (docker/docker `image/tarexport`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveManifest {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
}

pub fn open(store: &BlobStore, name: Option<&str>, display: &str) -> Result<SourceImage> {
    let file = store.open("manifest.json").map_err(|_| {
        Error::image(format!(
            "{display}: not a docker-archive (no manifest.json)"
        ))
    })?;
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut file.reader(), &mut raw).at(&file.name)?;
    let entries: Vec<ArchiveManifest> = serde_json::from_slice(&raw)
        .map_err(|e| Error::image(format!("{display}: invalid manifest.json: {e}")))?;
    let entry = pick(&entries, name, display)?;

    let config_digest = digest_from_member(&entry.config).ok_or_else(|| {
        Error::image(format!(
            "{display}: config {:?} is not named by its digest, so it cannot be verified",
            entry.config
        ))
    })?;
    let config_json = store
        .open(&entry.config)?
        .read_verified(&config_digest, None, "config")?;
    let layers = entry
        .layers
        .iter()
        .map(|member| {
            Ok((
                super::Blob::Local(store.open(member)?),
                Compression::Sniff,
                digest_from_member(member),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    SourceImage::new(config_json, layers)
}

fn pick<'a>(
    entries: &'a [ArchiveManifest],
    name: Option<&str>,
    display: &str,
) -> Result<&'a ArchiveManifest> {
    let tags = |e: &ArchiveManifest| e.repo_tags.clone().unwrap_or_default();
    match name {
        Some(name) => entries
            .iter()
            .find(|e| tags(e).iter().any(|t| same_reference(t, name)))
            .ok_or_else(|| {
                let all: Vec<String> = entries.iter().flat_map(tags).collect();
                Error::image(format!(
                    "{display}: no image named {name} (present: {})",
                    if all.is_empty() { "none".into() } else { all.join(", ") }
                ))
            }),
        None => match entries {
            [one] => Ok(one),
            [] => Err(Error::image(format!("{display}: the archive holds no image"))),
            many => Err(Error::image(format!(
                "{display}: the archive holds {} images; name one with docker-archive:PATH:NAME:TAG",
                many.len()
            ))),
        },
    }
}

/// `docker.io/library/app:1` and `app:1` name the same image.
fn same_reference(a: &str, b: &str) -> bool {
    let short = |s: &str| {
        s.strip_prefix("docker.io/")
            .map(|s| s.strip_prefix("library/").unwrap_or(s).to_string())
            .unwrap_or_else(|| s.to_string())
    };
    short(a) == short(b)
}

/// `blobs/sha256/<hex>` or `<hex>.json` carry their own digest.
fn digest_from_member(member: &str) -> Option<Digest> {
    let hex = member
        .strip_prefix("blobs/sha256/")
        .or_else(|| member.strip_suffix(".json"))?;
    Digest::parse(&format!("sha256:{hex}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_named_by_digest() {
        let hex = "a".repeat(64);
        assert!(digest_from_member(&format!("blobs/sha256/{hex}")).is_some());
        assert!(digest_from_member(&format!("{hex}.json")).is_some());
        assert!(digest_from_member(&format!("{hex}/layer.tar")).is_none());
    }

    #[test]
    fn references_compare_without_default_registry() {
        assert!(same_reference("docker.io/library/app:1", "app:1"));
        assert!(same_reference("docker.io/team/app:1", "team/app:1"));
        assert!(!same_reference("app:1", "app:2"));
    }
}
