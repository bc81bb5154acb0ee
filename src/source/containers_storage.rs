//! Podman's and Buildah's image store (`containers-storage:[STORE]NAME`).
//!
//! Rootful podman keeps images in containers/storage, by default with its
//! `overlay` driver under /var/lib/containers/storage (`podman info`):
//!
//! - `overlay-images/<image id>/=<base64 of "sha256:<image id>">` is the
//!   config (the image ID is its digest);
//! - `overlay-layers/layers.json` lists the layers, each with its `parent`
//!   and its `diff-digest` (the diff_id);
//! - `overlay-layers/<layer id>.tar-split.gz` is the layer's tar-split and
//!   `overlay/<layer id>/diff` its files, as in Docker's overlay2 store, so
//!   `layer/tar_split.rs` indexes both the same way.
//!
//! The image's top layer is the one `podman image inspect` names as its
//! UpperDir; the chain below it, by `parent`, must hold the config's
//! diff_ids in order. Anything else falls back to `podman save`, with the
//! reason given in one line, as for the Docker engine.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;

use super::engine::{
    about_image, cannot_read, read_config, read_small, Engine, Fallback, Placement,
};
use super::{Blob, Compression, EngineRead, Result, SourceError, SourceImage, StoreLayer};
use crate::digest::Digest;
use crate::docker;
use crate::reference::StoreSpec;

/// The podman global flags that select `store`: none for podman's default
/// store, nor for a `[...]` that names that very store (its driver, root and
/// run root as `podman info` reports them). Podman 4 checks store flags
/// against what its database recorded when it was created, and a database
/// created without a configured driver (Debian ships no storage.conf)
/// recorded "" and refuses `--storage-driver overlay` for its own store
/// ("database configuration mismatch"), which skopeo's spelling of the
/// default store would always pass.
pub fn podman_store_flags(store: Option<&StoreSpec>) -> Vec<String> {
    match store {
        Some(s) if !podman_default_store().is_some_and(|d| d.is(s)) => s.podman_args(),
        _ => Vec::new(),
    }
}

/// Podman's own store, as `podman info` reports it.
struct DefaultStore {
    driver: String,
    root: PathBuf,
    run_root: PathBuf,
}

impl DefaultStore {
    fn is(&self, s: &StoreSpec) -> bool {
        s.options.is_empty()
            && s.driver.as_deref().is_none_or(|d| d == self.driver)
            && s.root == self.root
            && s.run_root.as_ref().is_none_or(|r| *r == self.run_root)
    }
}

/// Asked once per process, and only when a reference names a store.
fn podman_default_store() -> Option<&'static DefaultStore> {
    static STORE: OnceLock<Option<DefaultStore>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let format = "{{.Store.GraphDriverName}}\t{{.Store.GraphRoot}}\t{{.Store.RunRoot}}";
            let out = docker::run_podman(&[], &["info", "--format", format]).ok()?;
            let mut fields = out.trim().split('\t');
            Some(DefaultStore {
                driver: fields.next()?.to_string(),
                root: fields.next()?.into(),
                run_root: fields.next()?.into(),
            })
        })
        .as_ref()
}

/// Open `name`, in place unless `in_place` is false or impossible.
pub fn open(
    store: Option<&StoreSpec>,
    name: &str,
    spool_dir: &Path,
    in_place: bool,
) -> Result<(SourceImage, EngineRead)> {
    let run = |args: &[&str]| {
        about_image(
            docker::run_podman(&podman_store_flags(store), args),
            &["image not known", "no such image"],
            || SourceError::NoSuchStorageImage { name: name.into() },
        )
    };
    Engine {
        cli: "podman",
        save: &["save", "--format", "docker-archive"],
        saved_by: "podman save",
        run: &run,
        in_place: &|p| Ok((open_in_place(p)?, "containers-storage overlay")),
    }
    .open(
        name,
        &format!("containers-storage:{name}"),
        spool_dir,
        in_place,
    )
}

/// One entry of `overlay-layers/layers.json`.
#[derive(serde::Deserialize)]
struct LayerRecord {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(rename = "diff-digest", default)]
    diff_digest: Option<String>,
    #[serde(rename = "diff-size", default)]
    diff_size: Option<u64>,
}

