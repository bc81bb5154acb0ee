//! Image references in skopeo's transport syntax (containers-transports(5)).
//!
//! `TRANSPORT:DETAILS`, where the path-based transports split DETAILS at the
//! first `:` into a path and an optional tag, exactly as containers/image does
//! on Linux. A reference without a known transport prefix is a Docker engine
//! reference (`myapp:fat`), the common case for a post-build CI step.

use std::fmt;
use std::path::PathBuf;

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
    /// containerd's image store (`containerd:NAME`), through `ctr`, in the
    /// namespace and at the socket ctr is told by its environment.
    Containerd { name: String },
    /// Podman's and Buildah's image store (`containers-storage:[STORE]NAME`),
    /// through the podman CLI; `store` is the optional `[...]` part.
    Storage {
        store: Option<Box<StoreSpec>>,
        name: String,
    },
}

/// The `[DRIVER@ROOT+RUNROOT:OPTIONS]` of a `containers-storage:` reference
/// (containers-transports(5)): every part but the root is optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSpec {
    pub driver: Option<String>,
    pub root: PathBuf,
    pub run_root: Option<PathBuf>,
    pub options: Vec<String>,
}

impl StoreSpec {
    /// The podman global flags that select this store (the source's
    /// `podman_store_flags` says when they are given).
    pub fn podman_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(d) = &self.driver {
            args.extend(["--storage-driver".to_string(), d.clone()]);
        }
        args.extend(["--root".to_string(), self.root.display().to_string()]);
        if let Some(r) = &self.run_root {
            args.extend(["--runroot".to_string(), r.display().to_string()]);
        }
        for o in &self.options {
            args.extend(["--storage-opt".to_string(), o.clone()]);
        }
        args
    }

    fn parse(spec: &str) -> Option<Self> {
        let (rest, options) = match spec.split_once(':') {
            Some((r, o)) => (
                r,
                o.split(',')
                    .filter(|o| !o.is_empty())
                    .map(String::from)
                    .collect(),
            ),
            None => (spec, Vec::new()),
        };
        let (driver, rest) = match rest.split_once('@') {
            Some((d, r)) => (Some(d.to_string()), r),
            None => (None, rest),
        };
        let (root, run_root) = match rest.split_once('+') {
            Some((r, rr)) => (r, Some(PathBuf::from(rr))),
            None => (rest, None),
        };
        (root.starts_with('/') && driver.as_deref() != Some("")).then(|| StoreSpec {
            driver,
            root: PathBuf::from(root),
            run_root,
            options,
        })
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        if let Some(d) = &self.driver {
            write!(f, "{d}@")?;
        }
        write!(f, "{}", self.root.display())?;
        if let Some(r) = &self.run_root {
            write!(f, "+{}", r.display())?;
        }
        if !self.options.is_empty() {
            write!(f, ":{}", self.options.join(","))?;
        }
        f.write_str("]")
    }
}

/// A reference slimify cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("empty image reference")]
    Empty,
    #[error("{whole}: unknown transport {transport:?}; known: docker://, docker-daemon:, docker-archive:, oci:, oci-archive:, containers-storage:, containerd: (or a bare NAME:TAG)")]
    UnknownTransport { transport: String, whole: String },
    #[error("{whole}: the {transport}: transport is not supported; use docker://, docker-daemon:, docker-archive:, oci:, oci-archive:, containers-storage: or containerd:")]
    Unsupported { transport: String, whole: String },
    #[error("{whole}: missing path after {transport}:")]
    MissingPath { transport: String, whole: String },
    #[error("{whole}: the registry transport is written docker://HOST[:PORT]/REPO[:TAG]")]
    RegistryWithoutSlashes { whole: String },
    #[error("{whole}: {name:?} is not a valid {what} reference ({why})")]
    Invalid {
        whole: String,
        name: String,
        what: &'static str,
        why: &'static str,
    },
}

