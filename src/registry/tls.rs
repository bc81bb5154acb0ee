//! Which certificate authorities a registry connection trusts, besides the
//! system roots: `--cert-dir` directories, then the per-registry directories
//! the Docker engine (`/etc/docker/certs.d/HOST[:PORT]/`) and Podman/skopeo
//! (`/etc/containers/certs.d/HOST[:PORT]/`) read. Every `*.crt` file in them
//! is a PEM CA bundle, as there.

use std::path::{Path, PathBuf};

use oci_client::client::{Certificate, CertificateEncoding};

use crate::files::{IoContext, PathError};

const SYSTEM_DIRS: &[&str] = &["/etc/docker/certs.d", "/etc/containers/certs.d"];

pub fn extra_roots(registry: &str, cert_dirs: &[PathBuf]) -> Result<Vec<Certificate>, PathError> {
    let mut dirs: Vec<PathBuf> = cert_dirs.to_vec();
    dirs.extend(SYSTEM_DIRS.iter().map(|d| Path::new(d).join(registry)));
    let mut certs = Vec::new();
    for dir in dirs {
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = listing
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "crt"))
            .collect();
        files.sort();
        for f in files {
            certs.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data: std::fs::read(&f).at(&f)?,
            });
        }
    }
    Ok(certs)
}
