//! Path resolution inside the image root: the one symlink walker.
//!
//! Symlinks are followed the way the kernel would follow them if the image
//! root were `/` (path_resolution(7)): an absolute target restarts at the
//! image root, `..` never climbs above it, and more than
//! [`MAX_SYMLINK_HOPS`] links in one resolution is an error, not a hang.
//! The host filesystem is never consulted.

use super::{Node, RootFs};
use crate::image_path::ImagePath;
use crate::layer::{Kind, Meta};

/// Linux's limit on symlinks followed in one path resolution (MAXSYMLINKS).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// A path that cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error("too many levels of symbolic links resolving /{path} (more than {MAX_SYMLINK_HOPS})")]
    Loop { path: String },
    #[error("{here} is not a directory (resolving /{path})")]
    NotADirectory { here: ImagePath, path: String },
}

/// What to do with a missing directory on the way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// Report the path as absent.
    Absent,
    /// Create it as an implicit directory, as an unpacker's `MkdirAll` does.
    Create,
}

/// A resolved path and the symlinks passed on the way, in the order they
/// were followed (each once).
pub struct Resolved {
    pub real: ImagePath,
    pub links: Vec<ImagePath>,
}

impl RootFs {
    /// Resolve `path` (absolute or not; `.`, `..` and symlinks allowed) to
    /// the path of the node it names, following symlinks in its directories
    /// (and in its last component when `follow_last`). `Ok(None)` when
    /// something on the way does not exist.
    pub fn lookup(&self, path: &str, follow_last: bool) -> Result<Option<ImagePath>, WalkError> {
        Ok(self.resolve(path, follow_last)?.map(|r| r.real))
    }

    /// [`Self::lookup`], also returning every symlink passed, so a chain
    /// such as /usr/bin/x -> /etc/alternatives/x -> /usr/lib/x keeps each
    /// link (a PATH lookup at run time needs every one).
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<Option<Resolved>, WalkError> {
        walk(
            &mut Walker::Shared(self),
            path,
            follow_last,
            Missing::Absent,
        )
    }

    /// The symlinks on the way from `path` to what it resolves to; empty
    /// when it does not resolve.
    pub fn links_to(&self, path: &str) -> Vec<ImagePath> {
        match self.resolve(path, true) {
            Ok(Some(r)) => r.links,
            _ => Vec::new(),
        }
    }

    /// Where a layer entry named `path` lands: its parent resolved (and
    /// created when missing) inside the image, plus its own base name.
    pub(super) fn place(&mut self, path: &ImagePath) -> Result<ImagePath, WalkError> {
        let parent = path.parent();
        let dir = walk(
            &mut Walker::Owned(self),
            parent.as_str(),
            true,
            Missing::Create,
        )?
        .expect("Missing::Create always yields a path");
        Ok(dir.real.join(path.file_name()))
    }
}

enum Walker<'a> {
    Shared(&'a RootFs),
    Owned(&'a mut RootFs),
}

impl Walker<'_> {
    fn get(&self, p: &str) -> Option<&Node> {
        match self {
            Walker::Shared(fs) => fs.nodes.get(p),
            Walker::Owned(fs) => fs.nodes.get(p),
        }
    }

    fn mkdir(&mut self, p: &str) {
        if let Walker::Owned(fs) = self {
            let inode = fs.fresh_inode();
            let layer = fs.contents.len();
            fs.nodes.insert(
                ImagePath::from_normal(p.to_string()),
                Node {
                    kind: Kind::Dir,
                    meta: Meta::implicit_dir(),
                    inode,
                    layer,
                },
            );
        }
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn walk(
    fs: &mut Walker<'_>,
    path: &str,
    follow_last: bool,
    missing: Missing,
) -> Result<Option<Resolved>, WalkError> {
    // Components still to resolve, the next one last.
    let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut links: Vec<ImagePath> = Vec::new();
    let mut hops = 0;
    let display = || path.trim_start_matches('/').to_string();
    while let Some(comp) = pending.pop() {
        match comp.as_str() {
            "" | "." => continue,
            ".." => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        let here = join(&resolved.join("/"), &comp);
        let last = pending.iter().all(|c| c.is_empty() || c == ".");
        match fs.get(&here).map(|n| &n.kind) {
            Some(Kind::Symlink(target)) if !last || follow_last => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(WalkError::Loop { path: display() });
                }
                let link = ImagePath::from_normal(here.clone());
                if !links.contains(&link) {
                    links.push(link);
                }
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(target.split('/').rev().map(str::to_string));
            }
            Some(Kind::Dir) => resolved.push(comp),
            Some(_) if last && missing == Missing::Absent => resolved.push(comp),
            Some(_) => {
                return Err(WalkError::NotADirectory {
                    here: ImagePath::from_normal(here),
                    path: display(),
                });
            }
            None if missing == Missing::Create => {
                fs.mkdir(&here);
                resolved.push(comp);
            }
            None => return Ok(None),
        }
    }
    Ok(Some(Resolved {
        real: ImagePath::from_normal(resolved.join("/")),
        links,
    }))
}
