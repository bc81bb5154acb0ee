//! Encode's tables: which of the modules that `Encode` loads by an
//! encoding's name (`Encode::JP` for `euc-jp`, 9 MB of CJK tables in all)
//! the script may need.
//!
//! `Encode::find_encoding` (behind `encode`, `decode`, `from_to` and the
//! `:encoding(...)` layer) requires the module that `Encode::Config`'s
//! `%ExtModule` maps the name to. So the evidence is the names the code
//! passes:
//! - a literal name (`decode('euc-jp', ...)`, `:encoding(UTF-16LE)`) keeps
//!   the module that table maps it to; a name built into Encode (`UTF-8`,
//!   `latin1`, `ascii`) keeps nothing; a name not in the table (an alias,
//!   `sjis`) keeps every table, since aliases resolve at run time;
//! - a computed name (`decode($charset, ...)`) in the script or in a module
//!   outside the core library keeps every table: the name may come from
//!   data (an HTTP charset, a file's declaration);
//! - in the core library, a computed name keeps the tables that the
//!   module's own strings name (JSON::PP decodes the `UTF-16LE` it
//!   detects); the core modules that decode by a name their input gives
//!   ([`DATA_NAMED`]) keep every table;
//! - a POD's `=encoding NAME` is a literal name: `pod2usage` decodes the
//!   script's own POD with it.

use std::collections::{BTreeMap, BTreeSet};

use crate::image_path::ImagePath;
use crate::trace::runtime::encoding_key;
use crate::trace::tracer::Tracer;

/// Core modules that decode by a name their input gives: MIME words
/// (`=?ISO-2022-JP?B?...?=`), the guesser, the `encoding` pragma. A POD's
/// `=encoding` (Pod::Simple, behind `pod2usage`) is read from the sources
/// ([`super::scan`]).
const DATA_NAMED: &[&str] = &[
    "Encode::MIME::Header",
    "Encode::Guess",
    "Encode::Locale",
    "encoding",
];

/// Names Encode defines itself, normalized ([`encoding_key`]).
const BUILT_IN: &[&str] = &[
    "utf8",
    "utf8strict",
    "ascii",
    "usascii",
    "asciictrl",
    "iso88591",
    "latin1",
    "null",
];

/// How the encoding calls of one source name their encodings.
#[derive(Debug, Default, PartialEq)]
pub(super) struct EncodingNames {
    /// Literal names: `euc-jp`, `UTF-8`.
    pub literal: BTreeSet<String>,
    /// Whether some call passes a name computed at run time.
    pub computed: bool,
}

/// Calls whose first argument names an encoding.
const FIRST_ARG: &[&str] = &[
    "encode",
    "decode",
    "find_encoding",
    "find_mime_encoding",
    "encodings",
];

/// The encoding names passed on one line of code.
pub(super) fn line_encodings(code: &str, out: &mut EncodingNames) {
    let outside = outside_strings(code);
    for call in FIRST_ARG.iter().chain(["from_to"].iter()) {
        for (at, _) in code.match_indices(call) {
            if !outside[at] {
                continue;
            }
            let before = &code[..at];
            let after = &code[at + call.len()..];
            let word_start = !before.ends_with(|c: char| c.is_alphanumeric() || c == '_');
            // `$json->encode($data)` is a method of another class, `sub
            // encode {` a definition, `qw(encode decode)` an import list.
            let method = before.ends_with("->") && !before.ends_with("Encode->");
            let definition = before.trim_end().ends_with("sub");
            let listed = in_word_list(before);
            if !word_start
                || method
                || definition
                || listed
                || before.ends_with(['$', '&', '%', '@'])
            {
                continue;
            }
            if !(after.starts_with([' ', '(']) || after.is_empty()) {
                continue;
            }
            let args = after.trim_start();
            if args.starts_with("=>") || args.starts_with(['{', ';', ',', '=']) || args.is_empty() {
                continue;
            }
            let args = args.strip_prefix('(').unwrap_or(args);
            // The arguments go on on the next lines: unseen, so computed.
            if args.trim().is_empty() {
                out.computed = true;
                continue;
            }
            let mut parts = split_args(args);
            if *call == "from_to" {
                parts.remove(0);
                parts.truncate(2);
            } else {
                parts.truncate(1);
            }
            for a in parts {
                arg_name(a, false, out);
            }
        }
    }
    let mut rest = code;
    while let Some(at) = rest.find(":encoding(") {
        rest = &rest[at + ":encoding(".len()..];
        let name = rest.split(')').next().unwrap_or("");
        arg_name(name, true, out);
    }
    if code.contains(":locale") {
        out.computed = true;
    }
}

