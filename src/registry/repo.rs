//! One repository on one registry, with blocking calls over oci-client.

use std::io::{Read, Write};

use futures_util::TryStreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};

use super::{auth, block_on, tls, RegistryError, Role, Settings};
use crate::blob::BlobFile;
use crate::digest::Digest;
use crate::limits::METADATA_BYTES;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// The manifest kinds slimify reads: single images and indexes, OCI and Docker.
const ACCEPTED: &[&str] = &[
    OCI_IMAGE_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
];

/// Upload chunk size: large enough that a slim layer takes a few requests.
const PUSH_CHUNK: usize = 8 << 20;

/// A repository (`HOST[:PORT]/REPO`) and the tag or digest a reference names.
pub struct Repo {
    client: Client,
    reference: Reference,
    auth: RegistryAuth,
    /// Operations already logged in for: oci-client renews an expired token
    /// by itself once it holds the credentials.
    authorized: std::sync::Mutex<Vec<RegistryOperation>>,
    /// `docker://...` as the user wrote it, for messages.
    pub name: String,
    /// `HOST[:PORT]`.
    registry: String,
}

/// A manifest or index as the registry sent it.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    /// The document's own `mediaType`, which every OCI and Docker schema 2
    /// manifest carries.
    pub media_type: String,
}

