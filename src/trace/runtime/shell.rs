//! Shell scripts and `sh -c` strings: every program a command names is kept
//! and traced in turn (with its arguments, so `exec python3 app.py` traces the
//! Python app), sourced files are read too, and what cannot be resolved
//! (`"$JAVA"`, a program missing from the image) is reported.

use super::shell_syntax::{shell_functions, simple_commands};
use super::{parent, Invocation, Tracer};
use crate::keep::Reason;
use crate::trace::image::{is_system_dir, rel};
use crate::trace::roots::resolve_program;

/// Shell builtins and keywords that never name a file to keep.
const BUILTINS: &[&str] = &[
    "set", "cd", "echo", "printf", "test", "[", "[[", "export", "unset", "read", "shift", "exit",
    "return", "trap", "wait", "true", "false", ":", "eval", "ulimit", "umask", "local", "alias",
    "type", "hash", "break", "continue", "getopts", "readonly", "declare", "typeset", "let", "pwd",
    "kill", "}", "]", "]]", "fi", "done", "esac", ";;",
];

impl Tracer<'_> {
    /// `sh [-opts] -c STRING [args]`, `sh [-opts] FILE [args]` (or a script
    /// whose `#!` names the shell: then FILE is the script).
    pub(super) fn shell(&mut self, inv: &Invocation, _real: &str) {
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
            self.shell_text(operand, &what, None);
            return;
        }
        let script = self.absolute(operand);
        let Some(real) = self.real(&script) else {
            self.warnings.push(format!(
                "{}: shell script {script} is not in the image",
                inv.what
            ));
            return;
        };
        self.keep
            .insert(&real, Reason::runtime("script run by", rel(inv.program)));
        self.shell_script(&real);
    }

    /// Read a script file and trace what it runs (once per file).
    fn shell_script(&mut self, real: &str) {
        if !self.done.insert(format!("shell script {real}")) {
            return;
        }
        let Some(text) = self.read_text(real) else {
            return;
        };
        self.shell_text(&text, &format!("the script /{real}"), Some(real));
    }

    /// Trace each simple command of `text`; `script` is the file it came from, if any.
    fn shell_text(&mut self, text: &str, what: &str, script: Option<&str>) {
        let commands = simple_commands(text);
        let mut functions = shell_functions(text);
        // Functions may come from a sourced file: read those first.
        for argv in &commands {
            if argv[0] == "." || argv[0] == "source" {
                if let Some(text) = argv.get(1).and_then(|f| self.read_text(&self.absolute(f))) {
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
                if let Some(real) = argv.get(1).and_then(|f| self.real(&self.absolute(f))) {
                    self.keep.insert(&real, why);
                    self.shell_script(&real);
                }
                continue;
            }
            // Paths an app's script passes (a data file for awk); a system
            // script's arguments say nothing about the app.
            if let Some(script) = script.filter(|s| !is_system_dir(&format!("/{}", parent(s)))) {
                self.keep_named_paths(argv[1..].iter().map(String::as_str), script);
            }
            match resolve_program(self.fs, &self.run, word) {
                Some(p) => {
                    self.program(&p, why);
                    self.invoked(&Invocation {
                        program: &p,
                        argv: &argv,
                        what,
                    });
                }
                None if word.contains('$') || word.contains('*') => self.warnings.push(format!(
                    "{what}: runs {word:?}, which depends on run-time values; name the program with --include-exe if it is needed"
                )),
                None => self
                    .warnings
                    .push(format!("{what}: {word:?} is not a program in the image")),
            }
        }
    }
}
