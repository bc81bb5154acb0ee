//! Registry credentials: `--src-creds` or `--dest-creds` for their side,
//! else `--creds`, else the Docker config file.
//!
//! The config file is read by the docker_credential crate, which follows
//! `DOCKER_CONFIG`, `auths` entries and credential helpers (`credHelpers`,
//! `credsStore`) exactly as the docker CLI does. No configured credential
//! means anonymous access, which many registries allow for pulls.

use docker_credential::{CredentialRetrievalError as E, DockerCredential};
use oci_client::secrets::RegistryAuth;

use super::{RegistryError, Role, Settings};

/// The key the docker CLI stores Docker Hub's credentials under.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

pub fn for_registry(
    registry: &str,
    settings: &Settings,
    role: Role,
) -> Result<RegistryAuth, RegistryError> {
    if let Some((user, password)) = settings.creds_for(role) {
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

    fn basic(s: &Settings, role: Role) -> (String, String) {
        match for_registry("127.0.0.1:5000", s, role).unwrap() {
            RegistryAuth::Basic(u, p) => (u, p),
            _ => panic!("not basic auth"),
        }
    }

    #[test]
    fn creds_flags_win_and_each_side_has_its_own() {
        let both = ("u".to_string(), "p:w".to_string());
        let mut s = Settings {
            creds: Some(both.clone()),
            ..Default::default()
        };
        assert_eq!(basic(&s, Role::Source), both);
        assert_eq!(basic(&s, Role::Target), both);
        s.src_creds = Some(("reader".into(), "r".into()));
        assert_eq!(basic(&s, Role::Source).0, "reader");
        assert_eq!(basic(&s, Role::Target), both);
        s.dest_creds = Some(("writer".into(), "w".into()));
        assert_eq!(basic(&s, Role::Target).0, "writer");
        assert_eq!(
            Settings::parse_creds("--creds", "u:p:w").unwrap(),
            ("u".to_string(), "p:w".to_string())
        );
        let e = Settings::parse_creds("--src-creds", "nocolon").unwrap_err();
        assert!(e.to_string().starts_with("--src-creds must be"), "{e}");
    }
}