/// Transports skopeo knows that slimify does not (yet) read or write.
const UNSUPPORTED: &[&str] = &["dir", "ostree", "sif", "tarball"];

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self, RefError> {
        if s.is_empty() {
            return Err(RefError::Empty);
        }
        if let Some((scheme, rest)) = s.split_once("://") {
            if scheme != "docker" {
                return Err(unknown_transport(scheme, s));
            }
            if let Err(why) = check_docker_reference(rest) {
                return Err(RefError::Invalid {
                    whole: s.into(),
                    name: rest.into(),
                    what: "registry",
                    why,
                });
            }
            return Ok(ImageRef::Registry {
                reference: with_tag(rest),
            });
        }
        let Some((transport, rest)) = s.split_once(':') else {
            return Self::daemon(s, s);
        };
        if transport == "containers-storage" {
            return Self::storage(rest, s);
        }
        if transport == "containerd" {
            check_docker_reference(rest).map_err(|why| RefError::Invalid {
                whole: s.into(),
                name: rest.into(),
                what: "image",
                why,
            })?;
            return Ok(ImageRef::Containerd {
                name: with_tag(rest),
            });
        }
        let (path, name) = match rest.split_once(':') {
            Some((p, n)) => (p, Some(n.to_string())),
            None => (rest, None),
        };
        let path_ok = || {
            if path.is_empty() {
                Err(RefError::MissingPath {
                    transport: transport.into(),
                    whole: s.into(),
                })
            } else {
                Ok(PathBuf::from(path))
            }
        };
        match transport {
            "docker-daemon" => Self::daemon(rest, s),
            "docker-archive" => Ok(ImageRef::DockerArchive {
                path: path_ok()?,
                name: name
                    .map(|n| match check_docker_reference(&n) {
                        Ok(()) => Ok(with_tag(&n)),
                        Err(why) => Err(RefError::Invalid {
                            whole: s.into(),
                            name: n,
                            what: "image name",
                            why,
                        }),
                    })
                    .transpose()?,
            }),
            "oci" => Ok(ImageRef::Oci {
                dir: path_ok()?,
                tag: name,
            }),
            "oci-archive" => Ok(ImageRef::OciArchive {
                path: path_ok()?,
                tag: name,
            }),
            "docker" => Err(RefError::RegistryWithoutSlashes { whole: s.into() }),
            t if UNSUPPORTED.contains(&t) => Err(RefError::Unsupported {
                transport: t.into(),
                whole: s.into(),
            }),
            // `myapp:fat` and `registry.local:5000/app:v1` are engine references.
            _ if check_docker_reference(s).is_ok() => Self::daemon(s, s),
            // A transport name has no `/`, `.` or capitals: `UX/Upper:1` is
            // a mistyped image name, not a transport.
            t if t.contains(['/', '.']) || t.chars().any(|c| c.is_ascii_uppercase()) => {
                Self::daemon(s, s)
            }
            t => Err(unknown_transport(t, s)),
        }
    }

    fn daemon(name: &str, whole: &str) -> Result<Self, RefError> {
        check_docker_reference(name).map_err(|why| RefError::Invalid {
            whole: whole.into(),
            name: name.into(),
            what: "Docker image",
            why,
        })?;
        Ok(ImageRef::Daemon {
            name: with_tag(name),
        })
    }

    fn storage(rest: &str, whole: &str) -> Result<Self, RefError> {
        let (store, name) = match rest.strip_prefix('[') {
            Some(r) => {
                let (spec, name) = r.split_once(']').ok_or_else(|| RefError::Invalid {
                    whole: whole.into(),
                    name: rest.into(),
                    what: "containers-storage",
                    why: "the store is written [DRIVER@ROOT+RUNROOT:OPTIONS], with a closing ]",
                })?;
                let spec = StoreSpec::parse(spec).ok_or_else(|| RefError::Invalid {
                    whole: whole.into(),
                    name: spec.into(),
                    what: "containers-storage store",
                    why:
                        "the store is written [DRIVER@ROOT+RUNROOT:OPTIONS], ROOT an absolute path",
                })?;
                (Some(Box::new(spec)), name)
            }
            None => (None, rest),
        };
        check_docker_reference(name).map_err(|why| RefError::Invalid {
            whole: whole.into(),
            name: name.into(),
            what: "image",
            why,
        })?;
        Ok(ImageRef::Storage {
            store,
            name: with_tag(name),
        })
    }

    /// Whether writing to `self` would replace or write into the image
    /// `source` names: the same engine tag, the same layout directory and
    /// tag, the same archive file, the same registry reference.
    pub fn same_image_as(&self, source: &ImageRef) -> bool {
        use ImageRef::*;
        let same_file = |a: &PathBuf, b: &PathBuf| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        };
        match (self, source) {
            (Daemon { name: a }, Daemon { name: b }) => short_name(a) == short_name(b),
            (Oci { dir: a, tag: t }, Oci { dir: b, tag: u }) => same_file(a, b) && t == u,
            (
                DockerArchive { path: a, .. } | OciArchive { path: a, .. },
                DockerArchive { path: b, .. } | OciArchive { path: b, .. },
            ) => same_file(a, b),
            (Registry { reference: a }, Registry { reference: b }) => {
                short_name(a) == short_name(b)
            }
            (Containerd { name: a }, Containerd { name: b }) => short_name(a) == short_name(b),
            (Storage { store: s, name: a }, Storage { store: t, name: b }) => {
                let local = |n: &str| n.strip_prefix("localhost/").unwrap_or(n).to_string();
                s == t && local(a) == local(b)
            }
            _ => false,
        }
    }
}

/// The name containerd stores: a reference with its registry and, on
/// docker.io, its `library/` (as nerdctl and `ctr images import` write it).
pub fn containerd_name(name: &str) -> String {
    let first = name.split('/').next().unwrap_or("");
    let has_domain =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_domain {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    }
}

/// `docker.io/library/app:1` and `app:1` name the same image.
pub fn short_name(s: &str) -> String {
    s.strip_prefix("docker.io/")
        .map(|s| s.strip_prefix("library/").unwrap_or(s).to_string())
        .unwrap_or_else(|| s.to_string())
}

