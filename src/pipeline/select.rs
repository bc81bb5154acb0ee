//! What to keep from an image: the selection flags, and how a batch list
//! line's own flags add to the command line's.

use crate::trace::TraceOptions;

/// What to keep: exact `--keep` globs, or tracing (the default), then `--exclude`.
#[derive(Clone, Debug, Default)]
pub struct Select {
    /// `--keep` patterns (absolute image paths; `*`, `**`, `?`, `[...]`, `{a,b}`).
    /// When given, exactly what they match is kept and nothing is traced.
    pub keep: Vec<String>,
    /// How to trace when no `--keep` is given.
    pub trace: TraceOptions,
    /// `--exclude` patterns, removed from whatever was selected.
    pub exclude: Vec<String>,
}

impl Select {
    /// This selection (the command line's) with a batch list line's own
    /// flags added, as if they were appended to the command line: patterns
    /// and programs add up, the line's `--entrypoint` and `--cmd` win, and
    /// `--no-certs` or `--no-import-graph` on either side turns that off.
    pub fn and(&self, line: &Select) -> Select {
        let join = |a: &[String], b: &[String]| [a, b].concat();
        let (t, l) = (&self.trace, &line.trace);
        Select {
            keep: join(&self.keep, &line.keep),
            trace: TraceOptions {
                entrypoint: l.entrypoint.clone().or_else(|| t.entrypoint.clone()),
                cmd: l.cmd.clone().or_else(|| t.cmd.clone()),
                include: join(&t.include, &l.include),
                include_exe: join(&t.include_exe, &l.include_exe),
                certs: t.certs && l.certs,
                import_graph: t.import_graph && l.import_graph,
                probed: None,
            },
            exclude: join(&self.exclude, &line.exclude),
        }
    }

    /// `--keep` with tracing flags: the tracing flags would be ignored.
    pub fn conflict(&self) -> Option<&'static str> {
        let t = &self.trace;
        if self.keep.is_empty() {
            return None;
        }
        [
            (!t.include.is_empty(), "--include"),
            (!t.include_exe.is_empty(), "--include-exe"),
            (t.entrypoint.is_some(), "--entrypoint"),
            (t.cmd.is_some(), "--cmd"),
            (!t.certs, "--no-certs"),
            (!t.import_graph, "--no-import-graph"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(keep: &[&str], include: &[&str], entrypoint: Option<&str>) -> Select {
        let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Select {
            keep: words(keep),
            trace: TraceOptions {
                include: words(include),
                entrypoint: entrypoint.map(|e| vec![e.to_string()]),
                ..TraceOptions::new()
            },
            exclude: vec![],
        }
    }

    #[test]
    fn a_line_adds_patterns_and_its_entrypoint_wins() {
        let cli = select(&[], &["/a"], Some("/bin/app"));
        let mut line = select(&[], &["/b"], Some("/bin/other"));
        line.trace.certs = false;
        let both = cli.and(&line);
        assert_eq!(both.trace.include, ["/a", "/b"]);
        assert_eq!(both.trace.entrypoint.unwrap(), ["/bin/other"]);
        assert!(!both.trace.certs && both.trace.import_graph);
        assert_eq!(
            cli.and(&select(&[], &[], None)).trace.entrypoint.unwrap(),
            ["/bin/app"]
        );
        assert_eq!(
            cli.and(&select(&["/x/**"], &[], None)).conflict(),
            Some("--include")
        );
        assert_eq!(select(&["/x/**"], &[], None).conflict(), None);
    }
}
