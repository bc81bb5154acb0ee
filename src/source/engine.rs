//! Images behind an engine's CLI (the Docker engine, podman): read in place
//! from the engine's own store when that can be done, else through the
//! CLI's `save`, with the reason in one line.

use std::path::{Path, PathBuf};

use super::store::{BlobStore, TarIndex};
use super::{docker_archive, EngineRead, ImageConfig, Result, SourceImage};
use crate::digest::Digest;
use crate::limits::METADATA_BYTES;

/// One layer of the engine's store, as the source found it.
#[derive(Clone, Debug)]
pub struct StoreLayer {
    /// The layer's directory (overlay2: `overlay2/<cache id>/diff`).
    pub dir: PathBuf,
    /// Its `tar-split.json.gz`.
    pub tar_split: PathBuf,
    /// Bytes of content, as the store counts them (for progress).
    pub size: u64,
}

/// What `docker image inspect` (or podman's) says about where the image lies.
#[derive(Debug)]
pub(super) struct Placement {
    pub id: String,
    pub driver: GraphDriver,
}

impl Placement {
    /// The image's top layer directory (overlay's `UpperDir`).
    pub fn upper_dir(&self) -> Result<PathBuf, Fallback> {
        self.driver
            .data
            .as_ref()
            .and_then(|d| d.get("UpperDir"))
            .map(PathBuf::from)
            .ok_or_else(|| "the engine names no layer directory for the image".to_string())
    }

    /// Parse the answer to [`INSPECT_FORMAT`].
    pub fn parse(answer: &str, cli: &str) -> Result<Self, Fallback> {
        let bad = |why: String| format!("cannot read `{cli} image inspect`'s answer: {why}");
        let (id, driver) = answer
            .trim()
            .split_once(' ')
            .ok_or_else(|| bad(format!("{answer:?}")))?;
        Ok(Placement {
            id: id.to_string(),
            driver: serde_json::from_str(driver).map_err(|e| bad(e.to_string()))?,
        })
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct GraphDriver {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Data", default)]
    pub data: Option<std::collections::HashMap<String, String>>,
}

/// The `image inspect` template that yields a [`Placement`]: podman fails
/// on a template that puts `{{json ...}}` after other text, so the ID comes
/// first, plain.
pub(super) const INSPECT_FORMAT: &str = "{{.Id}} {{json .GraphDriver}}";

/// Why the image is read through `docker save` instead: one line for the user.
pub(super) type Fallback = String;

/// An image found in an engine's store, and the store's name for the report.
pub(super) type Found = (SourceImage, &'static str);

/// How to read images of one engine.
pub(super) struct Engine<'a> {
    /// `docker` or `podman`, for messages.
    pub cli: &'static str,
    /// `save` and the flags that make it write a docker-archive.
    pub save: &'static [&'static str],
    /// The command, for messages: `docker save`.
    pub saved_by: &'static str,
    /// Run the CLI about one image (its "no such image" turned into ours).
    pub run: &'a dyn Fn(&[&str]) -> Result<String>,
    /// Find the image in the store (and name the store, as the report
    /// does: `engine's overlay2`), or say why not.
    pub in_place: &'a dyn Fn(&Placement) -> std::result::Result<Found, Fallback>,
}

impl Engine<'_> {
    /// Open `name` (shown as `shown`), in place unless `in_place` is false or
    /// impossible.
    pub fn open(
        &self,
        name: &str,
        shown: &str,
        spool_dir: &Path,
        in_place: bool,
    ) -> Result<(SourceImage, EngineRead)> {
        // `inspect` first: its "No such image" is clearer than what `save` says.
        let inspected = (self.run)(&["image", "inspect", "--format", INSPECT_FORMAT, name])?;
        let fallback = if in_place {
            let found = if as_root() {
                Placement::parse(&inspected, self.cli).and_then(|p| (self.in_place)(&p))
            } else {
                Err(NOT_ROOT.to_string())
            };
            match found {
                Ok((image, driver)) => return Ok((image, EngineRead::InPlace { driver })),
                Err(why) => Some(why),
            }
        } else {
            None
        };
        let tar = spool_dir.join(format!("{}-save.tar", self.cli));
        let tar_arg = tar.to_string_lossy();
        let mut args = self.save.to_vec();
        args.extend(["-o", &tar_arg, name]);
        // The image may be gone by now (removed while slimify looked at it).
        (self.run)(&args)?;
        let archive = BlobStore::Tar(TarIndex::scan(&tar)?);
        let image = docker_archive::open(&archive, None, shown)?;
        Ok((
            image,
            EngineRead::Saved {
                by: self.saved_by,
                fallback,
            },
        ))
    }
}

/// What an engine CLI answered about one image, with its "no such image"
/// (said in any of `markers`) turned into `missing`.
pub(super) fn about_image(
    answer: std::result::Result<String, crate::docker::DockerError>,
    markers: &[&str],
    missing: impl FnOnce() -> super::SourceError,
) -> Result<String> {
    match answer {
        Err(crate::docker::DockerError::Failed { message, .. })
            if markers
                .iter()
                .any(|m| message.to_ascii_lowercase().contains(m)) =>
        {
            Err(missing())
        }
        other => Ok(other?),
    }
}

/// Why an unprivileged run does not read in place: engine stores belong to
/// root, and a rootless store holds files of its user namespace's other ids
/// (an image's 0600 files) that its owner cannot read either.
const NOT_ROOT: &str = "reading the engine's store in place needs root";

fn as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The image's config from the store: it must hash to the image ID.
pub(super) fn read_config(
    path: &Path,
    id: &Digest,
) -> std::result::Result<(Vec<u8>, ImageConfig), Fallback> {
    let json = read_small(path)?;
    if Digest::of(&json) != *id {
        return Err(format!(
            "{} does not hash to the image ID {id}",
            path.display()
        ));
    }
    let config = ImageConfig::parse(&json).map_err(|e| e.to_string())?;
    Ok((json, config))
}

pub(super) fn read_small(path: &Path) -> Result<Vec<u8>, Fallback> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| cannot_read(path, &e))?;
    let mut buf = Vec::new();
    file.take(METADATA_BYTES)
        .read_to_end(&mut buf)
        .map_err(|e| cannot_read(path, &e))?;
    Ok(buf)
}

pub(super) fn cannot_read(path: &Path, e: &std::io::Error) -> Fallback {
    let why = match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (reading the engine's store needs root)"
        }
        std::io::ErrorKind::NotFound => "not found (is the engine's store on this machine?)",
        _ => return format!("cannot read {}: {e}", path.display()),
    };
    format!("cannot read {}: {why}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inspect_template_parses() {
        let out = "sha256:ab {\"Data\":{\"UpperDir\":\"/u/diff\"},\"Name\":\"overlay2\"}\n";
        let p = Placement::parse(out, "docker").unwrap();
        assert_eq!(
            (p.id.as_str(), p.driver.name.as_str()),
            ("sha256:ab", "overlay2")
        );
        let p = Placement::parse(r#"ab {"Data":null,"Name":"vfs"}"#, "podman").unwrap();
        assert!(p.driver.data.is_none());
        let why = Placement::parse("garbage", "podman").unwrap_err();
        assert!(why.contains("`podman image inspect`"), "{why}");
    }
}
