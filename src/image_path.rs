//! Paths inside an image.
//!
//! Every step speaks of files in the image by [`ImagePath`]: an absolute
//! path of the image's root filesystem, normalised (no `.`, no empty
//! components, no trailing `/`) and held without its leading `/`, so
//! `usr/bin/env` is the program `/usr/bin/env` and the root is `""`. It
//! prints with the slash. `..` is never part of one: resolving it needs the
//! filesystem (a symlink on the way changes what it means), which is
//! `RootFs::lookup`'s job; a path that would need it is refused here.

use std::borrow::Borrow;
use std::fmt;

/// An absolute, normalised path inside an image (see the module docs).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImagePath(String);

/// A path with a `..` component where only plain names are allowed (a layer
/// entry, a whiteout, a path on the command line of `explain`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} has a '..' component")]
pub struct DotDot(pub String);

impl ImagePath {
    /// The root directory, `/`.
    pub fn root() -> Self {
        ImagePath(String::new())
    }

    /// Normalise `raw` (absolute or not, a tar entry name or a user's path):
    /// `./usr//bin/` is `/usr/bin`. A `..` component is refused: in a layer it
    /// could only mean escaping the image root.
    pub fn parse(raw: &str) -> Result<Self, DotDot> {
        let mut out = String::with_capacity(raw.len());
        for c in raw.split('/') {
            match c {
                "" | "." => {}
                ".." => return Err(DotDot(raw.to_string())),
                c => {
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(c);
                }
            }
        }
        Ok(ImagePath(out))
    }

    /// A path already in normal form (built by joining normal parts).
    pub(crate) fn from_normal(s: String) -> Self {
        debug_assert!(
            !s.starts_with('/') && !s.ends_with('/') && !s.contains("//"),
            "{s:?} is not a normal image path"
        );
        ImagePath(s)
    }

    /// `usr/bin/env`: without the leading slash (the root is `""`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The directory holding this path (the root's parent is the root).
    pub fn parent(&self) -> ImagePath {
        ImagePath(self.0.rsplit_once('/').map_or("", |(p, _)| p).to_string())
    }

    /// The last component (`""` for the root).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// `self/name`, where `name` is one or more plain components.
    pub fn join(&self, name: &str) -> ImagePath {
        let name = name.trim_matches('/');
        if self.0.is_empty() {
            ImagePath(name.to_string())
        } else if name.is_empty() {
            self.clone()
        } else {
            ImagePath(format!("{}/{name}", self.0))
        }
    }

    /// Whether this path is `dir` or below it (component-wise: `/usr/lib2`
    /// is not below `/usr/lib`).
    pub fn starts_with(&self, dir: &ImagePath) -> bool {
        self.relative_to(dir).is_some()
    }

    /// The part of this path below `dir` (`""` when it is `dir`), if it is there.
    pub fn relative_to(&self, dir: &ImagePath) -> Option<&str> {
        if dir.0.is_empty() {
            return Some(&self.0);
        }
        let rest = self.0.strip_prefix(dir.0.as_str())?;
        match rest.strip_prefix('/') {
            Some(r) => Some(r),
            None if rest.is_empty() => Some(""),
            None => None,
        }
    }

    /// The path's components, top first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// Every directory above this path, nearest first, the root last.
    pub fn ancestors(&self) -> impl Iterator<Item = ImagePath> + '_ {
        let mut at = Some(self.clone());
        std::iter::from_fn(move || {
            let here = at.take()?;
            if here.is_root() {
                return None;
            }
            let up = here.parent();
            at = Some(up.clone());
            Some(up)
        })
    }
}

impl fmt::Display for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

impl fmt::Debug for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", format!("/{}", self.0))
    }
}

/// Maps keyed by `ImagePath` can be searched with a `&str` in the same form.
impl Borrow<str> for ImagePath {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for ImagePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_and_refuses_dotdot() {
        assert_eq!(ImagePath::parse("./usr/bin/").unwrap().as_str(), "usr/bin");
        assert_eq!(
            ImagePath::parse("/etc//passwd").unwrap().as_str(),
            "etc/passwd"
        );
        assert!(ImagePath::parse("./").unwrap().is_root());
        assert!(ImagePath::parse("usr/../../etc/shadow").is_err());
        assert_eq!(ImagePath::parse("usr/bin").unwrap().to_string(), "/usr/bin");
    }

    #[test]
    fn family() {
        let p = ImagePath::parse("/usr/lib/x").unwrap();
        let lib = ImagePath::parse("/usr/lib").unwrap();
        assert_eq!(p.parent(), lib);
        assert_eq!(p.file_name(), "x");
        assert!(p.starts_with(&lib) && p.starts_with(&ImagePath::root()));
        assert!(!ImagePath::parse("/usr/lib2").unwrap().starts_with(&lib));
        assert_eq!(p.relative_to(&lib), Some("x"));
        assert_eq!(lib.join("x"), p);
        assert_eq!(
            ImagePath::root().join("etc"),
            ImagePath::parse("etc").unwrap()
        );
        let up: Vec<String> = p.ancestors().map(|a| a.to_string()).collect();
        assert_eq!(up, ["/usr/lib", "/usr", "/"]);
    }
}
