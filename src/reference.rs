//! Image references in skopeo's transport syntax (containers-transports(5)).
//!
//! `TRANSPORT:DETAILS`, where the path-based transports split DETAILS at the
//! first `:` into a path and an optional tag, exactly as containers/image does
//! on Linux. A reference without a known transport prefix is a Docker engine
//! reference (`myapp:fat`), the common case for a post-build CI step.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where an image is read from or written to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRef {
    /// The local Docker engine (`docker-daemon:NAME[:TAG]` or a bare reference).
    Daemon { name: String },
    /// A tar as written by `docker save` and read by `docker load`.
    DockerArchive { path: PathBuf, name: Option<String> },
    /// An OCI image layout directory.
    Oci { dir: PathBuf, tag: Option<String> },
    /// A tar of an OCI image layout.
    OciArchive { path: PathBuf, tag: Option<String> },
    /// A registry, over the OCI distribution API (`docker://HOST[:PORT]/REPO:TAG`
    /// or `...@sha256:HEX`). Held as `HOST/REPO:TAG` with the tag defaulted to `latest`.
    Registry { reference: String },
}

/// Transports skopeo knows that slimify does not (yet) read or write.
const UNSUPPORTED: &[&str] = &["containers-storage", "dir", "ostree", "sif", "tarball"];

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() {
            return Err(Error::Reference("empty image reference".into()));
        }
        if let Some((scheme, rest)) = s.split_once("://") {
            if scheme != "docker" {
                return Err(unknown_transport(scheme, s));
            }
            if !is_docker_reference(rest) {
                return Err(Error::Reference(format!(
                    "{s}: {rest:?} is not a valid registry reference (HOST[:PORT]/REPO[:TAG] or REPO@sha256:HEX)"
                )));
            }
            return Ok(ImageRef::Registry {
                reference: normalize_tag(rest)?,
            });
        }
        let Some((transport, rest)) = s.split_once(':') else {
            return Self::daemon(s, s);
        };
        let (path, name) = match rest.split_once(':') {
            Some((p, n)) => (p, Some(n.to_string())),
            None => (rest, None),
        };
        let path_ok = || {
            if path.is_empty() {
                Err(Error::Reference(format!(
                    "{s}: missing path after {transport}:"
                )))
            } else {
                Ok(PathBuf::from(path))
            }
        };
        match transport {
            "docker-daemon" => Self::daemon(rest, s),
            "docker-archive" => Ok(ImageRef::DockerArchive {
                path: path_ok()?,
                name: name.map(|n| normalize_tag(&n)).transpose()?,
            }),
            "oci" => Ok(ImageRef::Oci {
                dir: path_ok()?,
                tag: name,
            }),
            "oci-archive" => Ok(ImageRef::OciArchive {
                path: path_ok()?,
                tag: name,
            }),
            "docker" => Err(Error::Reference(format!(
                "{s}: the registry transport is written docker://HOST[:PORT]/REPO[:TAG]"
            ))),
            t if UNSUPPORTED.contains(&t) => Err(Error::Reference(format!(
                "{s}: the {t}: transport is not supported; \
                 use docker://, docker-daemon:, docker-archive:, oci: or oci-archive:"
            ))),
            // `myapp:fat` and `registry.local:5000/app:v1` are engine references.
            _ if is_docker_reference(s) => Self::daemon(s, s),
            t => Err(unknown_transport(t, s)),
        }
    }

    fn daemon(name: &str, whole: &str) -> Result<Self> {
        if !is_docker_reference(name) {
            return Err(Error::Reference(format!(
                "{whole}: {name:?} is not a valid Docker image reference"
            )));
        }
        Ok(ImageRef::Daemon {
            name: normalize_tag(name)?,
        })
    }
}

fn unknown_transport(t: &str, whole: &str) -> Error {
    Error::Reference(format!(
        "{whole}: unknown transport {t:?}; \
         known: docker://, docker-daemon:, docker-archive:, oci:, oci-archive: (or a bare NAME:TAG)"
    ))
}

/// Add `:latest` to a reference without tag or digest, as `docker tag` does.
fn normalize_tag(name: &str) -> Result<String> {
    if !is_docker_reference(name) {
        return Err(Error::Reference(format!(
            "{name:?} is not a valid Docker image reference"
        )));
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        Ok(name.to_string())
    } else {
        Ok(format!("{name}:latest"))
    }
}

