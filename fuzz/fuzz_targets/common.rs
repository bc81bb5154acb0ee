//! What every fuzz target needs: a scratch directory, splitting one input into
//! parts, and flattening tars the way the pipeline does.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use indicatif::ProgressBar;
use slimify::internals::{index_layer, Blob, BlobFile, Budget, Compression, Digest, LayerBlob, RootFs};
use slimify::Limits;

/// One scratch directory per fuzzing process (a tmpfs when there is one).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        };
        tempfile::Builder::new()
            .prefix("slimify-fuzz-")
            .tempdir_in(base)
            .unwrap()
    })
    .path()
}

/// `data` split at every `sep` (the seeds carry the separators).
pub fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

/// Index `layers` (each stored as given, compression sniffed) and flatten
/// them with the default limits; `None` when slimify refuses them.
pub fn flatten(layers: &[&[u8]]) -> Option<RootFs> {
    let dir = scratch();
    let budget = Budget::new(Limits::default());
    let mut indexes = Vec::new();
    for (i, data) in layers.iter().enumerate() {
        let path = dir.join(format!("layer{i}"));
        std::fs::write(&path, data).ok()?;
        let blob = LayerBlob {
            blob: Blob::Local(BlobFile::whole(&path).ok()?),
            compression: Compression::Sniff,
            digest: None,
            diff_id: Digest::of(data),
        };
        indexes.push(index_layer(i, &blob, dir, &ProgressBar::hidden(), &budget).ok()?);
    }
    RootFs::from_layers(indexes).ok()
}

/// A tar holding `files` as (path, mode, content).
pub fn tar_of(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// An image config running `run` (Docker's `config` object), with what
/// every config must have.
pub fn config(run: serde_json::Value) -> slimify::internals::ImageConfig {
    let json = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "config": run,
    });
    slimify::internals::ImageConfig::parse(&serde_json::to_vec(&json).unwrap()).unwrap()
}