impl Repo {
    /// Prepare a connection to `reference` (`HOST[:PORT]/REPO:TAG` or `@sha256:...`).
    /// Nothing is sent until the first call.
    pub fn connect(reference: &str, settings: &Settings, role: Role) -> Result<Repo> {
        let name = format!("docker://{reference}");
        let reference: Reference =
            reference
                .parse()
                .map_err(|source| RegistryError::Reference {
                    name: name.clone(),
                    source,
                })?;
        let registry = reference.resolve_registry().to_string();
        let config = ClientConfig {
            protocol: if settings.insecure.contains(&registry) {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            extra_root_certificates: tls::extra_roots(&registry, &settings.cert_dirs)
                .map_err(RegistryError::Certificates)?,
            connect_timeout: Some(std::time::Duration::from_secs(30)),
            read_timeout: Some(std::time::Duration::from_secs(300)),
            ..ClientConfig::default()
        };
        let auth = auth::for_registry(&registry, settings, role)?;
        let client = Client::new(config);
        let repo = Repo {
            client,
            reference,
            auth,
            authorized: Default::default(),
            name,
            registry,
        };
        Ok(repo)
    }

    pub fn digest(&self) -> Option<&str> {
        self.reference.digest()
    }

    /// The error for a failed request.
    fn failed(
        &self,
        what: &str,
        source: oci_client::errors::OciDistributionError,
    ) -> RegistryError {
        RegistryError::Request {
            what: what.to_string(),
            name: self.name.clone(),
            registry: self.registry.clone(),
            source: Box::new(source),
        }
    }

    /// Log in for pushing now, so a target that refuses is known before any
    /// work (a registry without auth says yes at once).
    pub fn check_push(&self) -> Result<()> {
        self.authorize(RegistryOperation::Push)?;
        // Some registries only refuse at the first push request: ask for
        // the tag as a cheap authenticated request that a missing tag answers.
        match block_on(
            self.client
                .fetch_manifest_digest(&self.reference, &self.auth),
        ) {
            Ok(_) => Ok(()),
            Err(oci_client::errors::OciDistributionError::ImageManifestNotFoundError(_)) => Ok(()),
            Err(oci_client::errors::OciDistributionError::RegistryError { envelope, .. })
                if envelope.errors.iter().all(|e| {
                    matches!(
                        e.code,
                        oci_client::errors::OciErrorCode::ManifestUnknown
                            | oci_client::errors::OciErrorCode::NameUnknown
                            | oci_client::errors::OciErrorCode::NotFound
                    )
                }) =>
            {
                Ok(())
            }
            Err(oci_client::errors::OciDistributionError::ServerError { code: 404, .. }) => Ok(()),
            Err(e) => Err(self.failed("reaching", e)),
        }
    }

    /// The same repository at another digest (a platform's manifest of an index).
    fn at(&self, digest: &Digest) -> Reference {
        self.reference.clone_with_digest(digest.to_string())
    }

    /// Log in for `op` (a token for token-auth registries; basic credentials
    /// otherwise), once per operation.
    fn authorize(&self, op: RegistryOperation) -> Result<()> {
        let mut done = self.authorized.lock().unwrap_or_else(|p| p.into_inner());
        if done.contains(&op) {
            return Ok(());
        }
        block_on(self.client.auth(&self.reference, &self.auth, op))
            .map_err(|e| self.failed("logging in for", e))?;
        done.push(op);
        Ok(())
    }

    /// The manifest or index the reference names (`digest`: another one in
    /// this repository), checked against the digest it was asked for.
    pub fn manifest(&self, digest: Option<&Digest>) -> Result<Fetched> {
        self.authorize(RegistryOperation::Pull)?;
        let at = digest.map(|d| self.at(d));
        let image = at.as_ref().unwrap_or(&self.reference);
        let (bytes, _) = block_on(self.client.pull_manifest_raw(image, &self.auth, ACCEPTED))
            .map_err(|e| self.failed("fetching the manifest of", e))?;
        if bytes.len() as u64 > METADATA_BYTES {
            return Err(RegistryError::TooLarge {
                name: self.name.clone(),
                what: "manifest",
                len: bytes.len() as u64,
                max: METADATA_BYTES,
            });
        }
        let actual = Digest::of(&bytes);
        let wanted = digest
            .cloned()
            .or_else(|| self.reference.digest().and_then(|d| Digest::parse(d).ok()));
        if let Some(wanted) = wanted {
            wanted.verify(&actual, &format!("manifest of {}", self.name))?;
        }
        let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string))
            .ok_or_else(|| RegistryError::NoMediaType {
                name: self.name.clone(),
                digest: actual.to_string(),
            })?;
        Ok(Fetched {
            bytes: bytes.to_vec(),
            digest: actual,
            media_type,
        })
    }

    /// Download blob `digest` of `size` bytes into `out`; more or fewer
    /// bytes than `size` is an error. The caller verifies the digest: a
    /// layer's is checked by `layer::index_layer` as it inflates the blob,
    /// so hashing here too would read every layer's bytes twice.
    pub fn fetch_blob(&self, digest: &Digest, size: u64, out: &mut dyn Write) -> Result<()> {
        self.authorize(RegistryOperation::Pull)?;
        let what = format!("blob {digest} of {}", self.name);
        let mut n: u64 = 0;
        block_on(async {
            let mut stream = self
                .client
                .pull_blob_stream(&self.reference, digest.as_str())
                .await
                .map_err(|e| self.failed(&format!("fetching blob {digest} of"), e))?;
            while let Some(chunk) = stream.try_next().await.map_err(|e| {
                self.failed(
                    &format!("fetching blob {digest} of"),
                    oci_client::errors::OciDistributionError::IoError(e),
                )
            })? {
                if crate::interrupt::interrupted() {
                    return Err(RegistryError::Interrupted);
                }
                n += chunk.len() as u64;
                if n > size {
                    return Err(RegistryError::Long {
                        what: what.clone(),
                        declared: size,
                    });
                }
                out.write_all(&chunk)
                    .map_err(|source| RegistryError::Store {
                        what: what.clone(),
                        source,
                    })?;
            }
            Ok(())
        })?;
        if n != size {
            return Err(RegistryError::Short {
                what,
                sent: n,
                declared: size,
            });
        }
        Ok(())
    }

    /// Whether the repository already holds blob `digest`.
    pub fn has_blob(&self, digest: &Digest) -> Result<bool> {
        self.authorize(RegistryOperation::Push)?;
        block_on(self.client.blob_exists(&self.reference, digest.as_str()))
            .map_err(|e| self.failed("checking for a blob in", e))
    }

    /// Upload `blob` under `digest`, streamed in chunks.
    pub fn push_blob(&self, digest: &Digest, blob: &BlobFile) -> Result<()> {
        self.authorize(RegistryOperation::Push)?;
        let mut reader = blob.reader();
        let chunks = futures_util::stream::iter(std::iter::from_fn(move || {
            let mut buf = vec![0; PUSH_CHUNK];
            let mut n = 0;
            while n < buf.len() {
                match reader.read(&mut buf[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) => {
                        return Some(Err(oci_client::errors::OciDistributionError::IoError(e)))
                    }
                }
            }
            buf.truncate(n);
            (n > 0).then(|| Ok(bytes::Bytes::from(buf)))
        }));
        block_on(self.client.push_blob_stream(
            &self.reference,
            chunks,
            digest.as_str(),
            Some(blob.len()),
        ))
        .map_err(|e| self.failed(&format!("uploading {digest} to"), e))?;
        Ok(())
    }

    /// Upload a small blob (a config) in one request.
    pub fn push_bytes(&self, digest: &Digest, data: &[u8]) -> Result<()> {
        self.authorize(RegistryOperation::Push)?;
        block_on(
            self.client
                .push_blob(&self.reference, data.to_vec(), digest.as_str()),
        )
        .map_err(|e| self.failed(&format!("uploading {digest} to"), e))?;
        Ok(())
    }

    /// Put a manifest (or index) under the reference's tag, or under its own
    /// `digest` (the platform images an index lists).
    pub fn push_manifest(
        &self,
        bytes: &[u8],
        media_type: &str,
        digest: Option<&Digest>,
    ) -> Result<()> {
        self.authorize(RegistryOperation::Push)?;
        let content_type = media_type
            .parse()
            .expect("slimify's own manifest media types are valid header values");
        let at = digest.map(|d| self.at(d));
        let image = at.as_ref().unwrap_or(&self.reference);
        block_on(
            self.client
                .push_manifest_raw(image, bytes.to_vec(), content_type),
        )
        .map_err(|e| self.failed("uploading the manifest of", e))?;
        Ok(())
    }
}
