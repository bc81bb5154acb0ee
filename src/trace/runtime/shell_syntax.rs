//! Just enough POSIX shell syntax to find the commands a script runs: quotes,
//! escapes, comments, command substitution (also inside double quotes),
//! here-documents and `case` patterns are understood; expansions are not
//! performed, so a `$VAR` command word is returned as written for the caller
//! to report.

/// A lexical token of a script.
#[derive(Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    /// Ends a simple command: newline, `;`, `&`, `|`, `(`, `$(`, backquote.
    Sep,
    /// `;;`, the end of a `case` branch.
    EndBranch,
    /// A `)` that closes no `(` or `$(`: the end of a `case` pattern.
    EndPattern,
    /// `$(` or an opening backquote: a command substitution starts; the
    /// command around it goes on after [`Tok::Close`].
    Open,
    /// The end of a command substitution.
    Close,
}

/// Lines of here-document bodies removed (`<<EOF` ... `EOF`, `<<-'EOF'`).
fn without_heredocs(script: &str) -> String {
    let mut out = String::new();
    let mut until: Option<String> = None;
    for line in script.lines() {
        if let Some(end) = &until {
            if line.trim_start_matches('\t') == end {
                until = None;
            }
            out.push('\n');
            continue;
        }
        if let Some(i) = line.find("<<").filter(|&i| !line[i..].starts_with("<<<")) {
            let word: String = line[i + 2..]
                .trim_start_matches('-')
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace() && !";|&)".contains(*c))
                .filter(|c| *c != '\'' && *c != '"' && *c != '\\')
                .collect();
            if !word.is_empty() {
                until = Some(word);
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn lex(script: &str) -> Vec<Tok> {
    let mut l = Lexer {
        chars: without_heredocs(script).chars().collect(),
        i: 0,
        toks: Vec::new(),
        word: None,
        stack: Vec::new(),
        in_double: false,
    };
    while l.i < l.chars.len() {
        let c = l.chars[l.i];
        let next = l.chars.get(l.i + 1).copied();
        l.i += 1;
        if l.in_double {
            l.double_quoted(c, next);
        } else {
            l.unquoted(c, next);
        }
    }
    l.flush();
    l.toks
}

/// The lexer's state while it walks a script.
struct Lexer {
    chars: Vec<char>,
    /// The next character to read.
    i: usize,
    toks: Vec<Tok>,
    /// The word being read (`Some("")` after `""`: an empty word is a word).
    word: Option<String>,
    /// Open `$(`, `(` and backquotes: the closer, whether the opener was
    /// inside double quotes, and whether it is a command substitution (a
    /// `(` subshell is not: its end ends a command).
    stack: Vec<(char, bool, bool)>,
    in_double: bool,
}

impl Lexer {
    fn flush(&mut self) {
        if let Some(w) = self.word.take() {
            self.toks.push(Tok::Word(w));
        }
    }

    fn push(&mut self, c: char) {
        self.word.get_or_insert_with(String::new).push(c);
    }

    /// The character after the one just read.
    fn peek2(&self) -> Option<char> {
        self.chars.get(self.i + 1).copied()
    }

    /// A command substitution (or a subshell) opens: what follows is a new command.
    fn open(&mut self, closer: char, in_double: bool, substitution: bool) {
        self.flush();
        self.toks
            .push(if substitution { Tok::Open } else { Tok::Sep });
        self.stack.push((closer, in_double, substitution));
    }

    fn double_quoted(&mut self, c: char, next: Option<char>) {
        match c {
            '"' => self.in_double = false,
            '\\' => {
                if let Some(n) = next {
                    self.push(n);
                    self.i += 1;
                }
            }
            '$' if next == Some('(') && self.peek2() != Some('(') => {
                self.open(')', true, true);
                self.in_double = false;
                self.i += 1;
            }
            '`' => {
                self.open('`', true, true);
                self.in_double = false;
            }
            _ => self.push(c),
        }
    }

    fn unquoted(&mut self, c: char, next: Option<char>) {
        match c {
            '\'' => {
                let w = self.word.get_or_insert_with(String::new);
                while self.i < self.chars.len() && self.chars[self.i] != '\'' {
                    w.push(self.chars[self.i]);
                    self.i += 1;
                }
                self.i += 1;
            }
            '"' => {
                self.in_double = true;
                self.word.get_or_insert_with(String::new);
            }
            '\\' => {
                if let Some(n) = next.filter(|n| *n != '\n') {
                    self.push(n);
                }
                self.i += 1;
            }
            '#' if self.word.is_none() => {
                while self.i < self.chars.len() && self.chars[self.i] != '\n' {
                    self.i += 1;
                }
            }
            ' ' | '\t' => self.flush(),
            ';' if next == Some(';') => {
                self.flush();
                self.toks.push(Tok::EndBranch);
                self.i += 1;
            }
            '&' if self
                .word
                .as_deref()
                .is_some_and(|w| w.ends_with('>') || w.ends_with('<')) =>
            {
                self.push(c); // 2>&1, >&2
            }
            '\n' | ';' | '&' | '|' => {
                self.flush();
                self.toks.push(Tok::Sep);
            }
            '$' if next == Some('(') && self.peek2() == Some('(') => self.arithmetic(),
            '$' if next == Some('(') => {
                self.open(')', false, true);
                self.i += 1;
            }
            '$' if next == Some('{') => self.braced_variable(),
            '(' => self.open(')', false, false),
            ')' => self.close_paren(),
            '`' => self.backquote(),
            _ => self.push(c),
        }
    }

    /// `$(( arithmetic ))`: no commands inside; one `$` stands for it.
    fn arithmetic(&mut self) {
        let mut depth = 0;
        while self.i < self.chars.len() {
            match self.chars[self.i] {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        self.i += 1;
                        break;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        self.push('$');
    }

    /// `${VAR...}`: one word, whatever is inside.
    fn braced_variable(&mut self) {
        let w = self.word.get_or_insert_with(String::new);
        w.push('$');
        while self.i < self.chars.len() && self.chars[self.i] != '}' {
            w.push(self.chars[self.i]);
            self.i += 1;
        }
        self.i += 1;
    }

    /// `)`: closes a `(` or `$(` (and returns into double quotes if it was
    /// opened there), or ends a `case` pattern.
    fn close_paren(&mut self) {
        self.flush();
        match self.stack.last() {
            Some(&(')', d, substitution)) => {
                self.stack.pop();
                self.in_double = d;
                self.toks
                    .push(if substitution { Tok::Close } else { Tok::Sep });
            }
            _ => self.toks.push(Tok::EndPattern),
        }
    }

    /// A backquote opens a command substitution or closes the open one.
    fn backquote(&mut self) {
        if let Some(&('`', d, _)) = self.stack.last() {
            self.flush();
            self.toks.push(Tok::Close);
            self.stack.pop();
            self.in_double = d;
        } else {
            self.open('`', false, true);
        }
    }
}

/// The simple commands of a shell script, each as its words from the command
/// word on: variable assignments, shell keywords, `exec`-like prefixes and
/// redirections before it are dropped, quotes are removed.
pub fn simple_commands(script: &str) -> Vec<Vec<String>> {
    const PREFIXES: &[&str] = &[
        "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "exec",
        "time", "command", "nohup", "env", "esac",
    ];
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut expect_command = true;
    // `case WORD in` … `PATTERN)` … `;;`: patterns and the case word are no commands.
    let mut in_pattern = false;
    let mut skip_until_in = false;
    let mut case_depth = 0usize;
    // `for NAME in WORDS`: the list is no command.
    let mut in_for_list = false;
    // The commands that command substitutions interrupted, to go on with.
    let mut outer: Vec<(Option<Vec<String>>, bool, bool)> = Vec::new();
    for tok in lex(script) {
        match tok {
            Tok::Open => {
                outer.push((current.take(), expect_command, in_for_list));
                expect_command = true;
                in_for_list = false;
                continue;
            }
            Tok::Close => {
                out.extend(current.take());
                if let Some((c, e, f)) = outer.pop() {
                    (current, expect_command, in_for_list) = (c, e, f);
                } else {
                    expect_command = true;
                }
                continue;
            }
            Tok::Sep => {
                out.extend(current.take());
                expect_command = true;
                in_for_list = false;
                continue;
            }
            Tok::EndBranch => {
                out.extend(current.take());
                expect_command = true;
                in_pattern = case_depth > 0;
                continue;
            }
            Tok::EndPattern => {
                in_pattern = false;
                expect_command = true;
                continue;
            }
            Tok::Word(w) => {
                if skip_until_in {
                    if w == "in" {
                        skip_until_in = false;
                        in_pattern = true;
                    }
                    continue;
                }
                if in_pattern {
                    if w == "esac" {
                        in_pattern = false;
                        case_depth = case_depth.saturating_sub(1);
                    }
                    continue;
                }
                if in_for_list {
                    continue;
                }
                if !expect_command {
                    if let Some(c) = current.as_mut() {
                        c.push(w);
                    }
                    continue;
                }
                if w == "case" {
                    skip_until_in = true;
                    case_depth += 1;
                    continue;
                }
                if w == "esac" {
                    case_depth = case_depth.saturating_sub(1);
                    continue;
                }
                if w == "for" {
                    in_for_list = true;
                    continue;
                }
                let assignment = w.find('=').is_some_and(|i| {
                    i > 0 && w[..i].chars().all(|c| c.is_alphanumeric() || c == '_')
                });
                if w.is_empty()
                    || PREFIXES.contains(&w.as_str())
                    || assignment
                    || w.starts_with('-')
                {
                    continue; // still in command position
                }
                if w.starts_with('<')
                    || w.starts_with('>')
                    || w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('>')
                {
                    continue; // a redirection before the command word
                }
                current = Some(vec![w]);
                expect_command = false;
            }
        }
    }
    out.extend(current);
    // A substitution left open at the end of the text: its commands are in.
    for (c, _, _) in outer {
        out.extend(c);
    }
    out
}

/// Names a script defines as shell functions (`name() {` or `function name`):
/// calls to them are not programs.
pub fn shell_functions(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in script.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("function ") {
            if let Some(name) = rest.split(|c: char| c.is_whitespace() || c == '(').next() {
                out.push(name.to_string());
            }
        } else if let Some((name, _)) = line.split_once("()") {
            let name = name.trim_end();
            let valid = name
                .chars()
                .all(|c| c.is_alphanumeric() || "_-.:".contains(c));
            if !name.is_empty() && valid {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_words(s: &str) -> Vec<String> {
        simple_commands(s)
            .into_iter()
            .map(|c| c[0].clone())
            .collect()
    }

    #[test]
    fn commands_of_a_shell_string() {
        assert_eq!(
            first_words("set -e; FOO=1 exec /usr/bin/app --flag \"$X\" | tee /tmp/log && date"),
            ["set", "/usr/bin/app", "tee", "date"]
        );
        assert_eq!(
            first_words("if [ -f /x ]; then nginx -g 'daemon off;'; fi"),
            ["[", "nginx"]
        );
    }

    #[test]
    fn quotes_substitutions_and_arguments() {
        let script = r#"#!/bin/sh
# exec nothing here
set -e
log() { echo "$@"; }
echo "sed: $(printf '%s\n' "$name" | sed 's/o/0/g')"
echo "awk: $(awk '!/^#/ && $2 > m { m = $2; k = $1 } END { print k, m }' /app/data.txt)"
n=$((1 + 2)); v=`date -u +%F`
exec python3 /app/report.py "$@"
"#;
        assert_eq!(
            simple_commands(script),
            [
                vec!["set", "-e"],
                vec!["log"],
                vec!["echo", "$@"],
                vec!["printf", "%s\\n", "$name"],
                vec!["sed", "s/o/0/g"],
                vec!["echo", "sed: "],
                vec![
                    "awk",
                    "!/^#/ && $2 > m { m = $2; k = $1 } END { print k, m }",
                    "/app/data.txt"
                ],
                vec!["echo", "awk: "],
                vec!["date", "-u", "+%F"],
                vec!["python3", "/app/report.py", "$@"],
            ]
        );
        assert_eq!(shell_functions(script), ["log"]);
    }

    #[test]
    fn text_after_a_substitution_belongs_to_the_command_around_it() {
        let script = "echo \"user: $(id -un) ($(id -u):$(id -g))\"\nprintf '%s %s\\n' \"$(id -un)\" 1\nx=`hostname` ls /\n";
        assert_eq!(
            simple_commands(script),
            [
                vec!["id", "-un"],
                vec!["id", "-u"],
                vec!["id", "-g"],
                vec!["echo", "user: ", " (", ":", ")"],
                vec!["id", "-un"],
                vec!["printf", "%s %s\\n", "", "1"],
                vec!["hostname"],
                vec!["ls", "/"],
            ]
        );
    }

    #[test]
    fn case_patterns_heredocs_and_for_lists_are_no_commands() {
        let script = "case \"$1\" in\n  start|run) exec nginx -g 'daemon off;' ;;\n  *) echo usage >&2; exit 1 ;;\nesac\ncat <<EOF\nnot a command\nEOF\nfor f in a b c; do gzip \"$f\"; done\n";
        assert_eq!(
            first_words(script),
            ["nginx", "echo", "exit", "cat", "gzip"]
        );
    }
}
