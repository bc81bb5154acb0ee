//! The flattened root filesystem: one in-memory index of what a container
//! started from the image would see, built by applying layers in order.
//!
//! Semantics follow the OCI image spec (layer.md, "Applying Changesets") and
//! what containerd and Docker do when they unpack: whiteouts and opaque
//! markers only hide content of lower layers; a parent directory that a layer
//! names through a symlink is resolved inside the image root; hard links share
//! one inode (also with a file of an earlier layer).

mod resolve;

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::layer::{EntryKind, LayerIndex, Meta};
use crate::source::{BlobFile, SliceReader};

pub use resolve::MAX_SYMLINK_HOPS;

/// What a path is in the flattened image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file whose bytes are in layer `layer`'s content at `offset`.
    File {
        layer: usize,
        offset: u64,
        size: u64,
    },
    Dir,
    Symlink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub meta: Meta,
    /// Paths with the same inode number are hard links to one file.
    pub inode: u64,
    /// The layer that last wrote this path (0-based).
    pub layer: usize,
}

/// Paths are image-relative (`usr/bin/env`; the root is `""`) and kept sorted,
/// so a directory's descendants are one contiguous range and parents always
/// come before their children.
pub struct RootFs {
    nodes: BTreeMap<String, Node>,
    contents: Vec<BlobFile>,
    next_inode: u64,
}

impl Default for RootFs {
    fn default() -> Self {
        Self::new()
    }
}