/// A loose check of the Docker reference grammar (distribution/reference):
/// `[host[:port]/]path[:tag][@sha256:hex]`, lowercase path components.
fn is_docker_reference(s: &str) -> bool {
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        if crate::digest::Digest::parse(d).is_err() {
            return false;
        }
    }
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (name, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && !t.starts_with(['.', '-']);
        if !ok {
            return false;
        }
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        // registry host[:port]
        let (host, port) = match parts[0].split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (parts[0], None),
        };
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
        let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !(host_ok && port_ok) {
            return false;
        }
        parts.remove(0);
    }
    !repo.is_empty()
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
                && p.starts_with(|c: char| c.is_ascii_alphanumeric())
                && p.ends_with(|c: char| c.is_ascii_alphanumeric())
        })
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = |f: &mut fmt::Formatter<'_>, t: &str, p: &PathBuf, n: &Option<String>| {
            write!(f, "{t}:{}", p.display())?;
            if let Some(n) = n {
                write!(f, ":{n}")?;
            }
            Ok(())
        };
        match self {
            ImageRef::Daemon { name } => write!(f, "docker-daemon:{name}"),
            ImageRef::DockerArchive { path, name } => with(f, "docker-archive", path, name),
            ImageRef::Oci { dir, tag } => with(f, "oci", dir, tag),
            ImageRef::OciArchive { path, tag } => with(f, "oci-archive", path, tag),
            ImageRef::Registry { reference } => write!(f, "docker://{reference}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    #[test]
    fn bare_and_daemon_references() {
        let d = |n: &str| ImageRef::Daemon { name: n.into() };
        assert_eq!(p("myapp:fat"), d("myapp:fat"));
        assert_eq!(p("myapp"), d("myapp:latest"));
        assert_eq!(p("docker-daemon:myapp:fat"), d("myapp:fat"));
        assert_eq!(p("docker-daemon:myapp"), d("myapp:latest"));
        assert_eq!(
            p("registry.local:5000/team/app:v1"),
            d("registry.local:5000/team/app:v1")
        );
    }

    #[test]
    fn path_transports_split_at_first_colon() {
        assert_eq!(
            p("oci:/tmp/layout:slim"),
            ImageRef::Oci {
                dir: "/tmp/layout".into(),
                tag: Some("slim".into())
            }
        );
        assert_eq!(
            p("oci-archive:out.tar"),
            ImageRef::OciArchive {
                path: "out.tar".into(),
                tag: None
            }
        );
        assert_eq!(
            p("docker-archive:a.tar:app"),
            ImageRef::DockerArchive {
                path: "a.tar".into(),
                name: Some("app:latest".into())
            }
        );
    }

    #[test]
    fn unknown_and_unsupported_transports_are_clear_errors() {
        for bad in [
            "ftp://x/y",
            "bogus:some/path:x",
            "docker:reg/app:1",
            "dir:/tmp/x",
            "",
        ] {
            let e = ImageRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains("transport") || e.contains("empty"), "{bad}: {e}");
        }
        assert!(ImageRef::parse("oci:").is_err());
        assert!(ImageRef::parse("MyApp:fat").is_err());
    }

    #[test]
    fn registry_references() {
        let r = |n: &str| ImageRef::Registry {
            reference: n.into(),
        };
        assert_eq!(
            p("docker://127.0.0.1:5000/app"),
            r("127.0.0.1:5000/app:latest")
        );
        assert_eq!(p("docker://reg.local/a/b:v2"), r("reg.local/a/b:v2"));
        for bad in [
            "docker://",
            "docker://Reg/App",
            "docker://reg/app:",
            "docker://a b",
        ] {
            let e = ImageRef::parse(bad).unwrap_err().to_string();
            assert!(e.contains("not a valid registry reference"), "{bad}: {e}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "docker-daemon:app:1",
            "oci:/x:t",
            "oci-archive:/a.tar",
            "docker-archive:/a.tar:app:2",
            "docker://127.0.0.1:5000/team/app:v1",
            "docker://reg.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(p(&p(s).to_string()), p(s));
        }
    }
}
