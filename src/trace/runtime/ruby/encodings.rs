//! Whether the script may need Ruby's encodings and transcoders (`enc/`,
//! 3.6 MB: `enc/euc_jp.so`, `enc/trans/japanese_euc.so`), which ruby loads
//! by an encoding's name on first use.
//!
//! UTF-8, US-ASCII and ASCII-8BIT are built into ruby, and a string only
//! gets another encoding when code names one: a literal
//! (`force_encoding("Shift_JIS")`, `Encoding::EUC_JP`, `File.read(p, mode:
//! "r:ISO-8859-1")`, a `# encoding:` comment), a name computed at run time
//! (`encode(enc)`: data may name it), the locale's codeset (the default
//! external encoding), or a newline or XML conversion (transcoders too).
//! Any of these in the app's code or a gem's keeps `enc/` whole; so does
//! requiring a standard library that decodes by a name its input gives
//! ([`DATA_NAMED`]: an XML declaration, an ERB magic comment, a charset).
//! The standard library's own encoding calls pass on what the app gives.

use crate::trace::runtime::encoding_key;

/// Standard libraries that decode by a name their input gives.
const DATA_NAMED: &[&str] = &[
    "rexml", "erb", "open-uri", "net/http", "psych", "yaml", "csv", "cgi", "rss", "nkf", "kconv",
];

/// Normalized names ruby has built in (lowercase, letters and digits).
const BUILT_IN: &[&str] = &["utf8", "usascii", "ascii", "ascii8bit", "binary"];

/// Calls and keywords whose first argument or value names an encoding.
const CALLS: &[&str] = &[
    ".encode(",
    ".encode!(",
    ".force_encoding(",
    "Encoding.find(",
    ".set_encoding(",
    "encoding: ",
    "external_encoding: ",
    "internal_encoding: ",
    "Encoding.default_external = ",
    "Encoding.default_internal = ",
];

/// Conversions that load transcoders without naming an encoding.
const CONVERSIONS: &[&str] = &[
    "universal_newline:",
    "crlf_newline:",
    "cr_newline:",
    "lf_newline:",
    "newline:",
    "xml:",
];

fn built_in(name: &str) -> bool {
    BUILT_IN.contains(&encoding_key(name).as_str())
}

/// Why a source needs every encoding, if it does: the encoding or the
/// conversion it names, or that it computes one.
pub(super) fn needs_encodings(source: &str) -> Option<String> {
    for (i, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with('#') {
            // The magic comment of the first two lines.
            let comment = code.to_ascii_lowercase();
            if i < 2 && (comment.contains("coding:") || comment.contains("coding=")) {
                let at = comment.find("coding").unwrap_or(0) + "coding:".len();
                let name: String = comment[at..]
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .collect();
                if !name.is_empty() && !built_in(&name) {
                    return Some(format!("source encoding {name}"));
                }
            }
            continue;
        }
        if let Some(c) = CONVERSIONS.iter().find(|c| code.contains(*c)) {
            return Some(format!("conversion {}", c.trim_end_matches(':')));
        }
        for call in CALLS {
            for (at, _) in code.match_indices(call) {
                let arg = code[at + call.len()..].trim_start();
                if let Some(why) = arg_needs(arg) {
                    return Some(why);
                }
            }
        }
        // A mode string: `"r:EUC-JP"`, `'rb:BOM|UTF-16LE:UTF-8'`.
        for s in quoted(code) {
            let Some((mode, names)) = s.split_once(':') else {
                continue;
            };
            let is_mode = mode.starts_with(['r', 'w', 'a'])
                && mode.len() <= 3
                && mode
                    .chars()
                    .all(|c| matches!(c, 'r' | 'w' | 'a' | 'b' | 't' | '+'));
            if is_mode {
                for n in names.split(':') {
                    let n = n.trim_start_matches("BOM|").trim_start_matches("bom|");
                    if n != "-" && !n.is_empty() && !built_in(n) {
                        return Some(format!("encoding {n}"));
                    }
                }
            }
        }
    }
    None
}