impl RootFs {
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            String::new(),
            Node {
                kind: NodeKind::Dir,
                meta: Meta::implicit_dir(),
                inode: 0,
                layer: 0,
            },
        );
        RootFs {
            nodes,
            contents: Vec::new(),
            next_inode: 1,
        }
    }

    /// Apply every layer in order. Layers are borrowed: a batch shares one
    /// index of a base layer among every image built on it.
    pub fn from_layers<L: std::borrow::Borrow<LayerIndex>>(
        layers: impl IntoIterator<Item = L>,
    ) -> Result<Self> {
        let mut fs = RootFs::new();
        for (number, layer) in layers.into_iter().enumerate() {
            fs.apply(number, layer.borrow())?;
        }
        Ok(fs)
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// All paths and nodes, parents before children. The root (`""`) is first.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    pub fn len(&self) -> usize {
        self.nodes.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total bytes of regular file content (each inode counted once).
    pub fn content_size(&self) -> u64 {
        self.content_size_of(self.nodes.keys().map(String::as_str))
    }

    /// Bytes of regular file content among `paths`, each inode counted once
    /// (hard links share their bytes).
    pub fn content_size_of<'a>(&self, paths: impl Iterator<Item = &'a str>) -> u64 {
        let mut seen = std::collections::HashSet::new();
        paths
            .filter_map(|p| self.nodes.get(p))
            .filter_map(|n| match n.kind {
                NodeKind::File { size, .. } if seen.insert(n.inode) => Some(size),
                _ => None,
            })
            .sum()
    }

    /// Add a directory the image lacks (e.g. a world-writable /tmp), with
    /// `meta`; an existing path is left as it is.
    pub fn ensure_dir(&mut self, path: &str, meta: Meta) {
        if !self.nodes.contains_key(path) {
            let inode = self.fresh_inode();
            let layer = self.contents.len().saturating_sub(1);
            self.nodes.insert(
                path.to_string(),
                Node {
                    kind: NodeKind::Dir,
                    meta,
                    inode,
                    layer,
                },
            );
        }
    }

    /// A reader over a regular file's content.
    pub fn open(&self, node: &Node) -> Option<SliceReader> {
        match node.kind {
            NodeKind::File {
                layer,
                offset,
                size,
            } => Some(self.contents[layer].slice(offset, size)),
            _ => None,
        }
    }

    /// Apply one layer: first its whiteouts and opaque markers against the
    /// lower layers, then its entries in tar order (a later duplicate wins).
    pub fn apply(&mut self, number: usize, layer: &LayerIndex) -> Result<()> {
        let fail = |reason: String| Error::Layer {
            layer: number,
            digest: layer.content.name.clone(),
            reason,
        };
        debug_assert_eq!(self.contents.len(), number);
        for e in &layer.entries {
            match e.kind {
                EntryKind::Whiteout => {
                    if let Some(path) = self.lookup(&e.path, false).map_err(fail)? {
                        self.remove_tree(&path);
                    }
                }
                EntryKind::Opaque => {
                    if let Some(dir) = self.lookup(&e.path, true).map_err(fail)? {
                        self.remove_children(&dir);
                    }
                }
                _ => {}
            }
        }
        for e in &layer.entries {
            if matches!(e.kind, EntryKind::Whiteout | EntryKind::Opaque) {
                continue;
            }
            if e.path.is_empty() {
                // The root itself: only directory metadata can apply.
                if e.kind == EntryKind::Dir {
                    self.nodes.get_mut("").expect("root").meta = e.meta.clone();
                }
                continue;
            }
            let path = self.place(&e.path).map_err(fail)?;
            let (kind, meta, inode) = match &e.kind {
                EntryKind::HardLink(target) => {
                    let target_node = self
                        .lookup(target, false)
                        .map_err(fail)?
                        .and_then(|t| self.nodes.get(&t))
                        .ok_or_else(|| {
                            fail(format!("hard link {:?} to missing {target:?}", e.path))
                        })?;
                    if target_node.kind == NodeKind::Dir {
                        return Err(fail(format!(
                            "hard link {:?} to directory {target:?}",
                            e.path
                        )));
                    }
                    (
                        target_node.kind.clone(),
                        target_node.meta.clone(),
                        target_node.inode,
                    )
                }
                other => (
                    self.node_kind(number, other),
                    e.meta.clone(),
                    self.fresh_inode(),
                ),
            };
            match self.nodes.get_mut(&path) {
                // A directory over a directory keeps its children.
                Some(existing) if existing.kind == NodeKind::Dir && kind == NodeKind::Dir => {
                    existing.meta = meta;
                    existing.layer = number;
                    continue;
                }
                Some(_) => self.remove_tree(&path),
                None => {}
            }
            self.nodes.insert(
                path,
                Node {
                    kind,
                    meta,
                    inode,
                    layer: number,
                },
            );
        }
        self.contents.push(layer.content.clone());
        Ok(())
    }

    fn node_kind(&self, layer: usize, kind: &EntryKind) -> NodeKind {
        match *kind {
            EntryKind::File { offset, size } => NodeKind::File {
                layer,
                offset,
                size,
            },
            EntryKind::Dir => NodeKind::Dir,
            EntryKind::Symlink(ref t) => NodeKind::Symlink(t.clone()),
            EntryKind::CharDevice { major, minor } => NodeKind::CharDevice { major, minor },
            EntryKind::BlockDevice { major, minor } => NodeKind::BlockDevice { major, minor },
            EntryKind::Fifo => NodeKind::Fifo,
            EntryKind::HardLink(_) | EntryKind::Whiteout | EntryKind::Opaque => {
                unreachable!("handled by apply")
            }
        }
    }

    fn fresh_inode(&mut self) -> u64 {
        self.next_inode += 1;
        self.next_inode
    }

    /// Remove `path` and everything below it.
    fn remove_tree(&mut self, path: &str) {
        if path.is_empty() {
            return;
        }
        self.nodes.remove(path);
        self.remove_children(path);
    }

    /// Remove everything below directory `dir`, keeping `dir` itself.
    fn remove_children(&mut self, dir: &str) {
        let children: Vec<String> = self.descendants(dir).map(|(p, _)| p.clone()).collect();
        for c in children {
            self.nodes.remove(&c);
        }
    }

    /// Every path strictly below `dir`, in order.
    pub fn descendants<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a String, &'a Node)> {
        let (lo, hi) = if dir.is_empty() {
            (String::new(), None)
        } else {
            // '0' is the byte after '/', so [dir/, dir0) is exactly the subtree.
            (format!("{dir}/"), Some(format!("{dir}0")))
        };
        let range: Box<dyn Iterator<Item = (&'a String, &'a Node)>> = match hi {
            Some(hi) => Box::new(self.nodes.range(lo..hi)),
            None => Box::new(self.nodes.range(lo..).filter(|(p, _)| !p.is_empty())),
        };
        range
    }
}

#[cfg(test)]
mod tests;
