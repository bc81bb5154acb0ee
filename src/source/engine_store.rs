//! The local Docker engine's overlay2 layer store, read in place.
//!
//! `docker save` copies every byte of every layer into one archive before
//! slimify reads a byte; yet slimify keeps a small part of them. When the
//! engine runs on this machine with the overlay2 driver and its data root
//! is readable (as root), the image is instead found where the engine keeps
//! it (moby's layout, `image/overlay2/` beside `overlay2/`):
//!
//! - the config is `imagedb/content/sha256/<image id>`, checked against the ID;
//! - layer `n` is `layerdb/sha256/<chain id n>/`, where chain id 0 is the
//!   first diff_id and chain id n is `sha256("<chain id n-1> <diff_id n>")`;
//!   its `diff` file must name diff_id n, its `cache-id` names the directory
//!   `overlay2/<cache id>/diff` that holds the layer's files, and its
//!   `tar-split.json.gz` holds the layer's tar headers (see
//!   `layer/tar_split.rs`, which indexes it without reading the files).
//!
//! Anything that does not fit this picture (another driver, the containerd
//! image store, an engine elsewhere, a store that cannot be read, a chain
//! that does not match the image) is a reason to use `docker save` instead,
//! given to the user in one line. What goes wrong once reading has started
//! (a layer deleted meanwhile) is an error naming it: never a wrong image.

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::engine::{cannot_read, read_config, read_small, Fallback, Placement};
use super::{Blob, Compression, SourceImage, StoreLayer};
use crate::digest::Digest;

/// Open the image in place, or say why it cannot be.
pub(super) fn open(placement: &Placement) -> Result<SourceImage, Fallback> {
    // The driver first: another one goes on to containerd's image store,
    // which asks where the engine is itself.
    if placement.driver.name != "overlay2" {
        return Err(format!(
            "the engine keeps images with the {:?} storage driver; reading in place needs overlay2",
            placement.driver.name
        ));
    }
    engine_is_local()?;
    let upper = placement.upper_dir()?;
    // UpperDir is <data root>/overlay2/<cache id>/diff.
    let root = upper
        .ancestors()
        .nth(3)
        .filter(|_| upper.ends_with("diff"))
        .ok_or_else(|| format!("unexpected layer directory {}", upper.display()))?;
    let store = Store {
        images: root.join("image/overlay2"),
        layers: root.join("overlay2"),
    };
    let id = Digest::parse(&placement.id).map_err(|e| format!("image ID: {e}"))?;
    let config_path = store.images.join("imagedb/content/sha256").join(id.hex());
    let (config_json, config) = read_config(&config_path, &id)?;
    let mut layers = Vec::new();
    let mut chain: Option<String> = None;
    for (n, diff_id) in config.diff_ids().iter().enumerate() {
        let chain_id = match &chain {
            None => diff_id.to_string(),
            Some(below) => format!(
                "sha256:{:x}",
                Sha256::digest(format!("{below} {diff_id}").as_bytes())
            ),
        };
        layers.push((
            Blob::Store(store.layer(n, &chain_id, diff_id)?),
            Compression::None,
            None,
        ));
        chain = Some(chain_id);
    }
    match layers.last() {
        Some((Blob::Store(top), _, _)) if top.dir == upper => {}
        _ => {
            return Err(format!(
                "the store's layer chain for {id} does not end at {}",
                upper.display()
            ))
        }
    }
    SourceImage::new(config_json, layers).map_err(|e| e.to_string())
}

/// The engine's image and layer directories.
struct Store {
    /// `<root>/image/overlay2`: image configs and the layer database.
    images: PathBuf,
    /// `<root>/overlay2`: the layers' files.
    layers: PathBuf,
}

impl Store {
    /// Layer `n` of the chain, which must hold `diff_id`.
    fn layer(&self, n: usize, chain_id: &str, diff_id: &str) -> Result<StoreLayer, Fallback> {
        let hex = chain_id.trim_start_matches("sha256:");
        let db = self.images.join("layerdb/sha256").join(hex);
        let held = read_small(&db.join("diff"))?;
        if held.trim_ascii() != diff_id.as_bytes() {
            return Err(format!(
                "layer {n}: the store's chain {chain_id} holds {}, the image says {diff_id}",
                String::from_utf8_lossy(held.trim_ascii())
            ));
        }
        let cache_id = String::from_utf8(read_small(&db.join("cache-id"))?)
            .map_err(|_| format!("{}: not UTF-8", db.join("cache-id").display()))?;
        let cache_id = cache_id.trim();
        if cache_id.is_empty() || cache_id.contains('/') || cache_id.starts_with('.') {
            return Err(format!("{}: unexpected cache id", db.display()));
        }
        let dir = self.layers.join(cache_id).join("diff");
        let tar_split = db.join("tar-split.json.gz");
        for path in [&dir, &tar_split] {
            std::fs::symlink_metadata(path).map_err(|e| cannot_read(path, &e))?;
        }
        let size = read_small(&db.join("size"))
            .ok()
            .and_then(|s| String::from_utf8(s).ok()?.trim().parse().ok())
            .unwrap_or(0);
        Ok(StoreLayer {
            dir,
            tar_split,
            size,
        })
    }
}

/// The engine must be on this machine: a `unix://` socket, by `DOCKER_HOST`
/// or by the CLI's current context.
pub(super) fn engine_is_local() -> Result<(), Fallback> {
    let host = match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h,
        _ if uses_a_context() => crate::docker::run(&[
            "context",
            "inspect",
            "--format",
            "{{.Endpoints.docker.Host}}",
        ])
        .map_err(|e| format!("cannot tell where the engine is: {e}"))?
        .trim()
        .to_string(),
        _ => return Ok(()),
    };
    if host.starts_with("unix://") || host.starts_with('/') {
        Ok(())
    } else {
        Err(format!("the engine is not on this machine ({host})"))
    }
}

/// Whether the CLI may talk to another engine than the default socket's:
/// `DOCKER_CONTEXT`, or a current context in its config file.
fn uses_a_context() -> bool {
    if std::env::var_os("DOCKER_CONTEXT").is_some_and(|c| !c.is_empty() && c != "default") {
        return true;
    }
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    dir.and_then(|d| std::fs::read_to_string(d.join("config.json")).ok())
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v.get("currentContext")?.as_str().map(|c| c != "default"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(driver: &str, upper: Option<&str>) -> Placement {
        Placement {
            id: format!("sha256:{}", "a".repeat(64)),
            driver: crate::source::engine::GraphDriver {
                name: driver.into(),
                data: upper.map(|u| [("UpperDir".to_string(), u.to_string())].into()),
            },
        }
    }

    fn fallback(p: &Placement) -> Fallback {
        match open(p) {
            Ok(_) => panic!("{p:?} opened"),
            Err(why) => why,
        }
    }

    #[test]
    fn other_drivers_and_missing_stores_fall_back_with_a_reason() {
        let why = fallback(&placement("overlayfs", None));
        assert!(why.contains("\"overlayfs\" storage driver"), "{why}");
        let why = fallback(&placement("overlay2", None));
        assert!(why.contains("no layer directory"), "{why}");
        let why = fallback(&placement("overlay2", Some("/nonexistent/overlay2/x/diff")));
        assert!(why.contains("not found"), "{why}");
        assert!(why.contains("/nonexistent/image/overlay2/imagedb"), "{why}");
    }
}