/// Whether `before` ends inside a `qw(...)` word list.
fn in_word_list(before: &str) -> bool {
    [("qw(", ')'), ("qw/", '/'), ("qw{", '}'), ("qw[", ']')]
        .iter()
        .any(|(open, close)| {
            before
                .rfind(open)
                .is_some_and(|i| !before[i + open.len()..].contains(*close))
        })
}

/// For each byte of `code`, whether it is outside a quoted string.
fn outside_strings(code: &str) -> Vec<bool> {
    let mut out = Vec::with_capacity(code.len() + 1);
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for &b in code.as_bytes() {
        out.push(quote.is_none());
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if b == b'\\' => escaped = true,
            Some(q) if b == q => quote = None,
            None if b == b'\'' || b == b'"' => quote = Some(b),
            _ => {}
        }
    }
    out.push(quote.is_none());
    out
}

/// The arguments of a call, split at top-level commas, up to its end.
fn split_args(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0, None);
    for (i, c) in args.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => {
                out.push(&args[start..i]);
                return out;
            }
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&args[start..i]);
                start = i + 1;
            }
            (None, ';') if depth == 0 => break,
            _ => {}
        }
    }
    let last = args[start..].split(';').next().unwrap_or("");
    out.push(last);
    out
}

/// Record one argument: a literal name, or a computed one; `layer` for
/// the inside of `:encoding(...)`, where a bare word is a name.
fn arg_name(arg: &str, layer: bool, out: &mut EncodingNames) {
    let a = arg.trim();
    if a.is_empty() {
        return;
    }
    let unquoted = a
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| a.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
    match unquoted {
        Some(s) if !s.contains(['$', '@']) => {
            out.literal.insert(s.to_string());
        }
        // A bare layer name: `:encoding(UTF-8)`.
        None if layer
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
        {
            out.literal.insert(a.to_string());
        }
        _ => out.computed = true,
    }
}

/// `Encode::Config`'s `%ExtModule`: encoding names → the modules Encode
/// loads for them, read from the image's own Encode.
pub(super) struct EncodeTables {
    by_name: BTreeMap<String, String>,
    modules: BTreeSet<String>,
}

/// What one encoding name needs.
#[derive(Debug, PartialEq)]
pub(super) enum Needs<'a> {
    Nothing,
    Table(&'a str),
    Every,
}

impl EncodeTables {
    /// The table of the first `Encode/Config.pm` in `dirs`, if Encode is installed.
    pub(super) fn read(t: &Tracer, dirs: &[ImagePath]) -> Option<Self> {
        let text = dirs
            .iter()
            .find_map(|d| t.read_text(d.join("Encode/Config.pm").as_str()))?;
        Some(Self::parse(&text))
    }

    /// `'euc-jp' => 'Encode::JP',` lines.
    pub(super) fn parse(text: &str) -> Self {
        let mut by_name = BTreeMap::new();
        for line in text.lines() {
            let Some((name, module)) = line.split_once("=>") else {
                continue;
            };
            let unquote = |s: &str| {
                s.trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches(['\'', '"'])
                    .to_string()
            };
            let (name, module) = (unquote(name), unquote(module));
            if module.starts_with("Encode::") && !name.is_empty() && !name.contains(' ') {
                by_name.insert(encoding_key(&name), module);
            }
        }
        let modules = by_name.values().cloned().collect();
        EncodeTables { by_name, modules }
    }

    /// Whether `module` (`Encode::JP`, `Encode::JP::JIS7`) is a table or part of one.
    pub(super) fn is_table(&self, module: &str) -> bool {
        self.modules.iter().any(|m| {
            module == m
                || module
                    .strip_prefix(m.as_str())
                    .is_some_and(|r| r.starts_with("::"))
        })
    }

