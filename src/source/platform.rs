//! Platforms (`os/architecture[/variant]`) and which images of an index to read.

use std::fmt;

use oci_spec::image::Descriptor;

use crate::digest::Digest;
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/arm64`, `linux/arm64/v8`, `linux/amd64`.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
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
            _ => Err(format!(
                "{s:?} is not a platform: expected OS/ARCH[/VARIANT], e.g. linux/arm64"
            )),
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
    pub fn of_config(config: &serde_json::Value) -> Self {
        let text = |k: &str| config.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Platform {
            os: text("os").unwrap_or_else(|| "linux".into()),
            architecture: text("architecture").unwrap_or_default(),
            variant: text("variant"),
        }
    }

    /// Whether `self` (what was asked for) covers `image`: a request without
    /// a variant takes any variant.
    pub fn covers(&self, image: &Platform) -> bool {
        self.os == image.os
            && self.architecture == image.architecture
            && (self.variant.is_none() || self.variant == image.variant)
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

/// Which images of an index to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Want {
    /// The one this machine runs (for targets that hold a single image).
    #[default]
    Host,
    /// Every platform image (not attestations, whose platform is `unknown`).
    All,
    /// `--platform`: these, each of which must be there.
    These(Vec<Platform>),
}

/// The entries of an index that `want` selects, in index order.
pub fn choose<'a>(
    entries: &'a [Descriptor],
    want: &Want,
    index: &Digest,
) -> Result<Vec<&'a Descriptor>> {
    // Entries may omit the platform (it is optional); attestations declare
    // `unknown/unknown` and are never images to run.
    let platform_images = || {
        entries.iter().filter(|d| {
            Platform::of_descriptor(d)
                .is_none_or(|p| p.os != "unknown" && p.architecture != "unknown")
        })
    };
    let available = || {
        let names: Vec<String> = platform_images()
            .filter_map(Platform::of_descriptor)
            .map(|p| p.to_string())
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    match want {
        Want::Host => {
            if let [one] = entries {
                return Ok(vec![one]);
            }
            let host = Platform::host();
            platform_images()
                .find(|d| Platform::of_descriptor(d).is_some_and(|p| host.covers(&p)))
                .map(|d| vec![d])
                .ok_or_else(|| {
                    Error::image(format!(
                        "image index {index} has no {host} image (platforms: {}); pick one with --platform",
                        available()
                    ))
                })
        }
        Want::All => {
            let all: Vec<&Descriptor> = platform_images().collect();
            if all.is_empty() {
                return Err(Error::image(format!(
                    "image index {index} lists no platform image"
                )));
            }
            Ok(all)
        }
        Want::These(wanted) => wanted
            .iter()
            .map(|w| {
                platform_images()
                    .find(|d| Platform::of_descriptor(d).is_some_and(|p| w.covers(&p)))
                    .ok_or_else(|| {
                        Error::image(format!(
                            "image index {index} has no {w} image (platforms: {})",
                            available()
                        ))
                    })
            })
            .collect(),
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

#[cfg(test)]
mod choose_tests {
    use super::*;

    fn index() -> Vec<Descriptor> {
        let d = |digit: char, platform: serde_json::Value| {
            let mut v = serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{}", digit.to_string().repeat(64)),
                "size": 1,
            });
            if !platform.is_null() {
                v["platform"] = platform;
            }
            serde_json::from_value(v).unwrap()
        };
        vec![
            d(
                '1',
                serde_json::json!({"os": "linux", "architecture": "amd64"}),
            ),
            d(
                '2',
                serde_json::json!({"os": "unknown", "architecture": "unknown"}),
            ),
            d(
                '3',
                serde_json::json!({"os": "linux", "architecture": "arm64", "variant": "v8"}),
            ),
        ]
    }

    #[test]
    fn attestations_are_skipped_and_wants_are_met() {
        let entries = index();
        let id = crate::digest::Digest::of(b"index");
        let digits = |v: Vec<&Descriptor>| -> String {
            v.iter()
                .map(|d| d.digest().to_string().chars().last().unwrap())
                .collect()
        };
        assert_eq!(digits(choose(&entries, &Want::All, &id).unwrap()), "13");
        assert_eq!(digits(choose(&entries, &Want::Host, &id).unwrap()), "1");
        let arm = Want::These(vec![Platform::parse("linux/arm64").unwrap()]);
        assert_eq!(digits(choose(&entries, &arm, &id).unwrap()), "3");
        let s390 = Want::These(vec![Platform::parse("linux/s390x").unwrap()]);
        let e = choose(&entries, &s390, &id).unwrap_err().to_string();
        assert!(e.contains("linux/amd64, linux/arm64/v8"), "{e}");
        // A single entry without a platform is the image, whatever is wanted.
        let bare: Vec<Descriptor> = vec![serde_json::from_value(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", "4".repeat(64)), "size": 1}))
        .unwrap()];
        assert_eq!(choose(&bare, &Want::All, &id).unwrap().len(), 1);
        assert_eq!(choose(&bare, &Want::Host, &id).unwrap().len(), 1);
    }
}
