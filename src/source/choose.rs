//! Which images of an index to read: the host's, every platform, or those
//! `--platform` names.

use oci_spec::image::Descriptor;

use super::SourceError;
use crate::digest::Digest;
use crate::platform::Platform;

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
) -> Result<Vec<&'a Descriptor>, SourceError> {
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
                .ok_or_else(|| SourceError::NoPlatform {
                    index: index.to_string(),
                    want: host.to_string(),
                    available: available(),
                    suggest: true,
                })
        }
        Want::All => {
            let all: Vec<&Descriptor> = platform_images().collect();
            if all.is_empty() {
                return Err(SourceError::NoPlatformImage {
                    index: index.to_string(),
                });
            }
            Ok(all)
        }
        Want::These(wanted) => wanted
            .iter()
            .map(|w| {
                platform_images()
                    .find(|d| Platform::of_descriptor(d).is_some_and(|p| w.covers(&p)))
                    .ok_or_else(|| SourceError::NoPlatform {
                        index: index.to_string(),
                        want: w.to_string(),
                        available: available(),
                        suggest: false,
                    })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
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