    /// Every table module.
    pub(super) fn all(&self) -> impl Iterator<Item = &String> {
        self.modules.iter()
    }

    /// What the encoding `name` needs.
    pub(super) fn needs(&self, name: &str) -> Needs<'_> {
        let n = encoding_key(name);
        if BUILT_IN.contains(&n.as_str()) {
            Needs::Nothing
        } else if let Some(m) = self.by_name.get(&n) {
            Needs::Table(m)
        } else {
            Needs::Every
        }
    }

    /// The tables a string names, if it is an encoding name of the table.
    pub(super) fn named(&self, s: &str) -> Option<&str> {
        self.by_name.get(&encoding_key(s)).map(String::as_str)
    }

    /// Whether `module` decodes by a name its input gives.
    pub(super) fn data_named(module: &str) -> bool {
        DATA_NAMED.contains(&module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(code: &str) -> EncodingNames {
        let mut out = EncodingNames::default();
        line_encodings(code, &mut out);
        out
    }

    #[test]
    fn literal_and_computed_encoding_names() {
        let n = names("my $s = decode('euc-jp', $bytes); print encode(\"UTF-8\", $s);");
        assert_eq!(n.literal, ["UTF-8", "euc-jp"].map(String::from).into());
        assert!(!n.computed);
        let n = names("Encode::from_to($text, $encoding, 'utf-8');");
        assert!(n.computed);
        assert_eq!(n.literal, ["utf-8".to_string()].into());
        assert!(names("my $x = decode $charset, $body;").computed);
        assert!(names("find_encoding($name)->decode($b)").computed);
        // Methods of other classes, and other words, are not Encode's.
        assert_eq!(
            names("print $json->encode($data); my $y = decoder($z);"),
            EncodingNames::default()
        );
        assert_eq!(names("$pretty->encode($data)"), EncodingNames::default());
        assert_eq!(names("sub encode {"), EncodingNames::default());
        assert_eq!(
            names("use Encode qw(encode decode);"),
            EncodingNames::default()
        );
        assert_eq!(
            names("die \"decode failed: $!\";"),
            EncodingNames::default()
        );
        assert_eq!(
            names("my %h = (encode => \\&encode, decode => 1);"),
            EncodingNames::default()
        );
        // A constant is a name computed elsewhere.
        assert!(names("decode(CHARSET, $b)").computed);
        let n =
            names("binmode STDOUT, ':encoding(UTF-16LE)'; open my $f, '<:encoding(cp1252)', $p;");
        assert_eq!(n.literal, ["UTF-16LE", "cp1252"].map(String::from).into());
        assert!(names("open my $f, \"<:encoding($enc)\", $p;").computed);
        assert!(names("use open qw(:std :locale);").computed);
        // A call whose arguments start on the next line.
        assert!(names("my $text = decode(").computed);
        assert_eq!(
            names("Encode->encodings(':all')").literal,
            [":all".to_string()].into()
        );
    }

    #[test]
    fn names_map_to_the_tables_of_the_image() {
        let tables = EncodeTables::parse(
            "our %ExtModule = (\n    'iso-8859-2' => 'Encode::Byte',\n    'euc-jp'     => 'Encode::JP',\n    'shiftjis'   => 'Encode::JP',\n    'UTF-16LE' => 'Encode::Unicode',\n);\n",
        );
        assert_eq!(tables.needs("Shift_JIS"), Needs::Table("Encode::JP"));
        assert_eq!(tables.needs("EUC-JP"), Needs::Table("Encode::JP"));
        assert_eq!(tables.needs("utf-16le"), Needs::Table("Encode::Unicode"));
        assert_eq!(tables.needs("UTF-8"), Needs::Nothing);
        assert_eq!(tables.needs("latin1"), Needs::Nothing);
        // An alias resolves at run time: every table may be the one.
        assert_eq!(tables.needs("sjis"), Needs::Every);
        assert_eq!(tables.needs(":all"), Needs::Every);
        assert!(tables.is_table("Encode::JP::JIS7"));
        assert!(!tables.is_table("Encode::JPX"));
        assert!(!tables.is_table("Encode::Alias"));
        assert_eq!(tables.all().count(), 3);
    }
}
