//! Launchers: programs that only run another program (`env FOO=1 python3
//! app.py`, `tini -- node server.js`, `gosu app cmd`). The command after
//! their own options is traced as if the image ran it.

use super::{Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::tracer::Tracer;

/// Launchers and the options of theirs that take a value.
const LAUNCHERS: &[(&str, &[&str])] = &[
    ("env", &["-u", "--unset", "-C", "--chdir"]),
    ("tini", &["-p", "-e"]),
    ("tini-static", &["-p", "-e"]),
    ("dumb-init", &["-r", "--rewrite"]),
    ("nohup", &[]),
    ("nice", &["-n", "--adjustment"]),
    ("setpriv", &[]),
    ("chroot", &[]),
    // These two take the user to run as before the command.
    ("gosu", &[]),
    ("su-exec", &[]),
];

pub(super) struct Launcher;

impl Runtime for Launcher {
    fn runs(&self, base: &str) -> bool {
        LAUNCHERS.iter().any(|(name, _)| *name == base)
    }

    fn trace(&self, inv: &Invocation, _real: &ImagePath, t: &mut Tracer) {
        let name = inv.name();
        let argv = launched(name, inv.argv);
        let Some(cmd) = argv.first() else { return };
        match t.resolve_program(cmd) {
            Some(p) => {
                t.keep_program(
                    &p,
                    Reason::runtime(format!("run by {name}, started by"), &inv.program_path()),
                );
                t.invoke(&Invocation {
                    program: &p,
                    argv: &argv,
                    what: inv.what,
                });
            }
            None => t.warn(format!(
                "{}: {cmd:?} (run by {name}) is not an executable file in the image",
                inv.what
            )),
        }
    }
}

/// The command line a launcher named `name` runs, from its own `argv`.
fn launched(name: &str, argv: &[String]) -> Vec<String> {
    let takes_value = LAUNCHERS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[][..], |(_, v)| *v);
    let mut rest = argv.iter().skip(1).peekable();
    while let Some(a) = rest.peek() {
        if *a == "--" {
            rest.next();
            break;
        }
        if a.starts_with('-') || (name == "env" && a.contains('=')) {
            let with_value = takes_value.contains(&a.as_str());
            rest.next();
            if with_value {
                rest.next();
            }
            continue;
        }
        break;
    }
    if name == "gosu" || name == "su-exec" {
        rest.next();
    }
    rest.cloned().collect()
}