fn open_in_place(placement: &Placement) -> std::result::Result<SourceImage, Fallback> {
    if placement.driver.name != "overlay" {
        return Err(format!(
            "the store keeps images with the {:?} driver; reading in place needs overlay",
            placement.driver.name
        ));
    }
    let upper = placement.upper_dir()?;
    // UpperDir is <root>/overlay/<layer id>/diff.
    let (root, top) = match (
        upper.ancestors().nth(3),
        upper.parent().and_then(Path::file_name),
    ) {
        (Some(root), Some(top)) if upper.ends_with("diff") => {
            (root, top.to_string_lossy().into_owned())
        }
        _ => return Err(format!("unexpected layer directory {}", upper.display())),
    };
    let hex = placement.id.trim_start_matches("sha256:");
    let id = Digest::parse(&format!("sha256:{hex}")).map_err(|e| format!("image ID: {e}"))?;
    let key = base64::engine::general_purpose::STANDARD.encode(format!("sha256:{hex}"));
    let config_path = root
        .join("overlay-images")
        .join(hex)
        .join(format!("={key}"));
    let (config_json, config) = read_config(&config_path, &id)?;
    let layers_json = root.join("overlay-layers/layers.json");
    let records: Vec<LayerRecord> = serde_json::from_slice(&read_small(&layers_json)?)
        .map_err(|e| format!("{}: {e}", layers_json.display()))?;
    // The chain from the top layer down, by parent.
    let mut chain = Vec::new();
    let mut next = Some(top);
    while let Some(id) = next {
        let record = records
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| format!("layer {id} is not in {}", layers_json.display()))?;
        chain.push(record);
        if chain.len() > config.diff_ids().len() {
            break;
        }
        next = record.parent.clone();
    }
    chain.reverse();
    let diff_ids = config.diff_ids();
    let held: Vec<&str> = chain
        .iter()
        .map(|r| r.diff_digest.as_deref().unwrap_or(""))
        .collect();
    if held != diff_ids.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!(
            "the store's layer chain ({} layers) does not hold the image's {} diff_ids in order",
            chain.len(),
            diff_ids.len()
        ));
    }
    let mut layers = Vec::new();
    for r in chain {
        if r.id.contains('/') || r.id.starts_with('.') {
            return Err(format!("unexpected layer id {:?}", r.id));
        }
        let dir = root.join("overlay").join(&r.id).join("diff");
        let tar_split = root
            .join("overlay-layers")
            .join(format!("{}.tar-split.gz", r.id));
        for path in [&dir, &tar_split] {
            std::fs::symlink_metadata(path).map_err(|e| cannot_read(path, &e))?;
        }
        layers.push((
            Blob::Store(StoreLayer {
                dir,
                tar_split,
                size: r.diff_size.unwrap_or(0),
            }),
            Compression::None,
            None,
        ));
    }
    SourceImage::new(config_json, layers).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::ImageRef;

    fn spec(reference: &str) -> StoreSpec {
        match ImageRef::parse(reference).unwrap() {
            ImageRef::Storage { store, .. } => *store.unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_spelled_out_default_store_goes_without_flags() {
        let default = DefaultStore {
            driver: "overlay".into(),
            root: "/var/lib/containers/storage".into(),
            run_root: "/run/containers/storage".into(),
        };
        let ours = "/var/lib/containers/storage";
        for same in [
            format!("containers-storage:[overlay@{ours}+/run/containers/storage]a:1"),
            format!("containers-storage:[{ours}]a:1"),
            format!("containers-storage:[overlay@{ours}]a:1"),
        ] {
            assert!(default.is(&spec(&same)), "{same}");
        }
        for other in [
            "containers-storage:[vfs@/var/lib/containers/storage]a:1".to_string(),
            "containers-storage:[overlay@/srv/store]a:1".to_string(),
            format!("containers-storage:[overlay@{ours}+/run/other]a:1"),
            format!("containers-storage:[overlay@{ours}:overlay.mountopt=nodev]a:1"),
        ] {
            assert!(!default.is(&spec(&other)), "{other}");
        }
    }
}