fn unknown_transport(t: &str, whole: &str) -> RefError {
    RefError::UnknownTransport {
        transport: t.into(),
        whole: whole.into(),
    }
}

/// Add `:latest` to a (valid) reference without tag or digest, as `docker tag` does.
fn with_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// A loose check of the Docker reference grammar (distribution/reference):
/// `[host[:port]/]path[:tag][@sha256:hex]`, lowercase path components.
/// The error says which part is wrong.
fn check_docker_reference(s: &str) -> Result<(), &'static str> {
    let (name, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        if crate::digest::Digest::parse(d).is_err() {
            return Err("the digest must be sha256:<64 lowercase hex>");
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
            return Err("a tag is 1-128 letters, digits, '_', '.' or '-'");
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
            return Err("the registry host is HOST[:PORT]");
        }
        parts.remove(0);
    }
    if repo.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err("the repository name is empty");
    }
    if parts
        .iter()
        .any(|p| p.chars().any(|c| c.is_ascii_uppercase()))
    {
        return Err("repository names must be lowercase");
    }
    let ok = parts.iter().all(|p| {
        p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.ends_with(|c: char| c.is_ascii_alphanumeric())
    });
    if !ok {
        return Err("repository names are lowercase letters, digits and '.', '_', '-'");
    }
    Ok(())
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
            ImageRef::Containerd { name } => write!(f, "containerd:{name}"),
            ImageRef::Storage { store, name } => {
                f.write_str("containers-storage:")?;
                if let Some(s) = store {
                    write!(f, "{s}")?;
                }
                f.write_str(name)
            }
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
    fn a_mistyped_name_is_not_an_unknown_transport() {
        let e = ImageRef::parse("UX/Upper:1").unwrap_err().to_string();
        assert!(e.contains("must be lowercase"), "{e}");
        assert!(!e.contains("transport"), "{e}");
    }

    #[test]
    fn same_image_covers_every_transport() {
        let same = |a: &str, b: &str| p(a).same_image_as(&p(b));
        assert!(same("app:fat", "docker-daemon:app:fat"));
        assert!(same("docker.io/library/app:fat", "app:fat"));
        assert!(!same("app:slim", "app:fat"));
        assert!(same("oci:/x/lay:fat", "oci:/x/lay/:fat"));
        assert!(!same("oci:/x/lay:slim", "oci:/x/lay:fat"));
        assert!(same("oci-archive:/a.tar", "docker-archive:/a.tar:app:1"));
        assert!(same("docker://reg:5000/app:1", "docker://reg:5000/app:1"));
        assert!(!same("docker://reg:5000/app:2", "docker://reg:5000/app:1"));
        assert!(!same("oci:/x:fat", "app:fat"));
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

    #[test]
    fn containers_storage_references_with_and_without_a_store() {
        assert_eq!(
            p("containers-storage:app"),
            ImageRef::Storage {
                store: None,
                name: "app:latest".into()
            }
        );
        let full = "containers-storage:[overlay@/var/lib/containers/storage+/run/containers/storage:overlay.mountopt=nodev]localhost/app:1";
        let r = p(full);
        assert_eq!(r.to_string(), full);
        let ImageRef::Storage { store: Some(s), .. } = &r else {
            panic!("{r:?}");
        };
        assert_eq!(
            s.podman_args(),
            [
                "--storage-driver",
                "overlay",
                "--root",
                "/var/lib/containers/storage",
                "--runroot",
                "/run/containers/storage",
                "--storage-opt",
                "overlay.mountopt=nodev"
            ]
        );
        assert_eq!(
            p("containers-storage:[/srv/store]app:1").to_string(),
            "containers-storage:[/srv/store]app:1"
        );
        for bad in [
            "containers-storage:[/srv/store",
            "containers-storage:[rel]app",
            "containers-storage:[@/x]app",
            "containers-storage:Bad:1",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
        assert!(
            p("containers-storage:localhost/app:1").same_image_as(&p("containers-storage:app:1"))
        );
        assert!(!p("containers-storage:[/a]app:1").same_image_as(&p("containers-storage:app:1")));
    }

    #[test]
    fn containerd_stores_names_with_their_registry() {
        assert_eq!(containerd_name("app:1"), "docker.io/library/app:1");
        assert_eq!(containerd_name("team/app:1"), "docker.io/team/app:1");
        assert_eq!(
            containerd_name("registry.local:5000/app:1"),
            "registry.local:5000/app:1"
        );
        assert_eq!(containerd_name("localhost/app:1"), "localhost/app:1");
        assert_eq!(
            containerd_name("docker.io/library/app:1"),
            "docker.io/library/app:1"
        );
        assert_eq!(
            p("containerd:team/app").to_string(),
            "containerd:team/app:latest"
        );
        assert!(p("containerd:app:1").same_image_as(&p("containerd:docker.io/library/app:1")));
    }
}
