//! `slimify explain`: whether paths of an image would be kept, and why
//! (the chain of reasons), or why not; the image is read and traced once
//! for all of them.

use crate::error::{Error, Result};
use crate::image_path::ImagePath;
use crate::keep::KeepGlobs;
use crate::layer::cache::LayerCache;
use crate::pipeline::{open_source, PendingProbe, Settings};
use crate::reference::ImageRef;
use crate::source::Want;

/// The answer to `explain` for one path.
#[derive(Debug, serde::Serialize)]
pub struct Explanation {
    pub path: String,
    pub kept: bool,
    /// Whether the image has the path at all (not following a last symlink).
    pub in_image: bool,
    /// `/path is kept: reason <- reason ...`, or why it is not.
    pub text: String,
    /// For a kept path, its chain of reasons, nearest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// Read `source` the way `slim` would with `settings` (tracing or
/// `--keep`, then `--exclude`) and say whether each of `paths` is kept.
pub fn explain(
    settings: &Settings,
    source: &ImageRef,
    paths: &[String],
) -> Result<Vec<Explanation>> {
    let paths = paths
        .iter()
        .map(|p| ImagePath::parse(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    settings.check()?;
    let want = match settings.platforms.as_slice() {
        [] => Want::Host,
        [one] => Want::These(vec![one.clone()]),
        _ => return Err(Error::ExplainPlatforms),
    };
    crate::pipeline::engine_preflight(settings, source)?;
    // Started before the layers are read, as `slim` does.
    let probe = if settings.probe {
        Some(PendingProbe::start(settings, source)?)
    } else {
        None
    };
    let spool = crate::files::spool_dir(settings.tmp_dir.as_deref())?;
    let cache = LayerCache::new(spool.path(), None, 0)?;
    let image = open_source(settings, source, spool.path(), &want)?
        .images
        .into_iter()
        .next()
        .expect("a source opens to at least one image");
    let p = crate::pipeline::prepare(settings, source, image, &cache, probe)?;
    paths
        .iter()
        .map(|path| {
            let in_image = p.fs.lookup(path.as_str(), false).ok().flatten().is_some();
            Ok(match p.keep.reason(path.as_str()) {
                Some(reason) => {
                    let reasons = p.keep.reason_chain(reason);
                    Explanation {
                        path: path.to_string(),
                        kept: true,
                        in_image,
                        text: format!("{path} is kept: {}", reasons.join("\n  <- ")),
                        reasons,
                    }
                }
                None => Explanation {
                    path: path.to_string(),
                    kept: false,
                    in_image,
                    text: not_kept(settings, &p, path)?,
                    reasons: Vec::new(),
                },
            })
        })
        .collect()
}

/// Why `path` is not kept: not in the image, excluded, reached only
/// through a link nothing uses, not matched, or not needed.
fn not_kept(
    settings: &Settings,
    p: &crate::pipeline::Prepared,
    path: &ImagePath,
) -> Result<String> {
    let select = &settings.select;
    let excluded = KeepGlobs::new("--exclude", &select.exclude)?.is_match(path);
    let resolves_to_kept =
        p.fs.lookup(path.as_str(), true)
            .ok()
            .flatten()
            .filter(|real| real != path && p.keep.contains(real.as_str()));
    Ok(
        if p.fs.lookup(path.as_str(), false).ok().flatten().is_none() {
            format!("{path} is not in the image")
        } else if excluded {
            format!("{path} is in the image but excluded by --exclude")
        } else if let Some(real) = resolves_to_kept {
            format!(
            "{path} is not kept, but the file it resolves to, {real}, is (a path through a symlink that nothing traced uses)"
        )
        } else if !select.keep.is_empty() {
            format!("{path} is in the image but matches no --keep pattern")
        } else {
            let probed = if settings.probe {
                ", and the probed run did not touch it"
            } else {
                ""
            };
            format!(
            "{path} is in the image but nothing traced needs it: not a root, not loaded by one, not an essential{probed}; keep it with --include {path}"
        )
        },
    )
}
