//! What a Perl source may load: the edges of the module closure.
//!
//! Perl cannot be parsed without running it, so this reads lines, outside
//! POD and after `__END__`/`__DATA__` nothing, and finds:
//! - modules by statement: `use`, `no`, `require`, and the classes
//!   `use parent`/`use base` load;
//! - files by path: `require "Exporter/Heavy.pm"`, `do "unicore/Name.pl"`,
//!   `require 'Config_heavy.pl'`, and module names in strings
//!   (`'Carp::Heavy'`) of a source that hands computed names to `require`
//!   or `eval`;
//! - heads of paths that a `require`, `do` or `eval` builds at run time
//!   (`require "Encode/$name.pm"`, `do "unicore/$table"`), or that a source
//!   loading by computed names builds anywhere (`"Encode::$_"`):
//!   everything below may be loaded;
//! - what perl's C code loads when the source uses a feature: `\N{NAME}`
//!   loads `charnames`, `%!` loads `Errno`, `%+` and `%-` load
//!   `Tie::Hash::NamedCapture`, an `:encoding(...)` layer loads `PerlIO`
//!   (which finds layers), `PerlIO::encoding` and `Encode`, a `:via(...)`
//!   layer `PerlIO` and `PerlIO::via`.

use std::collections::BTreeSet;

use super::encodings::{line_encodings, EncodingNames};

/// What one Perl source names.
#[derive(Debug, Default)]
pub(super) struct PerlRefs {
    /// `JSON::PP`, `strict`.
    pub modules: BTreeSet<String>,
    /// Paths relative to an @INC directory: `unicore/Name.pl`.
    pub files: BTreeSet<String>,
    /// Directory heads relative to an @INC directory: `Encode/`.
    pub prefixes: BTreeSet<String>,
    /// Whether the source loads modules by computed names (`require $mod`,
    /// `eval "use $class"`): only then are module names in its strings
    /// (`'Carp::Heavy'`) names it may load. A table of names that other
    /// code looks up (Encode::Config's encodings) loads nothing itself.
    pub loads_by_name: bool,
    /// Module names found in strings.
    pub named: BTreeSet<String>,
    /// The encodings its `encode`/`decode`/`:encoding(...)` calls name.
    pub encodings: EncodingNames,
    /// Its short literal strings (`'UTF-16LE'`): the names a lookup by a
    /// computed name may be given, in a module that computes them itself.
    pub literals: BTreeSet<String>,
    /// Heads of paths built on lines that load nothing themselves
    /// (`map { "Encode::$_" } @names`): prefixes in a source that loads by
    /// computed names.
    built: BTreeSet<String>,
}

impl PerlRefs {
    /// Every module the source may load.
    pub(super) fn all_modules(&self) -> impl Iterator<Item = &String> {
        let named = self.named.iter().filter(|_| self.loads_by_name);
        self.modules.iter().chain(named)
    }
}

/// Features whose use makes perl load a module by name, and those modules.
const FEATURE_MODULES: &[(&str, &[&str])] = &[
    ("\\N{", &["charnames", "_charnames"]),
    ("%!", &["Errno"]),
    ("$!{", &["Errno"]),
    ("%+", &["Tie::Hash::NamedCapture"]),
    ("$+{", &["Tie::Hash::NamedCapture"]),
    ("%-", &["Tie::Hash::NamedCapture"]),
    ("$-{", &["Tie::Hash::NamedCapture"]),
    (":encoding(", &["PerlIO", "PerlIO::encoding", "Encode"]),
    (":via(", &["PerlIO", "PerlIO::via"]),
];

fn is_module_name(w: &str) -> bool {
    !w.is_empty()
        && w.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
        && !w.starts_with(|c: char| c.is_ascii_digit() || c == ':')
        && !w.ends_with(':')
        && !w.contains(":::")
}

/// The code lines of a Perl source: no POD, nothing after `__END__`.
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    let mut pod = false;
    source
        .lines()
        .take_while(|l| !l.starts_with("__END__") && !l.starts_with("__DATA__"))
        .filter(move |l| {
            if l.starts_with('=') && l[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                pod = !l.starts_with("=cut");
                return false;
            }
            !pod
        })
}

/// Module names (`JSON::PP`) a Perl source loads with `use`, `no` or
/// `require`, including `use parent`/`use base` classes; pragmas are
/// modules too.
pub(in crate::trace::runtime) fn perl_modules(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in code_lines(source) {
        let code = line.split('#').next().unwrap_or("");
        for stmt in code.split(';') {
            let mut words = stmt.split_whitespace();
            let Some(kw) = words.next() else { continue };
            if kw != "use" && kw != "require" && kw != "no" {
                continue;
            }
            let Some(name) = words.next() else { continue };
            if !is_module_name(name) {
                continue;
            }
            out.insert(name.to_string());
            if name == "parent" || name == "base" {
                let rest: String = words.collect::<Vec<_>>().join(" ");
                let inner = rest
                    .trim_start_matches("-norequire,")
                    .replace(['(', ')', '\'', '"', ','], " ");
                let inner = inner
                    .trim_start_matches("qw")
                    .replace(['/', '{', '}', '[', ']'], " ");
                out.extend(
                    inner
                        .split_whitespace()
                        .filter(|w| is_module_name(w))
                        .map(str::to_string),
                );
            }
        }
    }
    out
}

