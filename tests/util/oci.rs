//! Hand-made OCI layouts for hostile and broken input: tiny, built in the
//! test, each broken in exactly one way.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use slimify::internals::Digest;

pub const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// A small valid layer: a static "app" and an /etc.
pub fn sample_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, mode) in [
        ("bin/app", &b"#!/bin/sh\necho hi\n"[..], 0o755),
        ("etc/hostname", b"box\n", 0o644),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A layout on disk whose parts the test can then break.
pub struct Layout {
    pub dir: PathBuf,
    pub manifest: Value,
    pub config: Value,
}

impl Layout {
    /// Write a one-layer image tagged `t`; the layer is stored as `media_type`.
    pub fn new(dir: &Path, tar: &[u8], media_type: &str) -> Layout {
        let stored = if media_type.ends_with("gzip") {
            gzip(tar)
        } else {
            tar.to_vec()
        };
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": { "Entrypoint": ["/bin/app"], "Env": ["SECRET_TOKEN=hunter2"] },
            "rootfs": { "type": "layers", "diff_ids": [Digest::of(tar).to_string()] },
        });
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let mut l = Layout {
            dir: dir.to_path_buf(),
            manifest: Value::Null,
            config,
        };
        let layer = l.put(&stored);
        let config_bytes = serde_json::to_vec(&l.config).unwrap();
        let config_digest = l.put(&config_bytes);
        l.manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config_bytes.len() },
            "layers": [{ "mediaType": media_type, "digest": layer.to_string(), "size": stored.len() }],
        });
        l.save_manifest();
        l
    }

    /// Store a blob by its digest.
    pub fn put(&self, data: &[u8]) -> Digest {
        let d = Digest::of(data);
        std::fs::write(self.blob_path(&d), data).unwrap();
        d
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(d.hex())
    }

    pub fn layer_digest(&self) -> Digest {
        Digest::parse(self.manifest["layers"][0]["digest"].as_str().unwrap()).unwrap()
    }

    pub fn config_digest(&self) -> Digest {
        Digest::parse(self.manifest["config"]["digest"].as_str().unwrap()).unwrap()
    }

    /// Re-store the (edited) manifest and point index.json at it as tag `t`.
    pub fn save_manifest(&self) {
        let bytes = serde_json::to_vec(&self.manifest).unwrap();
        let d = self.put(&bytes);
        let index = json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": d.to_string(),
                "size": bytes.len(),
                "annotations": { "org.opencontainers.image.ref.name": "t" },
            }],
        });
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }

    /// Replace the layer with `stored` bytes, updating digest and size so only
    /// the content itself is wrong.
    pub fn replace_layer(&mut self, stored: &[u8]) {
        let d = self.put(stored);
        self.manifest["layers"][0]["digest"] = json!(d.to_string());
        self.manifest["layers"][0]["size"] = json!(stored.len());
        self.save_manifest();
    }

    /// Re-store the (edited) config and point the manifest at it.
    pub fn replace_config(&mut self) {
        let bytes = serde_json::to_vec(&self.config).unwrap();
        let d = self.put(&bytes);
        self.manifest["config"]["digest"] = json!(d.to_string());
        self.manifest["config"]["size"] = json!(bytes.len());
        self.save_manifest();
    }

    pub fn reference(&self) -> String {
        format!("oci:{}:t", self.dir.display())
    }
}

/// Every file below `dir` with its content digest, to show nothing changed.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Digest)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), Digest::of(&std::fs::read(&p).unwrap())));
            }
        }
    }
    out.sort();
    out
}
