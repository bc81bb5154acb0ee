//! Codec names → the `encodings` modules that implement them.
//!
//! `"x".encode("Latin-1")` looks the codec up by name: CPython lowercases
//! it, `encodings.normalize_encoding` turns each run of other characters
//! than letters, digits and `.` into one `_`, and `encodings.search_function`
//! imports `encodings.<alias target>` or `encodings.<normalized name>`
//! (Lib/encodings/__init__.py). The alias table is read from the image's own
//! `encodings/aliases.py`, so it is the interpreter's, whatever its version.

use std::collections::BTreeMap;

/// The alias table of `encodings/aliases.py`: `'latin1': 'latin_1'` lines.
pub(super) fn parse_aliases(source: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in source.lines() {
        let quoted: Vec<&str> = line.split('\'').collect();
        // `    'alias' : 'module',` splits into ["    ", alias, " : ", module, ","].
        if quoted.len() >= 5 && quoted[2].trim() == ":" && quoted[0].trim().is_empty() {
            out.insert(quoted[1].to_string(), quoted[3].to_string());
        }
    }
    out
}

/// `encodings.normalize_encoding` after CPython's lowercasing.
pub(super) fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut punct = false;
    for c in name.to_lowercase().chars() {
        if c.is_alphanumeric() || c == '.' {
            if punct && !out.is_empty() {
                out.push('_');
            }
            out.push(c);
            punct = false;
        } else {
            punct = true;
        }
    }
    out
}

/// The modules under `encodings` that the codec `name` may be imported
/// from, in the order `search_function` tries them.
pub(super) fn codec_modules(name: &str, aliases: &BTreeMap<String, String>) -> Vec<String> {
    let norm = normalize(name);
    if norm.is_empty() {
        return Vec::new();
    }
    let aliased = aliases
        .get(&norm)
        .or_else(|| aliases.get(&norm.replace('.', "_")));
    let mut out: Vec<String> = aliased
        .into_iter()
        .cloned()
        .chain(std::iter::once(norm))
        // `search_function` refuses names with dots.
        .filter(|m| !m.contains('.'))
        .map(|m| format!("encodings.{m}"))
        .collect();
    out.dedup();
    out
}

/// The codec of a locale such as `de_DE.ISO-8859-1@euro`, if it names one.
pub(super) fn locale_codec(locale: &str) -> Option<&str> {
    let (_, codeset) = locale.split_once('.')?;
    let codeset = codeset.split('@').next().unwrap_or(codeset);
    (!codeset.is_empty()).then_some(codeset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALIASES: &str = "aliases = {\n    # ascii codec\n    '646'                : 'ascii',\n    'latin1'             : 'latin_1',\n    'iso_8859_1'         : 'latin_1',\n    'u8'                 : 'utf_8',\n}\n";

    #[test]
    fn codec_names_resolve_as_the_interpreter_resolves_them() {
        let aliases = parse_aliases(ALIASES);
        assert_eq!(aliases.len(), 4);
        assert_eq!(codec_modules("Latin-1", &aliases), ["encodings.latin_1"]);
        assert_eq!(
            codec_modules("ISO 8859-1", &aliases),
            ["encodings.latin_1", "encodings.iso_8859_1"]
        );
        assert_eq!(codec_modules("UTF-8", &aliases), ["encodings.utf_8"]);
        assert_eq!(codec_modules("idna", &aliases), ["encodings.idna"]);
        assert_eq!(codec_modules("--", &aliases), Vec::<String>::new());
        assert_eq!(locale_codec("de_DE.ISO-8859-15@euro"), Some("ISO-8859-15"));
        assert_eq!(locale_codec("C.UTF-8"), Some("UTF-8"));
        assert_eq!(locale_codec("POSIX"), None);
    }
}
