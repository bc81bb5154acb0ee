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
use std::io::Read;

use crate::image_path::ImagePath;
use crate::layer::{Change, Content, FileReader, Kind, LayerIndex, Meta};

pub use resolve::WalkError;

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: Kind,
    pub meta: Meta,
    /// Paths with the same inode number are hard links to one file.
    pub inode: u64,
    /// The layer whose content holds a regular file's bytes (0-based): the
    /// layer that wrote it, or for a hard link the layer of the file it links.
    pub layer: usize,
}

impl Node {
    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    pub fn is_file(&self) -> bool {
        matches!(self.kind, Kind::File { .. })
    }

    /// Bytes of a regular file; 0 for anything else.
    pub fn size(&self) -> u64 {
        match self.kind {
            Kind::File { size, .. } => size,
            _ => 0,
        }
    }

    /// A regular file with an execute bit.
    pub fn is_executable_file(&self) -> bool {
        self.is_file() && self.meta.mode & 0o111 != 0
    }
}

/// A layer that cannot be applied to the layers below it.
#[derive(Debug, thiserror::Error)]
#[error("cannot apply layer {layer}")]
pub struct ApplyError {
    pub layer: usize,
    #[source]
    pub cause: ApplyCause,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyCause {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error("hard link {path} to missing {target}")]
    HardLinkMissing { path: ImagePath, target: ImagePath },
    #[error("hard link {path} to directory {target}")]
    HardLinkToDir { path: ImagePath, target: ImagePath },
}

/// Paths are kept sorted, so a directory's descendants are one contiguous
/// range and parents always come before their children.
pub struct RootFs {
    nodes: BTreeMap<ImagePath, Node>,
    contents: Vec<Content>,
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
            ImagePath::root(),
            Node {
                kind: Kind::Dir,
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
    ) -> Result<Self, ApplyError> {
        let mut fs = RootFs::new();
        for (number, layer) in layers.into_iter().enumerate() {
            fs.apply(number, layer.borrow())
                .map_err(|cause| ApplyError {
                    layer: number,
                    cause,
                })?;
        }
        Ok(fs)
    }

    /// The node at a normalised path (no symlinks followed).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// All paths and nodes, parents before children. The root is first.
    pub fn iter(&self) -> impl Iterator<Item = (&ImagePath, &Node)> {
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
        self.content_size_of(self.nodes.keys())
    }

