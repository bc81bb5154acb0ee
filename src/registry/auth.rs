//! Registry credentials: `--creds`, else the Docker config file.
//!
//! The config file is read by the docker_credential crate, which follows
//! `DOCKER_CONFIG`, `auths` entries and credential helpers (`credHelpers`,
//! `credsStore`) exactly as the docker CLI does. No configured credential
//! means anonymous access, which many registries allow for pulls.

use docker_credential::{CredentialRetrievalError as E, DockerCredential};
use oci_client::secrets::RegistryAuth;

use super::{RegistryError, Settings};

/// The key the docker CLI stores Docker Hub's credentials under.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

pub fn for_registry(registry: &str, settings: &Settings) -> Result<RegistryAuth, RegistryError> {
    if let Some((user, password)) = &settings.creds {
        return Ok(RegistryAuth::Basic(user.clone(), password.clone()));
    }
    let server = if registry == "docker.io" || registry == "index.docker.io" {
        DOCKER_HUB
    } else {
        registry
    };
    match docker_credential::get_credential(server) {
        Ok(DockerCredential::UsernamePassword(user, password)) => {
            Ok(RegistryAuth::Basic(user, password))
        }
        Ok(DockerCredential::IdentityToken(_)) => Err(RegistryError::IdentityToken {
            registry: registry.to_string(),
        }),
        Err(E::ConfigNotFound | E::ConfigReadError | E::NoCredentialConfigured) => {
            Ok(RegistryAuth::Anonymous)
        }
        Err(e) => Err(RegistryError::Credentials {
            registry: registry.to_string(),
            message: e.to_string().lines().next().unwrap_or_default().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creds_flag_wins() {
        let s = Settings {
            creds: Some(("u".into(), "p:w".into())),
            ..Default::default()
        };
        assert!(matches!(
            for_registry("127.0.0.1:5000", &s).unwrap(),
            RegistryAuth::Basic(u, p) if u == "u" && p == "p:w"
        ));
        assert_eq!(
            Settings::parse_creds("u:p:w").unwrap(),
            ("u".to_string(), "p:w".to_string())
        );
        assert!(Settings::parse_creds("nocolon").is_err());
    }
}
