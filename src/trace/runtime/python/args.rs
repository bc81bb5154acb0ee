//! The interpreter's command line, as CPython reads it, and its version from its name.

use super::super::attached_or_next;

/// The command line, as CPython reads it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(in crate::trace::runtime) struct PythonArgs {
    /// The script file (`None` for `-m`, `-c` and the REPL).
    pub script: Option<String>,
    /// `-m module`.
    pub module: Option<String>,
    /// `-c code`.
    pub code: Option<String>,
    /// `-E` / `-I`: ignore PYTHON* variables.
    pub ignore_env: bool,
    /// `-s` / `-I`: no user site directory.
    pub no_user_site: bool,
    /// `-S`: no site directories at all.
    pub no_site: bool,
    /// The arguments after the script, `-m module` or `-c code`.
    pub rest: Vec<String>,
}

impl PythonArgs {
    pub fn parse(argv: &[String]) -> Self {
        let mut out = PythonArgs::default();
        let mut args = argv.iter().skip(1);
        while let Some(a) = args.next() {
            if a == "-" || !a.starts_with('-') {
                if a != "-" {
                    out.script = Some(a.clone());
                }
                out.rest = args.by_ref().cloned().collect();
                break;
            }
            if a.starts_with("--") {
                if a == "--check-hash-based-pycs" {
                    args.next();
                }
                continue;
            }
            // A cluster of one-letter flags; c, m, W and X take the rest or the next word.
            for (i, f) in a.char_indices().skip(1) {
                match f {
                    'c' | 'm' | 'W' | 'X' => {
                        let value = attached_or_next(&a[i + 1..], &mut args);
                        match f {
                            'c' => out.code = Some(value),
                            'm' => out.module = Some(value),
                            _ => {}
                        }
                        break;
                    }
                    'E' => out.ignore_env = true,
                    's' => out.no_user_site = true,
                    'S' => out.no_site = true,
                    'I' => {
                        out.ignore_env = true;
                        out.no_user_site = true;
                    }
                    _ => {}
                }
            }
            if out.code.is_some() || out.module.is_some() {
                out.rest = args.by_ref().cloned().collect();
                break;
            }
        }
        out
    }
}

/// `X.Y` from `python3.11`, `python3.11d`, `pypy3.10`.
pub(super) fn version_from_name(name: &str) -> Option<String> {
    let v = name.trim_start_matches("python").trim_start_matches("pypy");
    let v = v.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let (major, minor) = v.split_once('.')?;
    (!major.is_empty()
        && !minor.is_empty()
        && (major.to_owned() + minor)
            .chars()
            .all(|c| c.is_ascii_digit()))
    .then(|| format!("{major}.{minor}"))
}
