//! What the slim run's own error messages say is missing, in the words
//! common runtimes use, each with the `--include` that would keep it.
//! Only what the source's run did not also complain about counts.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

use crate::probe::Observed;

/// One thing the slim image lacks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Missing {
    /// An absolute path (`No such file or directory`, `ENOENT`, a module path).
    Path(String),
    /// A shared library by name (`error while loading shared libraries`).
    Library(String),
    /// A Python module (`No module named 'x'`).
    PythonModule(String),
    /// A Node.js package or module (`Cannot find module 'x'`).
    NodeModule(String),
}

impl Missing {
    /// The flag that would keep it.
    pub fn include(&self) -> String {
        match self {
            Missing::Path(p) => format!("--include {p}"),
            Missing::Library(l) => format!("--include '/**/{l}'"),
            Missing::PythonModule(m) => {
                let top = m.split('.').next().unwrap_or(m);
                format!("--include '/**/{top}/**' --include '/**/{top}.py'")
            }
            Missing::NodeModule(m) => format!("--include '/**/node_modules/{m}/**'"),
        }
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Missing::Path(p) => p.clone(),
            Missing::Library(l) => format!("the library {l}"),
            Missing::PythonModule(m) => format!("the Python module {m}"),
            Missing::NodeModule(m) => format!("the Node.js module {m}"),
        };
        write!(f, "{what}: {}", self.include())
    }
}

/// A pattern, and how its capture becomes a [`Missing`].
type Pattern = (Regex, fn(&str) -> Missing);

/// The patterns, in the order they are tried.
fn patterns() -> &'static [Pattern] {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let r = |s: &str| Regex::new(s).expect("the built-in patterns compile");
        vec![
            // ld.so: "error while loading shared libraries: libz.so.1: cannot open ..."
            (r(r"error while loading shared libraries: ([^\s:]+)"), |s| {
                lib_or_path(s)
            }),
            // dlopen: "/opt/x/libfoo.so: cannot open shared object file"
            (
                r(r"([^\s'\x22:()]+\.so[.\d]*): cannot open shared object file"),
                |s| lib_or_path(s),
            ),
            // Python
            (r(r"No module named '([\w.]+)'"), |s| {
                Missing::PythonModule(s.to_string())
            }),
            // Node.js: "Cannot find module '/app/x'" or "'express'"
            (r(r"Cannot find module '([^']+)'"), |s| {
                if s.starts_with('/') {
                    Missing::Path(s.to_string())
                } else {
                    Missing::NodeModule(s.to_string())
                }
            }),
            // Node.js errors: "ENOENT: no such file or directory, open '/app/x'"
            (r(r"ENOENT[^\n']*'(/[^']+)'"), |s| {
                Missing::Path(s.to_string())
            }),
            // Python: "FileNotFoundError: [Errno 2] No such file or directory: '/path'"
            (r(r"No such file or directory: '(/[^']+)'"), |s| {
                Missing::Path(s.to_string())
            }),
            // C, shells, Python, Go...: "/path: No such file or directory",
            // "can't open file '/path': [Errno 2] No such file or directory",
            // "open /path: no such file or directory".
            (
                r(r#"(?im)(?:^|[\s'"(=,])(/[^\s'":,()]+)[^\n/]*?no such file or directory"#),
                |s| Missing::Path(s.to_string()),
            ),
        ]
    })
}

fn lib_or_path(s: &str) -> Missing {
    if s.starts_with('/') {
        Missing::Path(s.to_string())
    } else {
        Missing::Library(s.to_string())
    }
}

/// Everything `text` says is missing.
fn in_text(text: &str) -> BTreeSet<Missing> {
    let mut out = BTreeSet::new();
    for (re, make) in patterns() {
        for c in re.captures_iter(text) {
            out.insert(make(&c[1]));
        }
    }
    out
}

/// All the output of a run: its own, its commands', its HTTP answers'.
fn all_output(o: &Observed) -> String {
    let mut s = format!("{}\n{}\n", o.stdout, o.stderr);
    for e in o.execs.iter().chain(&o.health) {
        s += &format!("{}\n{}\n", e.stdout, e.stderr);
    }
    for h in &o.http {
        if let Some(r) = &h.response {
            s += r;
            s.push('\n');
        }
    }
    s
}

/// What the slim run says is missing and the source's run does not.
pub fn named(fat: &Observed, slim: &Observed) -> Vec<Missing> {
    let fat_said = in_text(&all_output(fat));
    in_text(&all_output(slim))
        .into_iter()
        .filter(|m| !fat_said.contains(m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_of_each_runtime_name_what_is_missing() {
        let said = in_text(
            "python3: can't open file '/app/main.py': [Errno 2] No such file or directory\n\
             /app/bin/report: error while loading shared libraries: libz.so.1: cannot open shared object file: No such file or directory\n\
             dlopen: /opt/acme/codecs/libdeflate.so: cannot open shared object file: No such file or directory\n\
             ModuleNotFoundError: No module named 'acme_plugins.csv_report'\n\
             Error: Cannot find module 'express'\n\
             Error: Cannot find module '/opt/acme/handlers/ledger.js'\n\
             Error: ENOENT: no such file or directory, open '/srv/data/a b.json'\n\
             cat: /srv/acme/input/ledger.txt: No such file or directory\n\
             open /etc/app/config.yaml: no such file or directory\n\
             FileNotFoundError: [Errno 2] No such file or directory: '/srv/www/index.html'\n",
        );
        let want = [
            Missing::Path("/app/main.py".into()),
            Missing::Library("libz.so.1".into()),
            Missing::Path("/opt/acme/codecs/libdeflate.so".into()),
            Missing::PythonModule("acme_plugins.csv_report".into()),
            Missing::NodeModule("express".into()),
            Missing::Path("/opt/acme/handlers/ledger.js".into()),
            Missing::Path("/srv/data/a b.json".into()),
            Missing::Path("/srv/acme/input/ledger.txt".into()),
            Missing::Path("/etc/app/config.yaml".into()),
            Missing::Path("/srv/www/index.html".into()),
        ];
        for w in &want {
            assert!(said.contains(w), "{w:?} not in {said:?}");
        }
        assert_eq!(
            Missing::PythonModule("yaml".into()).include(),
            "--include '/**/yaml/**' --include '/**/yaml.py'"
        );
        assert!(in_text("all good\n").is_empty());
    }
}
