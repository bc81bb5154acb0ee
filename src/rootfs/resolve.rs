//! Path resolution inside the image root.
//!
//! Symlinks are followed the way the kernel would follow them if the image
//! root were `/` (path_resolution(7)): an absolute target restarts at the
//! image root, `..` never climbs above it, and more than
//! [`MAX_SYMLINK_HOPS`] links in one resolution is an error, not a hang.
//! The host filesystem is never consulted.

use super::{Node, NodeKind, RootFs};
use crate::layer::Meta;

/// Linux's limit on symlinks followed in one path resolution (MAXSYMLINKS).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// What to do with a missing directory on the way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// Report the path as absent.
    Absent,
    /// Create it as an implicit directory, as an unpacker's `MkdirAll` does.
    Create,
}

impl RootFs {
    /// Resolve `path` to the path of the node it names, following symlinks in
    /// its directories (and in its last component when `follow_last`).
    /// `Ok(None)` when something on the way does not exist.
    pub fn lookup(&self, path: &str, follow_last: bool) -> Result<Option<String>, String> {
        // `walk` only mutates with `Missing::Create`; work on a shared borrow otherwise.
        walk(
            &mut Walker::Shared(self),
            path,
            follow_last,
            Missing::Absent,
        )
    }

    /// Where a layer entry named `path` lands: its parent resolved (and
    /// created when missing) inside the image, plus its own base name.
    pub(super) fn place(&mut self, path: &str) -> Result<String, String> {
        let (parent, base) = match path.rsplit_once('/') {
            Some((p, b)) => (p, b),
            None => return Ok(path.to_string()),
        };
        let dir = walk(&mut Walker::Owned(self), parent, true, Missing::Create)?
            .expect("Missing::Create always yields a path");
        Ok(join(&dir, base))
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
            fs.nodes.insert(
                p.to_string(),
                Node {
                    kind: NodeKind::Dir,
                    meta: Meta::implicit_dir(),
                    inode,
                    layer: fs.contents.len(),
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
) -> Result<Option<String>, String> {
    // Components still to resolve, the next one last.
    let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut hops = 0;
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
            Some(NodeKind::Symlink(target)) if !last || follow_last => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(format!(
                        "too many levels of symbolic links resolving /{path} (more than {MAX_SYMLINK_HOPS})"
                    ));
                }
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(target.split('/').rev().map(str::to_string));
            }
            Some(NodeKind::Dir) => resolved.push(comp),
            Some(_) if last && missing == Missing::Absent => resolved.push(comp),
            Some(_) => {
                return Err(format!("/{here} is not a directory (resolving /{path})"));
            }
            None if missing == Missing::Create => {
                fs.mkdir(&here);
                resolved.push(comp);
            }
            None => return Ok(None),
        }
    }
    Ok(Some(resolved.join("/")))
}
