//! What a Ruby source may load: `require`, `require_relative`, `load` and
//! `autoload` with literal names, read line by line outside `=begin`/`=end`
//! and after `__END__` nothing; and for a source that requires a name it
//! computes (`require lib`), the strings that may be that name: whole
//! literals (`"pr" + "ime"` is one), and the heads of built ones
//! (`"digest/#{name}"`, `File.join('digest', name)`), below which
//! everything may be loaded.

use std::collections::BTreeSet;

/// What one Ruby source names.
#[derive(Debug, Default)]
pub(super) struct RubyRefs {
    /// `require 'json'`, `autoload :X, 'x'`, `load 'x.rb'`: load-path names.
    pub requires: BTreeSet<String>,
    /// `require_relative 'lib/x'`: relative to the source's directory.
    pub relative: BTreeSet<String>,
    /// Whether it requires names it computes.
    pub computed: bool,
    /// Literal strings that may be such a name (used when `computed`).
    pub strings: BTreeSet<String>,
    /// Heads of built names: `digest/` (used when `computed`).
    pub heads: BTreeSet<String>,
}

const LOADERS: &[&str] = &["require", "load", "require_relative", "autoload"];

/// Marks a name relative to the source's directory (`"#{__dir__}/x"`).
const HERE: &str = "\0here/";

/// The code lines: no `=begin` blocks, nothing after `__END__`.
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    let mut doc = false;
    source
        .lines()
        .take_while(|l| *l != "__END__")
        .filter(move |l| {
            if l.starts_with("=begin") {
                doc = true;
            } else if l.starts_with("=end") {
                doc = false;
                return false;
            }
            !doc && !l.trim_start().starts_with('#')
        })
}

pub(super) fn ruby_refs(source: &str) -> RubyRefs {
    let mut refs = RubyRefs::default();
    for line in code_lines(source) {
        let strings = quoted(line);
        for loader in LOADERS {
            for (at, _) in line.match_indices(loader) {
                let before = line[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '.') {
                    continue;
                }
                let rest = &line[at + loader.len()..];
                if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue; // `required`, `loader`
                }
                let rest = rest.trim_start_matches(['(', ' ']);
                let rest = if *loader == "autoload" {
                    // `autoload :Const, "path"` / `autoload(:Const, 'path')`.
                    rest.split_once(',').map_or("", |(_, p)| p.trim_start())
                } else {
                    rest
                };
                match literal(rest) {
                    Some((name, true)) if name.starts_with(HERE) => {
                        refs.relative.insert(name[HERE.len()..].to_string());
                    }
                    Some((name, true)) if *loader == "require_relative" => {
                        refs.relative.insert(name);
                    }
                    Some((head, false)) if head.is_empty() || head.starts_with('/') => {
                        refs.computed = true;
                    }
                    Some((name, true)) => {
                        refs.requires.insert(name);
                    }
                    Some((head, false)) => {
                        refs.computed = true;
                        refs.heads.insert(head);
                    }
                    None if !rest.is_empty() && !rest.starts_with(['=', ')', '?']) => {
                        refs.computed = true;
                    }
                    None => {}
                }
            }
        }
        for (text, whole) in strings {
            if whole {
                refs.strings.insert(text);
            } else if !text.is_empty() {
                refs.heads.insert(text);
            }
        }
        // `File.join('digest', name)`: a head too.
        for (at, _) in line.match_indices("File.join(") {
            if let Some((first, true)) = literal(&line[at + "File.join(".len()..]) {
                refs.heads.insert(format!("{first}/"));
            }
        }
    }
    refs
}

/// The string literal `rest` starts with (`'a'`, `"a"`, `"a" + "b"`),
/// and whether it is whole; for `"a/#{x}"` or `"a" + x` its head.
fn literal(rest: &str) -> Option<(String, bool)> {
    // `File.expand_path("x", __dir__)`: the file `x` next to the source.
    if let Some(inner) = rest.strip_prefix("File.expand_path(") {
        let (name, whole) = literal(inner)?;
        let after = inner[name.len() + 2..].trim_start();
        let here = after
            .strip_prefix(',')
            .is_some_and(|a| a.trim_start().starts_with("__dir__"));
        return (whole && here).then(|| (format!("{HERE}{name}"), true));
    }
    let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &rest[1..];
    let end = body.find(q)?;
    let text = &body[..end];
    if q == '"' {
        // `"#{__dir__}/x"` is the file `x` next to the source.
        if let Some(rest) = text
            .strip_prefix("#{__dir__}/")
            .filter(|r| !r.contains("#{"))
        {
            return Some((format!("{HERE}{rest}"), true));
        }
        if let Some((head, _)) = text.split_once("#{") {
            return Some((head.to_string(), false));
        }
    }
    let after = body[end + 1..].trim_start();
    if let Some(more) = after.strip_prefix('+') {
        return match literal(more.trim_start()) {
            Some((tail, whole)) => Some((format!("{text}{tail}"), whole)),
            None => Some((text.to_string(), false)),
        };
    }
    Some((text.to_string(), true))
}

/// The string literals of a line that look like load names, whole or as heads.
fn quoted(line: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find(['\'', '"']) {
        let Some((text, whole)) = literal(&rest[start..]) else {
            break;
        };
        let name_like = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '-' | '.'));
        if name_like && (whole || text.ends_with('/')) {
            out.push((text.clone(), whole));
        }
        // Past this literal's closing quote.
        let q = rest.as_bytes()[start] as char;
        let after = &rest[start + 1..];
        rest = match after.find(q) {
            Some(end) => &after[end + 1..],
            None => "",
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_ruby_source_may_load() {
        let src = r##"require 'json'
require("digest/sha2")
require_relative "lib/helper"
autoload :Inventory, File.expand_path("inventory", __dir__)
autoload(:Set, 'set')
autoload :SortedSet, "#{__dir__}/set/sorted_set"
# require 'commented'
=begin
require 'in_doc'
=end
lib = "pr" + "ime"
require lib
require "digest/#{name}"
path = File.join('openssl', name)
__END__
require 'after_end'
"##;
        let refs = ruby_refs(src);
        let v = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        assert_eq!(v(&refs.requires), ["digest/sha2", "json", "set"]);
        assert_eq!(
            v(&refs.relative),
            ["inventory", "lib/helper", "set/sorted_set"]
        );
        assert!(refs.computed);
        assert!(refs.strings.contains("prime"), "{:?}", refs.strings);
        assert_eq!(v(&refs.heads), ["digest/", "openssl/"]);
    }
}