    /// Bytes of regular file content among `paths`, each inode counted once
    /// (hard links share their bytes).
    pub fn content_size_of<'a>(&self, paths: impl Iterator<Item = &'a ImagePath>) -> u64 {
        let mut seen = std::collections::HashSet::new();
        paths
            .filter_map(|p| self.nodes.get(p))
            .filter(|n| n.is_file() && seen.insert(n.inode))
            .map(Node::size)
            .sum()
    }

    /// Add a directory the image lacks (e.g. a world-writable /tmp), with
    /// `meta`; an existing path is left as it is.
    pub fn ensure_dir(&mut self, path: &ImagePath, meta: Meta) {
        if !self.nodes.contains_key(path) {
            let inode = self.fresh_inode();
            self.nodes.insert(
                path.clone(),
                Node {
                    kind: Kind::Dir,
                    meta,
                    inode,
                    layer: self.contents.len().saturating_sub(1),
                },
            );
        }
    }

    /// A reader over a regular file's content.
    pub fn open(&self, node: &Node) -> Option<FileReader> {
        match node.kind {
            Kind::File { offset, size } => Some(self.contents[node.layer].open(offset, size)),
            _ => None,
        }
    }

    /// The content of the regular file `path` resolves to (symlinks followed
    /// inside the image), with its real path; `None` for anything else.
    pub fn read(&self, path: &str) -> Option<(ImagePath, Vec<u8>)> {
        let real = self.lookup(path, true).ok()??;
        let node = self.get(real.as_str())?;
        let mut buf = Vec::with_capacity(node.size() as usize);
        self.open(node)?.read_to_end(&mut buf).ok()?;
        Some((real, buf))
    }

    /// Apply one layer: first its whiteouts and opaque markers against the
    /// lower layers, then its entries in tar order (a later duplicate wins).
    pub fn apply(&mut self, number: usize, layer: &LayerIndex) -> Result<(), ApplyCause> {
        debug_assert_eq!(self.contents.len(), number);
        for e in &layer.entries {
            match e.change {
                Change::Whiteout => {
                    if let Some(path) = self.lookup(e.path.as_str(), false)? {
                        self.remove_tree(&path);
                    }
                }
                Change::Opaque => {
                    if let Some(dir) = self.lookup(e.path.as_str(), true)? {
                        self.remove_children(&dir);
                    }
                }
                _ => {}
            }
        }
        for e in &layer.entries {
            if e.path.is_root() {
                // The root itself: only directory metadata can apply.
                if e.change == Change::Add(Kind::Dir) {
                    self.nodes.get_mut("").expect("root").meta = e.meta.clone();
                }
                continue;
            }
            let (kind, meta, inode, content_layer) = match &e.change {
                Change::Whiteout | Change::Opaque => continue,
                Change::HardLink(target) => {
                    let node = self
                        .lookup(target.as_str(), false)?
                        .and_then(|t| self.nodes.get(&t))
                        .ok_or_else(|| ApplyCause::HardLinkMissing {
                            path: e.path.clone(),
                            target: target.clone(),
                        })?;
                    if node.is_dir() {
                        return Err(ApplyCause::HardLinkToDir {
                            path: e.path.clone(),
                            target: target.clone(),
                        });
                    }
                    (node.kind.clone(), node.meta.clone(), node.inode, node.layer)
                }
                Change::Add(kind) => (kind.clone(), e.meta.clone(), self.fresh_inode(), number),
            };
            let path = self.place(&e.path)?;
            match self.nodes.get_mut(&path) {
                // A directory over a directory keeps its children.
                Some(existing) if existing.is_dir() && kind == Kind::Dir => {
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
                    layer: content_layer,
                },
            );
        }
        self.contents.push(layer.content.clone());
        Ok(())
    }

    fn fresh_inode(&mut self) -> u64 {
        self.next_inode += 1;
        self.next_inode
    }

    /// Remove `path` and everything below it.
    fn remove_tree(&mut self, path: &ImagePath) {
        if path.is_root() {
            return;
        }
        self.nodes.remove(path);
        self.remove_children(path);
    }

    /// Remove everything below directory `dir`, keeping `dir` itself.
    fn remove_children(&mut self, dir: &ImagePath) {
        let children: Vec<ImagePath> = self.descendants(dir).map(|(p, _)| p.clone()).collect();
        for c in children {
            self.nodes.remove(&c);
        }
    }

    /// Every path strictly below `dir`, in order.
    pub fn descendants<'a>(
        &'a self,
        dir: &ImagePath,
    ) -> impl Iterator<Item = (&'a ImagePath, &'a Node)> + 'a {
        use std::ops::Bound;
        let range: Box<dyn Iterator<Item = (&'a ImagePath, &'a Node)>> = if dir.is_root() {
            Box::new(self.nodes.iter().skip(1))
        } else {
            // '0' is the byte after '/', so [dir/, dir0) is exactly the subtree.
            let lo = format!("{}/", dir.as_str());
            let hi = format!("{}0", dir.as_str());
            Box::new(
                self.nodes
                    .range::<str, _>((Bound::Included(lo.as_str()), Bound::Excluded(hi.as_str()))),
            )
        };
        range
    }

    /// Names of the entries directly inside the directory `dir`.
    pub fn children(&self, dir: &ImagePath) -> Vec<String> {
        self.descendants(dir)
            .filter_map(|(p, _)| {
                let name = p.relative_to(dir)?;
                (!name.contains('/')).then(|| name.to_string())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
