//! The dynamic evidence: every path a `--probe` run touched, resolved in the
//! image (each symlink on the way kept), added after all static evidence.
//! An ELF file the run executed or mapped is kept as a program, with what
//! the loader maps for it; everything else is kept as the path itself (a
//! listed directory keeps the directory, not what is in it).

use std::collections::BTreeSet;

use super::tracer::Tracer;
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::probe::{Access, Record};

/// What the probe found, beside what static tracing had already kept.
#[derive(Clone, Debug, Default)]
pub struct ProbeFound {
    /// Paths of the image the run touched (real paths and links on the way).
    pub touched: BTreeSet<ImagePath>,
    /// Of those, the files it opened or executed (real paths): what the run
    /// read, the floor of what a slim image must hold for it.
    pub opened: BTreeSet<ImagePath>,
    /// Everything the static evidence kept before the probe's paths were added.
    pub static_kept: BTreeSet<ImagePath>,
    /// Records naming a path that is not in the image (created at run
    /// time, looked for and not found, or in a mounted volume).
    pub not_in_image: usize,
}

impl Tracer<'_> {
    pub(super) fn probed(&mut self, records: &[Record]) -> ProbeFound {
        let mut found = ProbeFound {
            static_kept: self.kept_paths(),
            ..ProbeFound::default()
        };
        let mut done: BTreeSet<(&str, bool, bool)> = BTreeSet::new();
        for r in records {
            // A link read as a link is kept as the link; every other access
            // went through it to what it names.
            let follow = r.access != Access::ReadLink;
            // A path stat'ed first and opened later (the JVM's lib/modules)
            // is seen again for the open: it was read.
            let loads = matches!(r.access, Access::Executed | Access::Opened);
            if !r.path.starts_with('/') || !done.insert((r.path.as_str(), follow, loads)) {
                continue;
            }
            let Ok(Some(resolved)) = self.fs().resolve(&r.path, follow) else {
                found.not_in_image += 1;
                continue;
            };
            if resolved.real.is_root() {
                continue;
            }
            let reason = Reason::Probed {
                access: r.access.verb(),
                by: r.program.clone(),
            };
            for l in &resolved.links {
                self.keep(l, Reason::LinkTo(resolved.real.clone()));
                found.touched.insert(l.clone());
            }
            if loads {
                found.opened.insert(resolved.real.clone());
            }
            if loads && self.is_elf_file(&resolved.real) {
                self.keep_program(resolved.real.as_str(), reason);
            } else {
                self.keep(&resolved.real, reason);
            }
            found.touched.insert(resolved.real);
        }
        found
    }
}
