//! Platforms (`os/architecture[/variant]`): what an image runs on, what an
//! index lists, what `--platform` asks for.

use std::fmt;

use oci_spec::image::Descriptor;

/// An `os/architecture[/variant]` triple, with OCI's (GOARCH) names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/arm64`, `linux/arm64/v8`, `linux/amd64`.
    pub fn parse(s: &str) -> Result<Self, NotAPlatform> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok =
            |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(v.to_string()),
            }),
            _ => Err(NotAPlatform(s.to_string())),
        }
    }

    /// The platform this machine runs (GOARCH names, as OCI uses them).
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    pub fn of_descriptor(d: &Descriptor) -> Option<Self> {
        let p = d.platform().as_ref()?;
        Some(Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone(),
        })
    }

    /// The platform an image config declares.
    pub fn of_config(config: &oci_spec::image::ImageConfiguration) -> Self {
        Platform {
            os: config.os().to_string(),
            architecture: config.architecture().to_string(),
            variant: config.variant().clone(),
        }
    }

    /// `linux-arm64-v8`: for file names (per-platform reports).
    pub fn file_tag(&self) -> String {
        self.to_string().replace('/', "-")
    }

    /// Whether `self` (what was asked for) covers `image`: a request without
    /// a variant takes any variant.
    pub fn covers(&self, image: &Platform) -> bool {
        self.os == image.os
            && self.architecture == image.architecture
            && (self.variant.is_none() || self.variant == image.variant)
    }
}

/// A `--platform` value that is not `OS/ARCH[/VARIANT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a platform: expected OS/ARCH[/VARIANT], e.g. linux/arm64")]
pub struct NotAPlatform(pub String);

impl serde::Serialize for Platform {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_cover() {
        let arm = Platform::parse("linux/arm64").unwrap();
        let arm_v8 = Platform::parse("linux/arm64/v8").unwrap();
        assert!(arm.covers(&arm_v8));
        assert!(!arm_v8.covers(&arm));
        assert!(arm_v8.covers(&arm_v8));
        assert_eq!(arm_v8.to_string(), "linux/arm64/v8");
        for bad in ["linux", "linux/", "/arm64", "a/b/c/d", "linux/arm 64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}
