//! The image config, read once into types: oci-spec's for everything the
//! OCI spec defines, plus Docker's `Healthcheck`, which oci-spec does not
//! carry. The bytes themselves travel on unchanged (the writer keeps every
//! key, Docker-only ones included).

use oci_spec::image::ImageConfiguration;
use serde::Deserialize;

use super::SourceError;
use crate::platform::Platform;

/// A verified image config.
#[derive(Clone, Debug)]
pub struct ImageConfig {
    pub oci: ImageConfiguration,
    /// Docker's `config.Healthcheck.Test` (`["CMD", ...]`, `["CMD-SHELL", "..."]`, `["NONE"]`).
    pub healthcheck: Option<Vec<String>>,
}

/// The part of a Docker config that oci-spec leaves out.
#[derive(Deserialize)]
struct DockerOnly {
    #[serde(default)]
    config: Option<DockerRun>,
}

#[derive(Deserialize)]
struct DockerRun {
    #[serde(rename = "Healthcheck", default)]
    healthcheck: Option<Healthcheck>,
}

#[derive(Deserialize)]
struct Healthcheck {
    #[serde(rename = "Test", default)]
    test: Option<Vec<String>>,
}

impl ImageConfig {
    pub fn parse(json: &[u8]) -> Result<Self, SourceError> {
        let invalid = |source| SourceError::InvalidSpec {
            name: "image config".into(),
            what: "its JSON".into(),
            source,
        };
        let oci = ImageConfiguration::from_reader(json).map_err(invalid)?;
        let docker: DockerOnly =
            serde_json::from_slice(json).map_err(|source| SourceError::InvalidJson {
                name: "image config".into(),
                what: "its Healthcheck".into(),
                source,
            })?;
        Ok(ImageConfig {
            oci,
            healthcheck: docker
                .config
                .and_then(|c| c.healthcheck)
                .and_then(|h| h.test),
        })
    }

    pub fn platform(&self) -> Platform {
        Platform::of_config(&self.oci)
    }

    pub fn diff_ids(&self) -> &[String] {
        self.oci.rootfs().diff_ids()
    }

    fn run(&self) -> Option<&oci_spec::image::Config> {
        self.oci.config().as_ref()
    }

    pub fn entrypoint(&self) -> &[String] {
        self.run()
            .and_then(|c| c.entrypoint().as_deref())
            .unwrap_or_default()
    }

    pub fn cmd(&self) -> &[String] {
        self.run()
            .and_then(|c| c.cmd().as_deref())
            .unwrap_or_default()
    }

    pub fn env(&self) -> &[String] {
        self.run()
            .and_then(|c| c.env().as_deref())
            .unwrap_or_default()
    }

    pub fn working_dir(&self) -> &str {
        self.run()
            .and_then(|c| c.working_dir().as_deref())
            .unwrap_or_default()
    }

    pub fn user(&self) -> &str {
        self.run()
            .and_then(|c| c.user().as_deref())
            .unwrap_or_default()
    }

    /// VOLUME paths, sorted (the config stores them as a map).
    pub fn volumes(&self) -> Vec<String> {
        let mut v = self
            .run()
            .and_then(|c| c.volumes().clone())
            .unwrap_or_default();
        v.sort();
        v
    }
}
