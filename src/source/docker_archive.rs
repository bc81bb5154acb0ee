//! `docker save` archives: a `manifest.json` naming the config and layer files.
//!
//! Docker before 25 names the config `<hex>.json` and layers `<id>/layer.tar`;
//! Docker 25 and later write an OCI layout with `blobs/sha256/<hex>` and keep
//! the same `manifest.json` beside it, so reading `manifest.json` covers both.

use serde::Deserialize;

use super::store::BlobStore;
use super::{read_verified, Compression, Result, SourceError, SourceImage};
use crate::digest::Digest;
use crate::limits::METADATA_BYTES;
use crate::reference::short_name;

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
    let file = store
        .open("manifest.json")
        .map_err(|_| SourceError::NotADockerArchive {
            name: display.into(),
        })?;
    let raw = file.read_small(METADATA_BYTES)?;
    let entries: Vec<ArchiveManifest> =
        serde_json::from_slice(&raw).map_err(|source| SourceError::InvalidJson {
            name: display.into(),
            what: "manifest.json".into(),
            source,
        })?;
    let entry = pick(&entries, name, display)?;

    let config_digest =
        digest_from_member(&entry.config).ok_or_else(|| SourceError::ConfigNotByDigest {
            name: display.into(),
            member: entry.config.clone(),
        })?;
    let config_json = read_verified(&store.open(&entry.config)?, &config_digest, None, "config")?;
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
            .find(|e| tags(e).iter().any(|t| short_name(t) == short_name(name)))
            .ok_or_else(|| {
                let all: Vec<String> = entries.iter().flat_map(tags).collect();
                SourceError::NoSuchName {
                    name: display.into(),
                    image: name.into(),
                    present: if all.is_empty() {
                        "none".into()
                    } else {
                        all.join(", ")
                    },
                }
            }),
        None => match entries {
            [one] => Ok(one),
            [] => Err(SourceError::Empty {
                name: display.into(),
            }),
            many => Err(SourceError::Ambiguous {
                name: display.into(),
                count: many.len(),
                how: "with docker-archive:PATH:NAME:TAG".into(),
            }),
        },
    }
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
}