/// What one call's argument needs: a literal name other than the built-in
/// ones, an `Encoding::` constant likewise, or a computed name.
fn arg_needs(arg: &str) -> Option<String> {
    if arg.starts_with(')') {
        return None;
    }
    // The arguments go on on the next line: unseen, so computed.
    if arg.is_empty() {
        return Some("an encoding named at run time".into());
    }
    if let Some(q) = arg.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let inner = &arg[1..];
        let end = inner.find(q)?;
        let name = &inner[..end];
        if name.contains("#{") {
            return Some("an encoding named at run time".into());
        }
        return (!built_in(name)).then(|| format!("encoding {name}"));
    }
    let constant = arg.trim_start_matches("::");
    if let Some(c) = constant.strip_prefix("Encoding::") {
        let name: String = c
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return (!built_in(&name)).then(|| format!("encoding {name}"));
    }
    // `invalid: :replace` and the like convert nothing.
    if arg.starts_with(|c: char| c.is_ascii_lowercase())
        && arg.split_once(':').is_some_and(|(k, rest)| {
            k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && rest.starts_with(' ')
        })
    {
        return None;
    }
    if arg.starts_with("nil") {
        return None;
    }
    Some("an encoding named at run time".into())
}

/// The quoted strings of a line, without interpolation taken apart.
fn quoted(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find(['\'', '"']) {
        let q = rest.as_bytes()[start] as char;
        let after = &rest[start + 1..];
        let Some(end) = after.find(q) else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// Whether requiring `name` brings a library that decodes by a name its
/// input gives.
pub(super) fn data_named(name: &str) -> bool {
    DATA_NAMED
        .iter()
        .any(|d| name == *d || name.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
}

/// Whether the locale `value` (of LC_ALL, LC_CTYPE or LANG) makes another
/// encoding than the built-in ones the default external one.
pub(super) fn locale_needs(value: &str) -> bool {
    match value.split_once('.') {
        Some((_, codeset)) => !built_in(codeset.split('@').next().unwrap_or(codeset)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_makes_a_script_need_encodings() {
        for needs in [
            "s.force_encoding(\"Shift_JIS\")",
            "x = y.encode(Encoding::EUC_JP)",
            "File.read(path, mode: \"r:ISO-8859-1\")",
            "open(f, 'rb:BOM|UTF-16LE:UTF-8')",
            "text.encode(enc)",
            "Encoding.find(name)",
            "io.set_encoding(charset)",
            "File.read(p, encoding: opts[:enc])",
            "s.encode(\"#{base}-JP\")",
            "s.encode(universal_newline: true)",
            "# -*- coding: euc-jp -*-\nputs 1",
            "body = raw.force_encoding(\n  charset\n)",
        ] {
            assert!(needs_encodings(needs).is_some(), "{needs}");
        }
        for not in [
            "s.force_encoding(Encoding::BINARY)",
            "s.encode(::Encoding::UTF_8)",
            "s.encode('UTF-8', invalid: :replace, undef: :replace)",
            "s.encode(invalid: :replace)",
            "File.read(p, encoding: 'utf-8')",
            "File.open(p, 'r:UTF-8:-')",
            "File.open(p, 'rb')",
            "JSON.generate(data.encode)",
            "# frozen_string_literal: true\n# encoding: utf-8",
            "x = {a: 'b:c'}",
        ] {
            assert_eq!(needs_encodings(not), None, "{not}");
        }
        assert!(data_named("rexml/document"));
        assert!(data_named("erb"));
        assert!(!data_named("erbx"));
        assert!(!data_named("json"));
        assert!(locale_needs("ja_JP.eucJP"));
        assert!(!locale_needs("C.UTF-8"));
        assert!(!locale_needs("POSIX"));
    }
}
