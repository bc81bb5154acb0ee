//! Shell scripts and `sh -c` strings: every program a command names is kept
//! and traced in turn (with its arguments, so `exec python3 app.py` traces the
//! Python app), sourced files are read too, and what cannot be resolved
//! (`"$JAVA"`, a program missing from the image) is reported.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::shell_syntax::{shell_functions, simple_commands};
use super::{Invocation, Runtime};
use crate::image_path::ImagePath;
use crate::keep::Reason;
use crate::trace::named::is_system_dir;
use crate::trace::roots::is_shell;
use crate::trace::tracer::Tracer;

/// Shell builtins and keywords that never name a file to keep.
const BUILTINS: &[&str] = &[
    "set", "cd", "echo", "printf", "test", "[", "[[", "export", "unset", "read", "shift", "exit",
    "return", "trap", "wait", "true", "false", ":", "eval", "ulimit", "umask", "local", "alias",
    "type", "hash", "break", "continue", "getopts", "readonly", "declare", "typeset", "let", "pwd",
    "kill", "}", "]", "]]", "fi", "done", "esac", ";;",
];

#[derive(Default)]
pub(super) struct Shell {
    /// Script files already read (a script sourced from many places is read once).
    scripts: RefCell<BTreeSet<ImagePath>>,
}

impl Runtime for Shell {
    fn runs(&self, base: &str) -> bool {
        is_shell(base)
    }

    /// `sh [-opts] -c STRING [args]`, `sh [-opts] FILE [args]` (or a script
    /// whose `#!` names the shell: then FILE is the script).
    fn trace(&self, inv: &Invocation, _real: &ImagePath, t: &mut Tracer) {
        let mut args = inv.argv.iter().skip(1);
        let mut command_string = false;
        let mut operand = None;
        while let Some(a) = args.next() {
            if a == "--" {
                operand = args.next();
                break;
            }
            if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 {
                command_string |= a.starts_with('-') && !a.starts_with("--") && a.contains('c');
                if a == "-o" || a == "+o" {
                    args.next();
                }
                continue;
            }
            operand = Some(a);
            break;
        }
        let Some(operand) = operand else { return };
        if command_string {
            let what = format!("{} shell command", inv.what);
            self.text(t, operand, &what, None);
            return;
        }
        let script = t.absolute(operand);
        let Some(real) = t.real(&script) else {
            t.warn(format!(
                "{}: shell script {script} is not in the image",
                inv.what
            ));
            return;
        };
        t.keep(&real, Reason::runtime("script run by", &inv.program_path()));
        self.script(t, &real);
    }
}

impl Shell {
    /// Read a script file and trace what it runs (once per file).
    fn script(&self, t: &mut Tracer, real: &ImagePath) {
        if !self.scripts.borrow_mut().insert(real.clone()) {
            return;
        }
        let Some(text) = t.read_text(real.as_str()) else {
            return;
        };
        self.text(t, &text, &format!("the script {real}"), Some(real));
    }

    /// Trace each simple command of `text`; `script` is the file it came from, if any.
    fn text(&self, t: &mut Tracer, text: &str, what: &str, script: Option<&ImagePath>) {
        let commands = simple_commands(text);
        let mut functions = shell_functions(text);
        // Functions may come from a sourced file: read those first.
        for argv in &commands {
            if argv[0] == "." || argv[0] == "source" {
                if let Some(text) = argv.get(1).and_then(|f| t.read_text(&t.absolute(f))) {
                    functions.extend(shell_functions(&text));
                }
            }
        }
        for argv in commands {
            let word = argv[0].as_str();
            if BUILTINS.contains(&word) || functions.iter().any(|f| f == word) {
                continue;
            }
            let why = match script {
                Some(s) => Reason::runtime("run by the script", s),
                None => Reason::Root(format!("{word}, run by the {what}")),
            };
            // `. file` and `source file` read another script into this shell.
            if word == "." || word == "source" {
                if let Some(real) = argv.get(1).and_then(|f| t.real(&t.absolute(f))) {
                    t.keep(&real, why);
                    self.script(t, &real);
                }
                continue;
            }
            // Paths an app's script passes (a data file for awk); a system
            // script's arguments say nothing about the app.
            if let Some(script) = script.filter(|s| !is_system_dir(&s.parent())) {
                t.keep_named_paths(argv[1..].iter().map(String::as_str), script);
            }
            match t.resolve_program(word) {
                Some(p) => {
                    t.keep_program(&p, why);
                    t.invoke(&Invocation {
                        program: &p,
                        argv: &argv,
                        what,
                    });
                }
                None if word.contains('$') || word.contains('*') => t.warn(format!(
                    "{what}: runs {word:?}, which depends on run-time values; name the program with --include-exe if it is needed"
                )),
                None => t.warn(format!("{what}: {word:?} is not a program in the image")),
            }
        }
    }
}
