//! Keeping whole trees: a runtime's library directory, an app's directory,
//! a VOLUME's seed content. Shared objects and executables inside are traced
//! as programs (runtimes dlopen them, apps run their helpers), and symlinks
//! keep what they point to.

use super::named::{is_shared_dir, is_system_dir};
use super::program::is_shared_object;
use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;

impl Tracer<'_> {
    /// Keep a path (a whole tree for a directory) and the targets of its symlinks.
    pub(in crate::trace) fn keep_tree(&mut self, path: &ImagePath, why: &str) {
        self.keep_tree_where(path, &Reason::Essential(why.to_string()), &|_| false);
    }

    /// Keep a path, and for a directory every path below it that `skip` does
    /// not reject (a rejected directory drops its whole subtree), plus the
    /// targets of kept symlinks. Shared objects and native addons among the
    /// kept files (`.so`, `.so.N`, `.node`) are traced as ELF, since runtimes
    /// load them with dlopen, and so are ELF executables (an app runs its helpers).
    pub(in crate::trace) fn keep_tree_where(
        &mut self,
        path: &ImagePath,
        why: &Reason,
        skip: &dyn Fn(&ImagePath) -> bool,
    ) {
        // Directories that kept symlinks lead to wait here rather than in a
        // recursion, so a crafted chain of links cannot exhaust the stack.
        let mut trees = vec![path.clone()];
        while let Some(tree) = trees.pop() {
            self.keep_one_tree(&tree, why, skip, &mut trees);
        }
    }

    /// One tree of [`Self::keep_tree_where`]; directories its symlinks point to go on `more`.
    fn keep_one_tree(
        &mut self,
        path: &ImagePath,
        why: &Reason,
        skip: &dyn Fn(&ImagePath) -> bool,
        more: &mut Vec<ImagePath>,
    ) {
        let fs = self.fs();
        let Some(node) = fs.get(path.as_str()) else {
            return;
        };
        let mut paths = vec![path.clone()];
        if node.is_dir() {
            let mut skipped: Option<ImagePath> = None;
            for (p, _) in fs.descendants(path) {
                if skipped.as_ref().is_some_and(|s| p.starts_with(s)) {
                    continue;
                }
                if skip(p) {
                    skipped = Some(p.clone());
                    continue;
                }
                paths.push(p.clone());
            }
        }
        for p in paths {
            let Some(node) = fs.get(p.as_str()) else {
                continue;
            };
            if node.is_file() && (is_shared_object(&p) || self.is_elf_executable(&p)) {
                self.program(&p.to_string(), why.clone());
                continue;
            }
            self.keep(&p, why.clone());
            if !matches!(node.kind, crate::layer::Kind::Symlink(_)) {
                continue;
            }
            let Ok(Some(resolved)) = fs.resolve(p.as_str(), true) else {
                continue;
            };
            let target = resolved.real;
            for l in resolved.links {
                self.keep(&l, Reason::LinkTo(target.clone()));
            }
            if fs.get(target.as_str()).is_some_and(|n| !n.is_dir()) {
                if is_shared_object(&target) {
                    self.program(&target.to_string(), Reason::LinkTo(p.clone()));
                } else {
                    self.keep(&target, Reason::LinkTo(p.clone()));
                }
            } else if is_shared_dir(&target) {
                // A link to `/`, `/usr/share/man`...: the directory, not the
                // whole system's tree (npm links its man pages so).
                self.keep(&target, Reason::LinkTo(p.clone()));
            } else if !self.is_kept(&target) {
                // Marked now, so a directory is queued once.
                self.keep(&target, why.clone());
                more.push(target);
            }
        }
    }

    /// Keep an app's own directory (the one holding its entry script), unless
    /// it is a system-wide one such as /usr/bin, where only the script is kept.
    /// `skip` rejects subtrees the runtime selects itself (node_modules).
    pub(in crate::trace) fn keep_app_dir(
        &mut self,
        dir: &ImagePath,
        why: &Reason,
        skip: &dyn Fn(&ImagePath) -> bool,
    ) -> bool {
        if dir.is_root() || is_system_dir(dir) || !self.is_dir(dir) {
            return false;
        }
        self.keep_tree_where(dir, why, skip);
        true
    }
}