/// Everything a Perl source may load.
pub(super) fn perl_refs(source: &str) -> PerlRefs {
    let mut refs = PerlRefs {
        modules: perl_modules(source),
        ..Default::default()
    };
    for line in code_lines(source) {
        if line.trim_start().starts_with('#') {
            continue;
        }
        for (feature, modules) in FEATURE_MODULES {
            if line.contains(feature) {
                refs.modules.extend(modules.iter().map(|m| m.to_string()));
            }
        }
        let code = line.split(" #").next().unwrap_or(line);
        let dynamic = [
            "require $",
            "require($",
            "eval \"require",
            "eval \"use",
            "eval qq",
        ]
        .iter()
        .any(|d| code.contains(d));
        refs.loads_by_name |= dynamic;
        // A path built at run time counts where the line loads it, and
        // anywhere in a source that loads by computed names.
        let loads = ["require", "do ", "do(", "eval", "use "]
            .iter()
            .any(|k| code.contains(k));
        refs.named.extend(barewords(code));
        line_encodings(code, &mut refs.encodings);
        for (text, interpolates) in quoted(code) {
            if text.len() <= 40 && !text.contains(['$', '@']) {
                refs.literals.insert(text.clone());
            }
            let mut found = PerlRefs::default();
            string_refs(&text, interpolates, &mut found);
            if loads {
                refs.prefixes.append(&mut found.prefixes);
            }
            refs.built.append(&mut found.prefixes);
            refs.files.append(&mut found.files);
            refs.named.append(&mut found.named);
        }
    }
    // A POD's `=encoding` names what Pod::Simple decodes it with (for
    // `pod2usage`, which Getopt::Long loads for `--help`).
    for line in source.lines() {
        if let Some(name) = line.strip_prefix("=encoding ") {
            let name = name.trim();
            if !name.is_empty() {
                refs.encodings.literal.insert(name.to_string());
            }
        }
    }
    if refs.loads_by_name {
        let built = std::mem::take(&mut refs.built);
        refs.prefixes.extend(built);
    }
    refs
}

/// What one quoted string names.
fn string_refs(text: &str, interpolates: bool, refs: &mut PerlRefs) {
    let path_like = |s: &str| {
        !s.is_empty()
            && !s.starts_with('/')
            && !s.contains("..")
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | ':'))
    };
    if interpolates {
        if let Some((head, _)) = text.split_once('$') {
            let head = head.replace("::", "/");
            if head.len() >= 3 && head.ends_with('/') && path_like(&head) {
                refs.prefixes.insert(head);
                return;
            }
        }
    }
    if text.contains('$') || text.contains('@') {
        return;
    }
    if (text.ends_with(".pm") || text.ends_with(".pl")) && path_like(text) && !text.contains(':') {
        refs.files.insert(text.to_string());
    } else if text.contains("::") && is_module_name(text) {
        refs.named.insert(text.to_string());
    }
}

/// The quoted strings of a line: `'…'` and `"…"` (the second
/// interpolates), without escapes taken apart; `q()`/`qq{}` are left out.
/// Strings joined by `.` are one: `'Text::' . 'Abbrev'`.
fn quoted(line: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut rest = line;
    let mut joins = false;
    while let Some(start) = rest.find(['\'', '"']) {
        let q = rest.as_bytes()[start] as char;
        let glue = rest[..start].trim();
        let after = &rest[start + 1..];
        let Some(end) = after.find(q) else {
            break;
        };
        let text = &after[..end];
        match out.last_mut() {
            Some((last, interpolates)) if joins && glue == "." => {
                last.push_str(text);
                *interpolates |= q == '"';
            }
            _ => out.push((text.to_string(), q == '"')),
        }
        joins = true;
        rest = &after[end + 1..];
    }
    out
}

/// Package names written as barewords: `Text::Abbrev::abbrev(...)` names
/// `Text::Abbrev::abbrev` and `Text::Abbrev`, `JSON::PP->new` `JSON::PP`.
fn barewords(code: &str) -> impl Iterator<Item = String> + '_ {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| w.contains("::") && is_module_name(w))
        .flat_map(|w| {
            let package = w.rsplit_once("::").map(|(p, _)| p.to_string());
            std::iter::once(w.to_string()).chain(package.filter(|p| p.contains("::")))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_perl_source_may_load() {
        let src = r#"package Foo;
use strict;
require 'Config_heavy.pl';
my $m = "Carp::" . 'Heavy';
eval "require $m";
Text::Abbrev::abbrev(qw(a b));
my %table = ('euc-jp' => 'Encode::JP');
do "unicore/Name.pl";
require "Encode/$name.pm";
my $list = do "unicore/$table";
print "\N{GREEK SMALL LETTER ALPHA}\n" if $!{ENOENT};
open my $fh, '<:encoding(UTF-8)', $file;
=encoding ISO-8859-2

=head1 SYNOPSIS

  use Pod::Only;

=cut
my $x = 1; # use Not::Comment
__END__
use After::End;
"#;
        let refs = perl_refs(src);
        let modules: BTreeSet<&str> = refs.all_modules().map(String::as_str).collect();
        let modules: Vec<&str> = modules.into_iter().collect();
        assert_eq!(
            modules,
            [
                "Carp::Heavy",
                "Encode",
                "Encode::JP",
                "Errno",
                "PerlIO",
                "PerlIO::encoding",
                "Text::Abbrev",
                "Text::Abbrev::abbrev",
                "_charnames",
                "charnames",
                "strict"
            ]
        );
        let files: Vec<&str> = refs.files.iter().map(String::as_str).collect();
        assert_eq!(files, ["Config_heavy.pl", "unicore/Name.pl"]);
        let prefixes: Vec<&str> = refs.prefixes.iter().map(String::as_str).collect();
        assert_eq!(prefixes, ["Encode/", "unicore/"]);
        // The `:encoding(UTF-8)` layer and the POD's `=encoding`.
        let names: Vec<&str> = refs.encodings.literal.iter().map(String::as_str).collect();
        assert_eq!(names, ["ISO-8859-2", "UTF-8"]);
        assert!(!refs.encodings.computed);
    }
}
